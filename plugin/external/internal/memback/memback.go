package memback

import (
	"context"
	"encoding/json"
	"errors"

	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// PoolName is the one pool; Capacity its size.
const (
	PoolName = "mem"
	Capacity = 1 << 30
	Granule  = 4096
)

// Fault is a misbehaviour at one point.
type Fault struct {
	// Kind: "crash" (os.Exit(3)), "hang" (block forever, ignoring the
	// context), "block" (block until the context is done). Empty: none.
	Kind string
	// At is the call it hits: "execute", "rollback", "volumes",
	// "capabilities", "create", "describe" (Limits).
	At string
	// Once, when set, is a marker file: the fault hits only the first
	// time (the first process to create the file), so that a restarted
	// plugin behaves.
	Once string
	// Entered, when set, is a file created when the faulty call starts,
	// so that a test knows the plugin is inside it.
	Entered string
}

// FromEnv reads a Fault from EOS_MEMBACK_FAULT ("kind@at"),
// EOS_MEMBACK_ONCE and EOS_MEMBACK_ENTERED.
func FromEnv() Fault {
	var f Fault
	if v := os.Getenv("EOS_MEMBACK_FAULT"); v != "" {
		f.Kind, f.At, _ = strings.Cut(v, "@")
	}
	f.Once = os.Getenv("EOS_MEMBACK_ONCE")
	f.Entered = os.Getenv("EOS_MEMBACK_ENTERED")
	return f
}

// Env is the environment that makes FromEnv return f.
func (f Fault) Env() []string {
	var env []string
	if f.Kind != "" {
		env = append(env, "EOS_MEMBACK_FAULT="+f.Kind+"@"+f.At)
	}
	if f.Once != "" {
		env = append(env, "EOS_MEMBACK_ONCE="+f.Once)
	}
	if f.Entered != "" {
		env = append(env, "EOS_MEMBACK_ENTERED="+f.Entered)
	}
	return env
}

// Backend is the in-memory backend.
type Backend struct {
	fault Fault
	log   *slog.Logger

	mu    sync.Mutex
	vols  map[string]plugin.Volume
	snaps map[string]plugin.Snapshot
	state string // file the maps are saved to after each change
}

type stateFile struct {
	Volumes   map[string]plugin.Volume   `json:"volumes"`
	Snapshots map[string]plugin.Snapshot `json:"snapshots"`
}

// Persist loads the backend's state from path (when it exists) and saves
// it there after every change, so that state outlives the process: the
// tests of a command that starts a new plugin per run need it.
func (b *Backend) Persist(path string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var st stateFile
		if err := json.Unmarshal(data, &st); err != nil {
			return fmt.Errorf("memback: %s: %w", path, err)
		}
		if st.Volumes != nil {
			b.vols = st.Volumes
		}
		if st.Snapshots != nil {
			b.snaps = st.Snapshots
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	b.state = path
	return nil
}

// save writes the state; b.mu is held.
func (b *Backend) save() error {
	if b.state == "" {
		return nil
	}
	data, err := json.Marshal(stateFile{Volumes: b.vols, Snapshots: b.snaps})
	if err != nil {
		return err
	}
	tmp := b.state + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, b.state)
}

// New returns an empty backend with fault f; log may be nil.
func New(f Fault, log *slog.Logger) *Backend {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Backend{fault: f, log: log, vols: map[string]plugin.Volume{}, snaps: map[string]plugin.Snapshot{}}
}

// hit runs the fault when it is for at; only "block" returns (with the
// context's error).
func (b *Backend) hit(ctx context.Context, at string) error {
	f := b.fault
	if f.Kind == "" || f.At != at {
		return nil
	}
	if f.Once != "" {
		fd, err := os.OpenFile(f.Once, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil // hit before: behave
		}
		fd.Close()
	}
	if f.Entered != "" {
		_ = os.WriteFile(f.Entered, []byte("in"), 0o600)
	}
	switch f.Kind {
	case "crash":
		os.Exit(3)
	case "hang":
		select {}
	case "block":
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// Name is "memory".
func (b *Backend) Name() string { return "memory" }

// Capabilities lists plain volumes, shrinking and snapshots.
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	if err := b.hit(ctx, "capabilities"); err != nil {
		return nil, err
	}
	var c plugin.Capabilities
	for _, m := range []plugin.Mode{plugin.ModeCreate, plugin.ModeRemove, plugin.ModeModify, plugin.ModeQuery} {
		c = append(c, plugin.Capability{Technology: plugin.TechVolume, Mode: m, Available: true})
	}
	c = append(c,
		plugin.Capability{Technology: plugin.TechShrink, Mode: plugin.ModeModify, Available: true},
		plugin.Capability{Technology: plugin.TechSnapshot, Mode: plugin.ModeCreate, Available: true},
		plugin.Capability{Technology: plugin.TechSnapshot, Mode: plugin.ModeRemove, Available: true},
		plugin.Capability{Technology: plugin.TechSnapshot, Mode: plugin.ModeQuery, Available: true},
		plugin.Capability{Technology: plugin.TechThin, Mode: plugin.ModeCreate, Reason: "memory has no thin pools"},
	)
	return c, nil
}

// Limits: names of up to 64 of [A-Za-z0-9_.-], 4 KiB granules. A fault
// "at describe" hits here: the plugin's Describe answer asks for it.
func (b *Backend) Limits() plugin.Limits {
	_ = b.hit(context.Background(), "describe")
	return limits()
}

func limits() plugin.Limits {
	return plugin.Limits{MaxNameLen: 64, NameChars: "_.-", Granularity: Granule, MinSize: Granule}
}

// Pools is the one pool.
func (b *Backend) Pools(context.Context) ([]plugin.Pool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var used int64
	for _, v := range b.vols {
		used += v.SizeBytes
	}
	p := plugin.Pool{Name: PoolName, Backend: b.Name(), CapacityBytes: Capacity, FreeBytes: Capacity - used,
		AllocatedBytes: used, OverProvisioning: float64(used) / Capacity}
	return []plugin.Pool{p}, nil
}

// Volumes lists volumes by ID.
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	if err := b.hit(ctx, "volumes"); err != nil {
		return nil, err
	}
	if pool != "" && pool != PoolName {
		return nil, fmt.Errorf("pool %q: %w", pool, plugin.ErrNotFound)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]plugin.Volume, 0, len(b.vols))
	for _, v := range b.vols {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Volume returns one volume.
func (b *Backend) Volume(_ context.Context, id string) (*plugin.Volume, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.vols[id]
	if !ok {
		return nil, fmt.Errorf("volume %q: %w", id, plugin.ErrNotFound)
	}
	return &v, nil
}

// Snapshots lists snapshots by ID.
func (b *Backend) Snapshots(_ context.Context, volumeID string) ([]plugin.Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []plugin.Snapshot{}
	for _, s := range b.snaps {
		if volumeID == "" || s.SourceID == volumeID {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (b *Backend) checkName(n string) error {
	l := limits()
	if n == "" || len(n) > l.MaxNameLen {
		return &plugin.InvalidError{Field: "name", Value: n, Reason: fmt.Sprintf("want 1 to %d characters", l.MaxNameLen)}
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(l.NameChars, r)) {
			return &plugin.InvalidError{Field: "name", Value: n, Reason: "character " + string(r) + " not allowed"}
		}
	}
	return nil
}

func round(n int64) int64 { return (n + Granule - 1) / Granule * Granule }

func key(id string) sched.Key { return sched.Root("memory", id) }

func (b *Backend) op(id, kind string, exec func() error, undo func() error) sched.Operation {
	op := sched.Operation{
		ID: kind + ":" + id, Kind: kind,
		Resources: []sched.Resource{key(id).Exclusive()},
		// Set so that the tests see them cross the process boundary.
		Priority: len(kind),
		Timeout:  time.Minute,
		Execute: func(ctx context.Context, progress sched.Progress) error {
			if err := b.hit(ctx, "execute"); err != nil {
				return err
			}
			if progress != nil {
				progress(1, 2, kind)
			}
			if err := b.locked(exec); err != nil {
				return err
			}
			if progress != nil {
				progress(2, 2, kind)
			}
			b.log.Info("done", "op", kind, "id", id)
			return nil
		},
	}
	if undo != nil {
		op.Rollback = func(ctx context.Context) error {
			if err := b.hit(ctx, "rollback"); err != nil {
				return err
			}
			return b.locked(undo)
		}
	}
	return op
}

// locked runs a change with b.mu held and saves the state after it.
func (b *Backend) locked(f func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := f(); err != nil {
		return err
	}
	return b.save()
}

// CreateVolume plans a volume.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if err := b.hit(ctx, "create"); err != nil {
		return nil, err
	}
	if req.Pool != PoolName {
		return nil, fmt.Errorf("pool %q: %w", req.Pool, plugin.ErrNotFound)
	}
	if err := b.checkName(req.Name); err != nil {
		return nil, err
	}
	if req.SizeBytes <= 0 {
		return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: "must be positive"}
	}
	if req.Thin {
		caps, _ := b.Capabilities(ctx)
		return nil, plugin.Require(b.Name(), caps, plugin.TechThin, plugin.ModeCreate)
	}
	id := req.Pool + "/" + req.Name
	size := round(req.SizeBytes)
	b.mu.Lock()
	old, exists := b.vols[id]
	b.mu.Unlock()
	if exists {
		if old.SizeBytes == size {
			return nil, nil
		}
		return nil, fmt.Errorf("volume %q of %d bytes: %w", id, old.SizeBytes, plugin.ErrExists)
	}
	v := plugin.Volume{ID: id, Name: req.Name, Pool: req.Pool, SizeBytes: size, UsedBytes: 0, Tags: req.Tags}
	return []sched.Operation{b.op(id, "volume.create", func() error {
		if _, ok := b.vols[id]; ok {
			return fmt.Errorf("volume %q: %w", id, plugin.ErrExists)
		}
		b.vols[id] = v
		return nil
	}, func() error {
		delete(b.vols, id)
		return nil
	})}, nil
}

// ResizeVolume plans a resize.
func (b *Backend) ResizeVolume(_ context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	if newBytes <= 0 {
		return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(newBytes), Reason: "must be positive"}
	}
	b.mu.Lock()
	old, ok := b.vols[id]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("volume %q: %w", id, plugin.ErrNotFound)
	}
	size := round(newBytes)
	if size == old.SizeBytes {
		return nil, nil
	}
	set := func(n int64) func() error {
		return func() error {
			v, ok := b.vols[id]
			if !ok {
				return fmt.Errorf("volume %q: %w", id, plugin.ErrNotFound)
			}
			v.SizeBytes = n
			b.vols[id] = v
			return nil
		}
	}
	return []sched.Operation{b.op(id, "volume.resize", set(size), set(old.SizeBytes))}, nil
}

