package superblock

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// extSeeds loads the gzipped seed images under testdata/dir: the first
// few KiB of filesystems the real tools made.
func extSeeds(f *testing.F, dir string) {
	f.Helper()
	paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.img.gz"))
	if len(paths) == 0 {
		f.Fatalf("no seeds in testdata/%s", dir)
	}
	for _, p := range paths {
		f.Add(extGunzip(f, p))
	}
}

func extGunzip(tb testing.TB, path string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// extFuzzCheck: any error must be ErrNotFound or a *CorruptError (the
// input is all there is, so no other I/O error can happen).
func extFuzzCheck(t *testing.T, err error) {
	var ce *CorruptError
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &ce) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzExt(f *testing.F) {
	extSeeds(f, "ext")
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ReadExt(bytes.NewReader(b), int64(len(b)))
		extFuzzCheck(t, err)
		if err == nil {
			s := e.Super()
			if s.SizeBytes < 0 || s.FreeBytes > s.SizeBytes {
				t.Fatalf("sizes %d free %d", s.SizeBytes, s.FreeBytes)
			}
		}
	})
}

func FuzzFAT(f *testing.F) {
	extSeeds(f, "fat")
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ReadFAT(bytes.NewReader(b), int64(len(b)))
		extFuzzCheck(t, err)
		if err == nil {
			if s := fs.Super(); s.FreeBytes > s.SizeBytes {
				t.Fatalf("free %d of %d", s.FreeBytes, s.SizeBytes)
			}
		}
	})
}

func FuzzSwap(f *testing.F) {
	extSeeds(f, "swap")
	f.Fuzz(func(t *testing.T, b []byte) {
		sw, err := ReadSwap(bytes.NewReader(b), int64(len(b)))
		extFuzzCheck(t, err)
		if err == nil && sw.Super().SizeBytes <= 0 {
			t.Fatalf("size %d", sw.Super().SizeBytes)
		}
	})
}

// TestSeedsParse: the committed seeds are real filesystems and read back.
func TestSeedsParse(t *testing.T) {
	for dir, read := range map[string]func([]byte) error{
		"ext":  func(b []byte) error { _, err := ReadExt(bytes.NewReader(b), 16<<20); return err },
		"swap": func(b []byte) error { _, err := ReadSwap(bytes.NewReader(b), int64(len(b))); return err },
		"fat": func(b []byte) error {
			_, err := ReadFAT(bytes.NewReader(b), int64(len(b)))
			if errors.Is(err, ErrCorrupt) && len(b) <= 8192 { // FAT32 head: root dir cut off
				return nil
			}
			return err
		},
	} {
		paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.img.gz"))
		for _, p := range paths {
			if err := read(extGunzip(t, p)); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
}
