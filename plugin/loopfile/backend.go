package loopfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/loopdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Name is the backend's registered name.
const Name = "loopfile"

// Backend keeps volumes as sparse files under a directory, attached as
// loop devices. It is safe for concurrent use, within and across processes
// of one user only as far as the file operations are atomic: two processes
// creating one name may both succeed (the same volume) or one gets
// ErrExists.
type Backend struct {
	dir  string
	pool string
	root sysfs.Root
	log  *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per volume name, held by a running Execute

	reflinkOnce sync.Once
	reflink     bool
}

// Option configures a Backend.
type Option func(*Backend) error

// WithPoolName names the directory's pool (default "default").
func WithPoolName(name string) Option {
	return func(b *Backend) error {
		if err := validName(name); err != nil {
			return err
		}
		b.pool = name
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(b *Backend) error {
		if l == nil {
			return &plugin.InvalidError{Field: "logger", Reason: "nil"}
		}
		b.log = l
		return nil
	}
}

// WithRoot reads /sys, /proc and /dev under dir (tests).
func WithRoot(dir string) Option {
	return func(b *Backend) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return err
		}
		b.root = r
		return nil
	}
}

// New returns the backend for dir, creating the directory (0700) if it is
// missing. Nothing about loop devices is checked here: Capabilities says.
func New(dir string, opts ...Option) (*Backend, error) {
	if dir == "" || !filepath.IsAbs(dir) {
		return nil, &plugin.InvalidError{Field: "dir", Value: dir, Reason: "want an absolute path"}
	}
	b := &Backend{dir: filepath.Clean(dir), pool: "default", log: slog.New(slog.DiscardHandler), locks: map[string]*sync.Mutex{}}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(b); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(b.dir, 0o700); err != nil {
		return nil, fmt.Errorf("loopfile: %w", err)
	}
	return b, nil
}

func (b *Backend) Name() string { return Name }

// Dir is the backend's directory.
func (b *Backend) Dir() string { return b.dir }

func (b *Backend) Limits() plugin.Limits { return limits }

func (b *Backend) volFile(name string) string      { return filepath.Join(b.dir, name+".img") }
func (b *Backend) volMeta(name string) string      { return filepath.Join(b.dir, name+".json") }
func (b *Backend) snapFile(vol, s string) string   { return filepath.Join(b.dir, vol+"@"+s+".img") }
func (b *Backend) snapMeta(vol, s string) string   { return filepath.Join(b.dir, vol+"@"+s+".json") }
func (b *Backend) volID(name string) string        { return b.pool + "/" + name }
func (b *Backend) snapID(vol, s string) string     { return b.pool + "/" + vol + "@" + s }
func (b *Backend) key() sched.Key                  { return sched.Root(Name, b.dir) }
func (b *Backend) volKey(name string) sched.Key    { return b.key().Child("volume", name) }
func (b *Backend) snapKey(vol, s string) sched.Key { return b.volKey(vol).Child("snapshot", s) }

// lock serialises Executes on one volume name across plans and callers.
func (b *Backend) lock(name string) func() {
	b.mu.Lock()
	l := b.locks[name]
	if l == nil {
		l = &sync.Mutex{}
		b.locks[name] = l
	}
	b.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Capabilities checks /dev/loop-control (create and modify need it) and
// whether the directory's filesystem can reflink (what a snapshot is).
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	loopOK, why := true, ""
	if f, err := os.OpenFile(b.root.Path("/dev/loop-control"), os.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
		loopOK, why = false, "cannot open /dev/loop-control: "+err.Error()
	} else {
		f.Close()
	}
	snapNote := "reflink (FICLONE): instant and atomic"
	if !b.canReflink() {
		snapNote = "sparse copy: the directory's filesystem cannot reflink, so a snapshot is consistent only while nothing writes the volume"
	}
	c := func(t plugin.Technology, m plugin.Mode, ok bool, reason string) plugin.Capability {
		if ok && t == plugin.TechSnapshot && m == plugin.ModeCreate {
			reason = snapNote
		}
		return plugin.Capability{Technology: t, Mode: m, Available: ok, Reason: reason}
	}
	return plugin.Capabilities{
		c(plugin.TechVolume, plugin.ModeCreate, loopOK, why),
		c(plugin.TechVolume, plugin.ModeRemove, loopOK, why),
		c(plugin.TechVolume, plugin.ModeModify, loopOK, why),
		c(plugin.TechVolume, plugin.ModeQuery, true, ""),
		c(plugin.TechShrink, plugin.ModeModify, loopOK, why),
		c(plugin.TechBlock, plugin.ModeCreate, loopOK, why),
		c(plugin.TechBlock, plugin.ModeQuery, true, ""),
		c(plugin.TechSnapshot, plugin.ModeCreate, true, ""),
		c(plugin.TechSnapshot, plugin.ModeRemove, true, ""),
		c(plugin.TechSnapshot, plugin.ModeQuery, true, ""),
		c(plugin.TechClone, plugin.ModeCreate, loopOK, why),
		{Technology: plugin.TechThin, Mode: plugin.ModeCreate, Reason: "volumes are sparse files: every volume is thin, and none is guaranteed its space"},
		{Technology: plugin.TechDirectory, Mode: plugin.ModeCreate, Reason: "loopfile volumes are block devices"},
	}, nil
}

func (b *Backend) canReflink() bool {
	b.reflinkOnce.Do(func() {
		src, err := os.CreateTemp(b.dir, ".reflink-probe-*")
		if err != nil {
			return
		}
		defer os.Remove(src.Name())
		defer src.Close()
		if _, err := src.Write(make([]byte, 4096)); err != nil {
			return
		}
		dst, err := os.CreateTemp(b.dir, ".reflink-probe-*")
		if err != nil {
			return
		}
		defer os.Remove(dst.Name())
		defer dst.Close()
		b.reflink = unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())) == nil
	})
	return b.reflink
}

