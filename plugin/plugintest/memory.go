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

// Memory is a reference Backend that keeps its pools and volumes in memory
// (and, with MemoryDir, each volume's directory on disk). It does what the
// interface promises and nothing else, so the suite is tested against it,
// and other packages use it where they need a backend that is not a real
// volume manager. It is safe for concurrent use.
type Memory struct {
	name   string
	limits plugin.Limits
	dir    string
	off    map[plugin.Technology]bool

	mu    sync.Mutex
	pools map[string]*memPool
	snaps map[string]*plugin.Snapshot // by ID
}

type memPool struct {
	name     string
	capacity int64
	vols     map[string]*plugin.Volume // by name
}

// MemoryOption configures NewMemory.
type MemoryOption func(*Memory) error

// MemoryName sets the backend's name ("memory" otherwise).
func MemoryName(n string) MemoryOption {
	return func(m *Memory) error {
		if n == "" {
			return errors.New("plugintest: empty backend name")
		}
		m.name = n
		return nil
	}
}

// MemoryPool adds a pool of capacity bytes.
func MemoryPool(name string, capacity int64) MemoryOption {
	return func(m *Memory) error {
		if name == "" || capacity <= 0 {
			return fmt.Errorf("plugintest: pool %q of %d bytes", name, capacity)
		}
		if _, ok := m.pools[name]; ok {
			return fmt.Errorf("plugintest: pool %q twice", name)
		}
		m.pools[name] = &memPool{name: name, capacity: capacity, vols: map[string]*plugin.Volume{}}
		return nil
	}
}

// MemoryLimits replaces the default limits (names of 64 bytes of letters,
// digits and "_-.", 1 MiB granularity and minimum).
func MemoryLimits(l plugin.Limits) MemoryOption {
	return func(m *Memory) error {
		if l.MaxNameLen <= 0 || l.Granularity <= 0 {
			return fmt.Errorf("plugintest: limits %+v", l)
		}
		m.limits = l
		return nil
	}
}

// MemoryDir makes volumes directory volumes: each gets dir/pool/name,
// created with the volume and removed with it.
func MemoryDir(dir string) MemoryOption {
	return func(m *Memory) error {
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("plugintest: dir %q is not absolute", dir)
		}
		m.dir = dir
		return nil
	}
}

// MemoryWithout reports technologies as unavailable (and refuses them), as
// a backend lacking them would.
func MemoryWithout(ts ...plugin.Technology) MemoryOption {
	return func(m *Memory) error {
		for _, t := range ts {
			m.off[t] = true
		}
		return nil
	}
}

// NewMemory returns a memory backend; without MemoryPool it has one pool,
// "mem", of 1 GiB.
func NewMemory(opts ...MemoryOption) (*Memory, error) {
	m := &Memory{
		name:   "memory",
		limits: plugin.Limits{MaxNameLen: 64, NameChars: "_-.", Granularity: 1 << 20, MinSize: 1 << 20},
		off:    map[plugin.Technology]bool{},
		pools:  map[string]*memPool{},
		snaps:  map[string]*plugin.Snapshot{},
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("plugintest: nil MemoryOption")
		}
		if err := o(m); err != nil {
			return nil, err
		}
	}
	if len(m.pools) == 0 {
		m.pools["mem"] = &memPool{name: "mem", capacity: 1 << 30, vols: map[string]*plugin.Volume{}}
	}
	if m.dir == "" {
		m.off[plugin.TechDirectory] = true
	}
	m.off[plugin.TechBlock] = true
	return m, nil
}

func (m *Memory) Name() string          { return m.name }
func (m *Memory) Limits() plugin.Limits { return m.limits }

// Capabilities reports every technology in every mode that applies to it,
// available unless MemoryWithout turned it off.
func (m *Memory) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	var c plugin.Capabilities
	add := func(t plugin.Technology, modes ...plugin.Mode) {
		for _, md := range modes {
			x := plugin.Capability{Technology: t, Mode: md, Available: !m.off[t]}
			if !x.Available {
				x.Reason = "turned off (MemoryWithout)"
				if t == plugin.TechBlock {
					x.Reason = "memory volumes have no device"
				}
				if t == plugin.TechDirectory {
					x.Reason = "no MemoryDir"
				}
			}
			c = append(c, x)
		}
	}
	all := []plugin.Mode{plugin.ModeCreate, plugin.ModeRemove, plugin.ModeModify, plugin.ModeQuery}
	add(plugin.TechVolume, all...)
	add(plugin.TechThin, all...)
	add(plugin.TechShrink, plugin.ModeModify)
	add(plugin.TechSnapshot, plugin.ModeCreate, plugin.ModeRemove, plugin.ModeQuery)
	add(plugin.TechClone, plugin.ModeCreate)
	add(plugin.TechBlock, all...)
	add(plugin.TechDirectory, all...)
	return c, ctx.Err()
}

func (m *Memory) unavailable(t plugin.Technology, md plugin.Mode) error {
	if !m.off[t] {
		return nil
	}
	caps, _ := m.Capabilities(context.Background())
	return plugin.Require(m.name, caps, t, md)
}

