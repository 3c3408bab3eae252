package testenv

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// PatchFile writes b at off in the file at path (damaging an image on
// purpose); any failure fails the test.
func PatchFile(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// ReadFileAt returns n bytes at off of the file at path; a short read fails
// the test.
func ReadFileAt(t testing.TB, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// CorpusEnv names the directory of util-linux's blkid test images that
// scripts/blkid-corpus.sh prepares; DefaultCorpus is where it puts them.
const (
	CorpusEnv     = "EOS_STORAGE_BLKID_CORPUS"
	DefaultCorpus = "/var/cache/eos-storage/blkid-corpus"
)

// BlkidCorpus returns the decompressed images of util-linux's blkid test
// corpus (images-fs and images-pt), sorted by name, skipping (or failing
// under strict) when scripts/blkid-corpus.sh has not prepared them.
func BlkidCorpus(t testing.TB) []string {
	t.Helper()
	dir := os.Getenv(CorpusEnv)
	if dir == "" {
		dir = DefaultCorpus
	}
	var imgs []string
	for _, sub := range []string{"images-fs", "images-pt"} {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*.img"))
		imgs = append(imgs, m...)
	}
	if len(imgs) == 0 {
		Skip(t, "no blkid corpus in %s (make test runs scripts/blkid-corpus.sh)", dir)
	}
	sort.Strings(imgs)
	return imgs
}
