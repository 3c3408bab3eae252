package fsys

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// dataSet is files of known checksums written to a filesystem, so every
// resize and check step can prove that no byte of data changed.
type dataSet map[string]string // name -> sha256

// mountAt mounts dev on a fresh directory with the mount tool (the test
// oracle, not the code under test) and returns the directory and the
// unmount; the unmount also runs at cleanup if the test fails first.
func mountAt(t *testing.T, dev string) (string, func()) {
	t.Helper()
	dir := t.TempDir()
	testenv.Run(t, "mount", dev, dir)
	done := false
	umount := func() {
		if !done {
			done = true
			testenv.Run(t, "umount", dir)
		}
	}
	t.Cleanup(func() {
		if !done {
			done = true
			_, _ = testenv.RunErr("umount", "-l", dir)
		}
	})
	return dir, umount
}

// writeData writes n files of size bytes each under dir, from a seeded
// source, and returns their checksums.
func writeData(t *testing.T, dir string, n, size int, seed int64) dataSet {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	ds := dataSet{}
	buf := make([]byte, size)
	for i := 0; i < n; i++ {
		r.Read(buf)
		name := filepath.Join("data", string(rune('a'+i%26))+hex.EncodeToString([]byte{byte(i)}))
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf)
		ds[name] = hex.EncodeToString(sum[:])
	}
	return ds
}

// verify checks every file under dir against its checksum.
func (ds dataSet) verify(t *testing.T, dir, when string) {
	t.Helper()
	for name, want := range ds {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", when, err)
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Errorf("%s: read %s: %v", when, name, err)
			continue
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s: %s checksum %s, want %s", when, name, got, want)
		}
	}
}