// Pools reports the one pool: the directory's filesystem.
func (b *Backend) Pools(ctx context.Context) ([]plugin.Pool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(b.dir, &st); err != nil {
		return nil, fmt.Errorf("loopfile: %w", os.NewSyscallError("statfs "+b.dir, err))
	}
	vols, err := b.Volumes(ctx, "")
	if err != nil {
		return nil, err
	}
	p := plugin.Pool{Name: b.pool, Backend: Name, Thin: true,
		CapacityBytes: int64(st.Blocks) * st.Bsize, FreeBytes: int64(st.Bavail) * st.Bsize}
	for _, v := range vols {
		p.AllocatedBytes += v.SizeBytes
	}
	if p.CapacityBytes > 0 {
		p.OverProvisioning = float64(p.AllocatedBytes) / float64(p.CapacityBytes)
	}
	return []plugin.Pool{p}, nil
}

// Volumes lists the volumes with a sidecar; a sidecar that does not parse
// is an error naming it, never a volume left out.
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	if pool != "" && pool != b.pool {
		return nil, fmt.Errorf("loopfile: pool %q: %w", pool, plugin.ErrNotFound)
	}
	metas, err := filepath.Glob(filepath.Join(b.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	attached, err := loopdev.All(b.root)
	if err != nil {
		return nil, err
	}
	var out []plugin.Volume
	for _, m := range metas {
		base := strings.TrimSuffix(filepath.Base(m), ".json")
		if strings.Contains(base, "@") || validName(base) != nil {
			continue // a snapshot's, or not ours
		}
		v, err := b.volume(base, attached)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (b *Backend) volume(name string, attached map[loopdev.FileID]loopdev.Device) (*plugin.Volume, error) {
	s, err := readSidecar(b.volMeta(name))
	if err != nil {
		return nil, err
	}
	if s.Name != name {
		return nil, fmt.Errorf("%w: %s names %q", ErrCorrupt, b.volMeta(name), s.Name)
	}
	var st unix.Stat_t
	if err := unix.Stat(b.volFile(name), &st); err != nil {
		return nil, fmt.Errorf("loopfile: volume %s: %w", name, os.NewSyscallError("stat", err))
	}
	v := &plugin.Volume{ID: b.volID(name), Name: name, Pool: b.pool, SizeBytes: s.SizeBytes,
		UsedBytes: st.Blocks * 512, Thin: true, SnapshotOf: s.SnapshotOf, Tags: s.Tags}
	if d, ok := attached[loopdev.FileID{Dev: st.Dev, Ino: st.Ino}]; ok {
		v.Device = d.Path
	}
	return v, nil
}

// Volume returns one volume, or ErrNotFound.
func (b *Backend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	name, err := splitVolumeID(b.pool, id)
	if err != nil {
		return nil, err
	}
	attached, err := loopdev.All(b.root)
	if err != nil {
		return nil, err
	}
	v, err := b.volume(name, attached)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loopfile: volume %s: %w", id, plugin.ErrNotFound)
	}
	return v, err
}

// Attach attaches the volume's file to a loop device if it is not (after a
// reboot) and returns the device.
func (b *Backend) Attach(ctx context.Context, id string) (string, error) {
	name, err := splitVolumeID(b.pool, id)
	if err != nil {
		return "", err
	}
	if _, err := readSidecar(b.volMeta(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("loopfile: volume %s: %w", id, plugin.ErrNotFound)
		}
		return "", err
	}
	d, err := loopdev.Attach(ctx, b.root, b.volFile(name))
	if err != nil {
		return "", err
	}
	return d.Path, nil
}

// Snapshots lists the snapshots of one volume, or of all ("").
func (b *Backend) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	pattern := "*@*.json"
	if volumeID != "" {
		name, err := splitVolumeID(b.pool, volumeID)
		if err != nil {
			return nil, err
		}
		pattern = name + "@*.json"
	}
	metas, err := filepath.Glob(filepath.Join(b.dir, pattern))
	if err != nil {
		return nil, err
	}
	var out []plugin.Snapshot
	for _, m := range metas {
		base := strings.TrimSuffix(filepath.Base(m), ".json")
		vol, snap, ok := strings.Cut(base, "@")
		if !ok || validName(vol) != nil || validName(snap) != nil {
			continue
		}
		s, err := readSidecar(m)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, plugin.Snapshot{ID: b.snapID(vol, snap), Name: snap, SourceID: b.volID(vol),
			Size: s.SizeBytes, ReadOnly: true, Created: s.Created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func roundUp(n int64) int64 { return (n + granularity - 1) / granularity * granularity }

func checkSize(n int64) error {
	if n <= 0 {
		return &plugin.InvalidError{Field: "size", Value: fmt.Sprint(n), Reason: "must be positive"}
	}
	if n > 1<<50 {
		return &plugin.InvalidError{Field: "size", Value: fmt.Sprint(n), Reason: "beyond 1 PiB"}
	}
	return nil
}

// fits refuses a size the directory's filesystem could never hold: sparse
// files let a pool over-commit, but not beyond what a file can be.
func (b *Backend) fits(n int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(b.dir, &st); err != nil {
		return fmt.Errorf("loopfile: %w", os.NewSyscallError("statfs", err))
	}
	if capacity := int64(st.Blocks) * st.Bsize; n > capacity {
		return fmt.Errorf("loopfile: %d bytes asked, the pool's filesystem has %d: %w", n, capacity, plugin.ErrNoSpace)
	}
	return nil
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