func (p *memPool) allocated(thickOnly bool) int64 {
	var n int64
	for _, v := range p.vols {
		if !thickOnly || !v.Thin {
			n += v.SizeBytes
		}
	}
	return n
}

func (m *Memory) Pools(ctx context.Context) ([]plugin.Pool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []plugin.Pool
	for _, p := range m.pools {
		a := p.allocated(false)
		out = append(out, plugin.Pool{Name: p.name, Backend: m.name, CapacityBytes: p.capacity,
			FreeBytes: p.capacity - p.allocated(true), AllocatedBytes: a,
			OverProvisioning: float64(a) / float64(p.capacity), Thin: !m.off[plugin.TechThin]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, ctx.Err()
}

func cloneVol(v *plugin.Volume) plugin.Volume {
	c := *v
	c.Tags = append([]string(nil), v.Tags...)
	return c
}

func (m *Memory) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pool != "" && m.pools[pool] == nil {
		return nil, fmt.Errorf("pool %q: %w", pool, plugin.ErrNotFound)
	}
	var out []plugin.Volume
	for _, p := range m.pools {
		if pool != "" && p.name != pool {
			continue
		}
		for _, v := range p.vols {
			out = append(out, cloneVol(v))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, ctx.Err()
}

// splitID splits "pool/name".
func splitID(id string) (pool, name string, ok bool) {
	pool, name, ok = strings.Cut(id, "/")
	return pool, name, ok && pool != "" && name != ""
}

func (m *Memory) lookup(id string) (*memPool, *plugin.Volume, error) {
	pool, name, ok := splitID(id)
	if !ok {
		return nil, nil, &plugin.InvalidError{Field: "volume", Value: id, Reason: "not pool/name"}
	}
	p := m.pools[pool]
	if p == nil {
		return nil, nil, fmt.Errorf("pool %q: %w", pool, plugin.ErrNotFound)
	}
	v := p.vols[name]
	if v == nil {
		return p, nil, fmt.Errorf("volume %q: %w", id, plugin.ErrNotFound)
	}
	return p, v, nil
}

func (m *Memory) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, v, err := m.lookup(id)
	if err != nil {
		return nil, err
	}
	c := cloneVol(v)
	return &c, ctx.Err()
}

func (m *Memory) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	if err := m.unavailable(plugin.TechSnapshot, plugin.ModeQuery); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []plugin.Snapshot
	for _, s := range m.snaps {
		if volumeID == "" || s.SourceID == volumeID {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, ctx.Err()
}

func (m *Memory) key(pool, name string) sched.Resource {
	return sched.Root(m.name, pool).Child("volume", name).Exclusive()
}

// op builds one operation whose Execute runs f under the backend's lock.
func (m *Memory) op(kind, id string, res sched.Resource, do, undo func() error) sched.Operation {
	o := sched.Operation{ID: kind + " " + id, Kind: m.name + "." + kind, Resources: []sched.Resource{res},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			return do()
		}}
	if undo != nil {
		o.Rollback = func(ctx context.Context) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			return undo()
		}
	}
	return o
}

func (m *Memory) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if err := plugin.CheckName(m.limits, "name", req.Name); err != nil {
		return nil, err
	}
	size, err := plugin.RoundSize(m.limits, "size", req.SizeBytes)
	if err != nil {
		return nil, err
	}
	if err := m.unavailable(plugin.TechVolume, plugin.ModeCreate); err != nil {
		return nil, err
	}
	if req.Thin {
		if err := m.unavailable(plugin.TechThin, plugin.ModeCreate); err != nil {
			return nil, err
		}
	}
	if req.FromSnapshot != "" {
		if err := m.unavailable(plugin.TechClone, plugin.ModeCreate); err != nil {
			return nil, err
		}
	}
	switch req.Kind {
	case "", plugin.TechDirectory:
		if req.Kind != "" {
			if err := m.unavailable(plugin.TechDirectory, plugin.ModeCreate); err != nil {
				return nil, err
			}
		}
	default:
		return nil, m.unavailableKind(req.Kind)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.pools[req.Pool]
	if p == nil {
		return nil, fmt.Errorf("pool %q: %w", req.Pool, plugin.ErrNotFound)
	}
	if req.FromSnapshot != "" {
		if m.snaps[req.FromSnapshot] == nil {
			return nil, fmt.Errorf("snapshot %q: %w", req.FromSnapshot, plugin.ErrNotFound)
		}
	}
	id := req.Pool + "/" + req.Name
	if v := p.vols[req.Name]; v != nil {
		if v.SizeBytes == size && v.Thin == req.Thin && v.SnapshotOf == req.FromSnapshot {
			return nil, nil
		}
		return nil, fmt.Errorf("volume %q (%d bytes): %w", id, v.SizeBytes, plugin.ErrExists)
	}
	if !req.Thin && size > p.capacity-p.allocated(true) {
		return nil, fmt.Errorf("volume %q: %d bytes, %d free: %w", id, size, p.capacity-p.allocated(true), plugin.ErrNoSpace)
	}
	v := &plugin.Volume{ID: id, Name: req.Name, Pool: req.Pool, SizeBytes: size, UsedBytes: 0,
		Thin: req.Thin, SnapshotOf: req.FromSnapshot, Tags: append([]string(nil), req.Tags...)}
	if m.dir != "" {
		v.Path = filepath.Join(m.dir, req.Pool, req.Name)
	}
	do := func() error {
		if p.vols[req.Name] != nil {
			return fmt.Errorf("volume %q: %w", id, plugin.ErrExists)
		}
		if !v.Thin && v.SizeBytes > p.capacity-p.allocated(true) {
			return fmt.Errorf("volume %q: %w", id, plugin.ErrNoSpace)
		}
		if v.Path != "" {
			if err := os.MkdirAll(v.Path, 0o755); err != nil {
				return err
			}
		}
		c := cloneVol(v)
		p.vols[req.Name] = &c
		return nil
	}
	undo := func() error {
		delete(p.vols, req.Name)
		if v.Path != "" {
			return os.RemoveAll(v.Path)
		}
		return nil
	}
	return []sched.Operation{m.op("create", id, m.key(req.Pool, req.Name), do, undo)}, nil
}

func (m *Memory) unavailableKind(k plugin.Technology) error {
	caps, _ := m.Capabilities(context.Background())
	return plugin.Require(m.name, caps, k, plugin.ModeCreate)
}

func (m *Memory) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	size, err := plugin.RoundSize(m.limits, "size", newBytes)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, v, err := m.lookup(id)
	if err != nil {
		return nil, err
	}
	old := v.SizeBytes
	switch {
	case size == old:
		return nil, nil
	case size < old:
		if err := m.unavailable(plugin.TechShrink, plugin.ModeModify); err != nil {
			return nil, err
		}
	case !v.Thin && size-old > p.capacity-p.allocated(true):
		return nil, fmt.Errorf("volume %q: %d more bytes, %d free: %w", id, size-old, p.capacity-p.allocated(true), plugin.ErrNoSpace)
	}
	name := v.Name
	set := func(to, from int64) func() error {
		return func() error {
			v := p.vols[name]
			if v == nil {
				return fmt.Errorf("volume %q: %w", id, plugin.ErrNotFound)
			}
			if !v.Thin && to > from && to-from > p.capacity-p.allocated(true) {
				return fmt.Errorf("volume %q: %w", id, plugin.ErrNoSpace)
			}
			v.SizeBytes = to
			return nil
		}
	}
	return []sched.Operation{m.op("resize", id, m.key(p.name, name), set(size, old), set(old, size))}, nil
}

func (m *Memory) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, v, err := m.lookup(id)
	if errors.Is(err, plugin.ErrNotFound) && p != nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, s := range m.snaps {
		if s.SourceID == id {
			return nil, fmt.Errorf("volume %q has snapshot %q: %w", id, s.ID, plugin.ErrInUse)
		}
	}
	if err := m.unavailable(plugin.TechVolume, plugin.ModeRemove); err != nil {
		return nil, err
	}
	name, path := v.Name, v.Path
	return []sched.Operation{m.op("delete", id, m.key(p.name, name), func() error {
		delete(p.vols, name)
		if path != "" {
			return os.RemoveAll(path)
		}
		return nil
	}, nil)}, nil
}

