package fsys

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
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

// The fast mount checks (ustat, /sys/fs/btrfs) never miss a mount: a
// mounted filesystem lists its mountpoint and statfs's free space, an
// unmounted one none.
func TestInspectMounted(t *testing.T) {
	testenv.RequireRoot(t)
	for _, mk := range [][]string{{"mkfs.ext4", "-q", "-F"}, {"mkfs.xfs", "-q", "-f"}, {"mkfs.btrfs", "-q", "-f"}} {
		t.Run(mk[0], func(t *testing.T) {
			testenv.RequireTool(t, mk[0])
			dev := testenv.Loop(t, 320<<20)
			testenv.Run(t, mk[0], append(mk[1:], dev)...)
			m, err := New()
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			info, err := m.Inspect(ctx, dev)
			if err != nil || len(info.Mountpoints) != 0 || info.FreeFrom != "superblock" {
				t.Fatalf("unmounted: %v %+v", err, info)
			}
			dir := mountTemp(t, dev)
			info, err = m.Inspect(ctx, dev)
			if err != nil || len(info.Mountpoints) != 1 || info.Mountpoints[0] != dir || info.FreeFrom != "statfs" {
				t.Fatalf("mounted at %s: %v %+v", dir, err, info)
			}
			if info.FreeBytes <= 0 || info.FreeBytes > info.SizeBytes {
				t.Errorf("free %d of %d", info.FreeBytes, info.SizeBytes)
			}
			umount(t, dir)
			if info, err = m.Inspect(ctx, dev); err != nil || len(info.Mountpoints) != 0 {
				t.Fatalf("after umount: %v %+v", err, info)
			}
		})
	}
}
