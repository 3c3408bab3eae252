package plugintest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Memory is the reference backend: volumes are directories under a root,
// their sizes and snapshots are kept in memory. It passes the suite, needs
// no root, and is what tests of code above the plugin interface use (the
// external plugin's proxy, the Engine, the CSI driver).
type Memory struct {
	root     string
	pool     string
	capacity int64
	faults   Faults

	mu    sync.Mutex
	vols  map[string]*memVol
	snaps map[string]*memSnap // by snapshot ID
}

// Faults make a Memory backend wrong in one way, for the suite's own tests.
type Faults struct {
	// BrokenSnapshots declares snapshots and fails to take them.
	BrokenSnapshots bool
	// NoRounding reports sizes exactly as asked, off the granularity.
	NoRounding bool
	// NotIdempotent plans a repeat create as if the volume were new.
	NotIdempotent bool
	// AcceptsBadNames skips name validation.
	AcceptsBadNames bool
}

type memVol struct {
	v plugin.Volume
}

type memSnap struct {
	s   plugin.Snapshot
	dir string // a copy of the volume's directory at the snapshot
}

// MemoryGranularity is what Memory rounds sizes up to.
const MemoryGranularity = 1 << 20

// NewMemory returns a Memory backend keeping its volumes' directories under
// root, with one pool of capacity bytes.
func NewMemory(root, pool string, capacity int64, faults Faults) (*Memory, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	return &Memory{root: root, pool: pool, capacity: capacity, faults: faults,
		vols: map[string]*memVol{}, snaps: map[string]*memSnap{}}, nil
}

func (m *Memory) Name() string { return "memory" }

func (m *Memory) Limits() plugin.Limits {
	return plugin.Limits{MaxNameLen: 64, NameChars: "._-", Granularity: MemoryGranularity, MinSize: MemoryGranularity}
}

func (m *Memory) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	var out plugin.Capabilities
	for _, tm := range [][2]string{
		{"volume", "create"}, {"volume", "remove"}, {"volume", "modify"}, {"volume", "query"},
		{"shrink", "modify"}, {"snapshot", "create"}, {"snapshot", "remove"}, {"snapshot", "query"},
		{"clone", "create"}, {"directory", "create"}, {"directory", "query"},
	} {
		out = append(out, plugin.Capability{Technology: plugin.Technology(tm[0]), Mode: plugin.Mode(tm[1]), Available: true})
	}
	out = append(out, plugin.Capability{Technology: plugin.TechThin, Mode: plugin.ModeCreate, Reason: "memory volumes are not provisioned"},
		plugin.Capability{Technology: plugin.TechBlock, Mode: plugin.ModeCreate, Reason: "memory volumes are directories"})
	return out, nil
}

func (m *Memory) validName(s string) error {
	if m.faults.AcceptsBadNames {
		return nil
	}
	bad := func(why string) error { return &plugin.InvalidError{Field: "name", Value: s, Reason: why} }
	if s == "" || len(s) > m.Limits().MaxNameLen {
		return bad("empty or too long")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if (i == 0 && !alnum) || (!alnum && !strings.ContainsRune("._-", rune(c))) {
			return bad("letters, digits and . _ - only, starting with a letter or digit")
		}
	}
	return nil
}

func (m *Memory) round(n int64) int64 {
	if m.faults.NoRounding {
		return n
	}
	return (n + MemoryGranularity - 1) / MemoryGranularity * MemoryGranularity
}

func (m *Memory) allocated() int64 {
	var n int64
	for _, v := range m.vols {
		n += v.v.SizeBytes
	}
	return n
}

func (m *Memory) Pools(ctx context.Context) ([]plugin.Pool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.allocated()
	return []plugin.Pool{{Name: m.pool, Backend: m.Name(), CapacityBytes: m.capacity, FreeBytes: max(m.capacity-a, 0),
		AllocatedBytes: a, OverProvisioning: float64(a) / float64(m.capacity)}}, nil
}

func (m *Memory) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	if pool != "" && pool != m.pool {
		return nil, fmt.Errorf("pool %q: %w", pool, plugin.ErrNotFound)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]plugin.Volume, 0, len(m.vols))
	for _, v := range m.vols {
		out = append(out, v.v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *Memory) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vols[id]
	if !ok {
		return nil, fmt.Errorf("volume %s: %w", id, plugin.ErrNotFound)
	}
	c := v.v
	return &c, nil
}

