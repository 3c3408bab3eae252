package fsys

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// The cache reads each 4 KiB block once, however the readers slice it,
// and reports the end of the device.
func TestBlockCache(t *testing.T) {
	data := make([]byte, 3*cacheBlock+100)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cr := &countingReader{r: bytes.NewReader(data)}
	c := &blockCache{r: cr, size: int64(len(data)), blocks: map[int64][]byte{}}
	for _, r := range []struct{ off, n int }{{0, 10}, {1024, 512}, {4000, 200}, {4096, 4096}, {100, 3}} {
		p := make([]byte, r.n)
		if n, err := c.ReadAt(p, int64(r.off)); err != nil || n != r.n || !bytes.Equal(p, data[r.off:r.off+r.n]) {
			t.Fatalf("ReadAt(%d, %d): %d %v", r.off, r.n, n, err)
		}
	}
	if cr.reads != 2 {
		t.Errorf("%d device reads for two blocks", cr.reads)
	}
	p := make([]byte, 200)
	n, err := c.ReadAt(p, int64(len(data)-50))
	if n != 50 || err != io.EOF || !bytes.Equal(p[:50], data[len(data)-50:]) {
		t.Errorf("read across the end: %d %v", n, err)
	}
	if _, err := c.ReadAt(p, -1); err == nil {
		t.Error("negative offset accepted")
	}
}

// A container header over an old filesystem is named, never read through.
func TestDetectContainers(t *testing.T) {
	m, err := New(WithRunner(mustReplayer(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range containers {
		data := make([]byte, 1<<20)
		copy(data[k.off:], k.magic)
		c := &blockCache{r: bytes.NewReader(data), size: int64(len(data)), blocks: map[int64][]byte{}}
		_, _, _, err := m.detect(c)
		if !errors.Is(err, ErrUnknownFilesystem) || !bytes.Contains([]byte(err.Error()), []byte(k.what)) {
			t.Errorf("%s at %d: %v", k.what, k.off, err)
		}
	}
	c := &blockCache{r: bytes.NewReader(make([]byte, 1<<20)), size: 1 << 20, blocks: map[int64][]byte{}}
	if _, _, _, err := m.detect(c); !errors.Is(err, ErrUnknownFilesystem) {
		t.Errorf("zeroes: %v", err)
	}
}
