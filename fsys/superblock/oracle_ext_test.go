package superblock

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// extKeyValues parses "Key:   value" lines (dumpe2fs -h, fsck.fat -v and
// swaplabel print them); the first occurrence of a key wins.
func extKeyValues(out []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if _, dup := m[k]; !dup {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// extBlkid runs blkid -p -o export and returns its values unescaped (a
// backslash quotes the next byte).
func extBlkid(t *testing.T, path string) map[string]string {
	t.Helper()
	out, _ := testenv.RunErr("blkid", "-p", "-o", "export", path)
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			b.WriteByte(v[i])
		}
		m[k] = b.String()
	}
	return m
}

// extCatV encodes bytes the way blkid's safe printing does (cat -v: ^A,
// M-x, ^?), so a label with odd bytes can be compared with its output.
func extCatV(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			b.WriteString("M-")
			c &= 0x7f
		}
		switch {
		case c == 0x7f:
			b.WriteString("^?")
		case c < 0x20:
			b.WriteByte('^')
			b.WriteByte(c + 64)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// extImage makes a sparse image file of size bytes in a temp dir.
func extImage(t *testing.T, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func extOpen(t testing.TB, path string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	size, err := f.Seek(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	return f, size
}

var extErrEOF = io.EOF