func (m *Memory) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []plugin.Snapshot
	for _, s := range m.snaps {
		if volumeID == "" || s.s.SourceID == volumeID {
			out = append(out, s.s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *Memory) key(id string) sched.Key { return sched.Root("memory", m.root).Child("volume", id) }

func (m *Memory) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if req.Pool != m.pool {
		return nil, fmt.Errorf("pool %q: %w", req.Pool, plugin.ErrNotFound)
	}
	if err := m.validName(req.Name); err != nil {
		return nil, err
	}
	if req.SizeBytes <= 0 {
		return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: "must be positive"}
	}
	size := m.round(req.SizeBytes)
	id := m.pool + "/" + req.Name
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vols[id]; ok && !m.faults.NotIdempotent {
		if v.v.SizeBytes == size && v.v.SnapshotOf == req.FromSnapshot {
			return nil, nil
		}
		return nil, fmt.Errorf("volume %s: %w", id, plugin.ErrExists)
	}
	if size > m.capacity-m.allocated() {
		return nil, fmt.Errorf("%d bytes asked, %d free: %w", size, m.capacity-m.allocated(), plugin.ErrNoSpace)
	}
	var from *memSnap
	if req.FromSnapshot != "" {
		if from = m.snaps[req.FromSnapshot]; from == nil {
			return nil, fmt.Errorf("snapshot %s: %w", req.FromSnapshot, plugin.ErrNotFound)
		}
	}
	dir := filepath.Join(m.root, req.Name)
	op := sched.Operation{ID: "memory.create " + id, Kind: "memory.create", Resources: []sched.Resource{m.key(id).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			if _, ok := m.vols[id]; ok {
				if m.faults.NotIdempotent {
					return fmt.Errorf("volume %s: %w", id, plugin.ErrExists)
				}
				return nil
			}
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			if from != nil {
				if err := copyDir(from.dir, dir); err != nil {
					return err
				}
			}
			m.vols[id] = &memVol{v: plugin.Volume{ID: id, Name: req.Name, Pool: m.pool, SizeBytes: size, UsedBytes: -1,
				Path: dir, SnapshotOf: req.FromSnapshot, Tags: req.Tags}}
			return nil
		},
		Rollback: func(ctx context.Context) error { return m.deleteNow(id) },
	}
	return []sched.Operation{op}, nil
}

func (m *Memory) deleteNow(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vols[id]
	if !ok {
		return nil
	}
	delete(m.vols, id)
	return os.RemoveAll(v.v.Path)
}

func (m *Memory) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	if newBytes <= 0 {
		return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(newBytes), Reason: "must be positive"}
	}
	size := m.round(newBytes)
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vols[id]
	if !ok {
		return nil, fmt.Errorf("volume %s: %w", id, plugin.ErrNotFound)
	}
	if v.v.SizeBytes == size {
		return nil, nil
	}
	if size-v.v.SizeBytes > m.capacity-m.allocated() {
		return nil, plugin.ErrNoSpace
	}
	old := v.v.SizeBytes
	set := func(n int64) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if v, ok := m.vols[id]; ok {
			v.v.SizeBytes = n
			return nil
		}
		return fmt.Errorf("volume %s: %w", id, plugin.ErrNotFound)
	}
	return []sched.Operation{{ID: "memory.resize " + id, Kind: "memory.resize", Resources: []sched.Resource{m.key(id).Exclusive()},
		Execute:  func(ctx context.Context, _ sched.Progress) error { return set(size) },
		Rollback: func(ctx context.Context) error { return set(old) }}}, nil
}

func (m *Memory) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	m.mu.Lock()
	_, ok := m.vols[id]
	m.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return []sched.Operation{{ID: "memory.delete " + id, Kind: "memory.delete", Resources: []sched.Resource{m.key(id).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error { return m.deleteNow(id) }}}, nil
}

func (m *Memory) CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error) {
	if err := m.validName(name); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vols[volumeID]
	if !ok {
		return nil, fmt.Errorf("volume %s: %w", volumeID, plugin.ErrNotFound)
	}
	id := volumeID + "@" + name
	if _, ok := m.snaps[id]; ok {
		return nil, nil
	}
	src := v.v
	dir := filepath.Join(m.root, ".snapshots", strings.ReplaceAll(id, "/", "_"))
	return []sched.Operation{{ID: "memory.snapshot " + id, Kind: "memory.snapshot",
		Resources: []sched.Resource{m.key(volumeID).Shared(), m.key(id).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			if m.faults.BrokenSnapshots {
				return errors.New("memory: snapshots are broken (fault)")
			}
			if err := copyDir(src.Path, dir); err != nil {
				return err
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			m.snaps[id] = &memSnap{s: plugin.Snapshot{ID: id, Name: name, SourceID: volumeID, Size: src.SizeBytes,
				ReadOnly: true, Created: time.Now()}, dir: dir}
			return nil
		},
		Rollback: func(ctx context.Context) error { return m.deleteSnapNow(id) },
	}}, nil
}

func (m *Memory) deleteSnapNow(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.snaps[id]
	if !ok {
		return nil
	}
	delete(m.snaps, id)
	return os.RemoveAll(s.dir)
}

func (m *Memory) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	m.mu.Lock()
	_, ok := m.snaps[snapshotID]
	m.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return []sched.Operation{{ID: "memory.snapshot-delete " + snapshotID, Kind: "memory.snapshot-delete",
		Resources: []sched.Resource{m.key(snapshotID).Exclusive()},
		Execute:   func(ctx context.Context, _ sched.Progress) error { return m.deleteSnapNow(snapshotID) }}}, nil
}

// copyDir copies the regular files of src into dst (volumes of the memory
// backend hold only what tests write).
func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

var _ plugin.Backend = (*Memory)(nil)