func (m *Memory) CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error) {
	if err := plugin.CheckName(m.limits, "snapshot", name); err != nil {
		return nil, err
	}
	if err := m.unavailable(plugin.TechSnapshot, plugin.ModeCreate); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, v, err := m.lookup(volumeID)
	if err != nil {
		return nil, err
	}
	id := volumeID + "@" + name
	if s := m.snaps[id]; s != nil {
		return nil, nil
	}
	s := &plugin.Snapshot{ID: id, Name: name, SourceID: volumeID, Size: v.SizeBytes, ReadOnly: true}
	return []sched.Operation{m.op("snapshot", id, m.key(p.name, v.Name), func() error {
		if m.snaps[id] != nil {
			return fmt.Errorf("snapshot %q: %w", id, plugin.ErrExists)
		}
		c := *s
		c.Created = time.Now()
		m.snaps[id] = &c
		return nil
	}, func() error { delete(m.snaps, id); return nil })}, nil
}

func (m *Memory) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	vol, name, ok := strings.Cut(snapshotID, "@")
	if !ok || name == "" {
		return nil, &plugin.InvalidError{Field: "snapshot", Value: snapshotID, Reason: "not pool/volume@name"}
	}
	if err := m.unavailable(plugin.TechSnapshot, plugin.ModeRemove); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snaps[snapshotID] == nil {
		return nil, nil
	}
	for _, p := range m.pools {
		for _, v := range p.vols {
			if v.SnapshotOf == snapshotID {
				return nil, fmt.Errorf("snapshot %q has clone %q: %w", snapshotID, v.ID, plugin.ErrInUse)
			}
		}
	}
	pool, vname, _ := splitID(vol)
	return []sched.Operation{m.op("delete-snapshot", snapshotID, m.key(pool, vname), func() error {
		delete(m.snaps, snapshotID)
		return nil
	}, nil)}, nil
}
