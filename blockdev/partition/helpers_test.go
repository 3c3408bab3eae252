package partition

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// memDev is a sparse in-memory disk: only written sectors take memory, so
// thousands of layouts cost little.
type memDev struct {
	mu     sync.Mutex
	size   int64
	chunks map[int64][]byte // 512-byte chunks by index
}

const chunk = 512

func newMemDev(size int64) *memDev { return &memDev{size: size, chunks: map[int64][]byte{}} }

func (m *memDev) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off+int64(len(p)) > m.size {
		return 0, os.ErrInvalid
	}
	for n := 0; n < len(p); {
		o := off + int64(n)
		in := int(o % chunk)
		k := min(chunk-in, len(p)-n)
		if c, ok := m.chunks[o/chunk]; ok {
			copy(p[n:n+k], c[in:in+k])
		} else {
			clear(p[n : n+k])
		}
		n += k
	}
	return len(p), nil
}

func (m *memDev) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off+int64(len(p)) > m.size {
		return 0, os.ErrInvalid
	}
	for n := 0; n < len(p); {
		o := off + int64(n)
		in := int(o % chunk)
		k := min(chunk-in, len(p)-n)
		c, ok := m.chunks[o/chunk]
		if !ok {
			c = make([]byte, chunk)
			m.chunks[o/chunk] = c
		}
		copy(c[in:in+k], p[n:n+k])
		n += k
	}
	return len(p), nil
}

func (m *memDev) Sync() error { return nil }

func (m *memDev) clone() *memDev {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemDev(m.size)
	for k, v := range m.chunks {
		c.chunks[k] = append([]byte(nil), v...)
	}
	return c
}

func geo512(size int64) Geometry {
	return Geometry{Size: size, SectorSize: 512, PhysicalSectorSize: 512}
}

// image makes a sparse image file of size bytes.
func image(t testing.TB, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func openT(t testing.TB, path string, opts ...Option) *Disk {
	t.Helper()
	d, err := Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// sfdiskDump runs sfdisk --json on path.
func sfdiskDump(t testing.TB, path string, extra ...string) Dump {
	t.Helper()
	testenv.RequireTool(t, "sfdisk")
	out := testenv.Run(t, "sfdisk", append(extra, "--json", path)...)
	var d Dump
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("sfdisk --json: %v\n%s", err, out)
	}
	return d
}

// sameAsSfdisk compares our reading of path with sfdisk's.
func sameAsSfdisk(t testing.TB, path string, tab *Table, extra ...string) {
	t.Helper()
	want := sfdiskDump(t, path, extra...)
	got := tab.Dump(path)
	sort.Slice(want.PartitionTable.Partitions, func(i, j int) bool {
		return want.PartitionTable.Partitions[i].Node < want.PartitionTable.Partitions[j].Node
	})
	sort.Slice(got.PartitionTable.Partitions, func(i, j int) bool {
		return got.PartitionTable.Partitions[i].Node < got.PartitionTable.Partitions[j].Node
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ours differs from sfdisk --json (-sfdisk +ours):\n%s", diff)
	}
}

func mustRead(t testing.TB, d *Disk) *Table {
	t.Helper()
	tab, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func mustAdd(t testing.TB, tab *Table, spec AddSpec) Partition {
	t.Helper()
	p, err := tab.Add(spec)
	if err != nil {
		t.Fatalf("Add(%+v): %v", spec, err)
	}
	return p
}

func mustSize(t testing.TB, s string) Size {
	t.Helper()
	v, err := ParseSize(s, 512)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func cmpDiff(a, b any) string { return cmp.Diff(a, b) }