// DeleteVolume plans a deletion (none when it does not exist).
func (b *Backend) DeleteVolume(_ context.Context, id string) ([]sched.Operation, error) {
	b.mu.Lock()
	old, ok := b.vols[id]
	inUse := false
	for _, s := range b.snaps {
		inUse = inUse || s.SourceID == id
	}
	b.mu.Unlock()
	if !ok {
		return nil, nil
	}
	if inUse {
		return nil, fmt.Errorf("volume %q has snapshots: %w", id, plugin.ErrInUse)
	}
	return []sched.Operation{b.op(id, "volume.delete", func() error {
		delete(b.vols, id)
		return nil
	}, func() error {
		b.vols[id] = old
		return nil
	})}, nil
}

// CreateSnapshot plans a snapshot.
func (b *Backend) CreateSnapshot(_ context.Context, volumeID, name string) ([]sched.Operation, error) {
	if err := b.checkName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	v, ok := b.vols[volumeID]
	_, exists := b.snaps[volumeID+"@"+name]
	b.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("volume %q: %w", volumeID, plugin.ErrNotFound)
	}
	if exists {
		return nil, nil
	}
	id := volumeID + "@" + name
	s := plugin.Snapshot{ID: id, Name: name, SourceID: volumeID, Size: v.SizeBytes, ReadOnly: true}
	return []sched.Operation{b.op(id, "snapshot.create", func() error {
		b.snaps[id] = s
		return nil
	}, func() error {
		delete(b.snaps, id)
		return nil
	})}, nil
}

// DeleteSnapshot plans a snapshot's deletion.
func (b *Backend) DeleteSnapshot(_ context.Context, snapshotID string) ([]sched.Operation, error) {
	b.mu.Lock()
	old, ok := b.snaps[snapshotID]
	b.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return []sched.Operation{b.op(snapshotID, "snapshot.delete", func() error {
		delete(b.snaps, snapshotID)
		return nil
	}, func() error {
		b.snaps[snapshotID] = old
		return nil
	})}, nil
}

var _ plugin.Backend = (*Backend)(nil)
