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

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// BackendName is the name the backend registers under.
const BackendName = "loopfile"

const (
	// granularity is what sizes round up to, and the smallest volume.
	granularity = 1 << 20
	imgSuffix   = ".img"
	snapSuffix  = ".snap"
	metaSuffix  = ".json"
	lockName    = ".lock"
)

// Backend keeps volumes as sparse files under a directory, attached as
// loop devices.
type Backend struct {
	dir     string // absolute, symlinks resolved: what backing_file shows
	pool    string
	sysRoot string
	devRoot string
	log     *slog.Logger
	key     sched.Key
}

var _ plugin.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*Backend) error

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(b *Backend) error {
		if l == nil {
			return errors.New("loopfile: nil logger")
		}
		b.log = l
		return nil
	}
}

// WithPool names the pool (default: the directory's base name when it is a
// valid name, else "pool").
func WithPool(name string) Option {
	return func(b *Backend) error {
		if err := checkName("pool", name); err != nil {
			return err
		}
		b.pool = name
		return nil
	}
}

// WithRoot sets the root under which /sys and /dev are found (default "/").
func WithRoot(root string) Option {
	return func(b *Backend) error {
		if root == "" {
			return errors.New("loopfile: empty root")
		}
		b.sysRoot = filepath.Join(root, "sys")
		b.devRoot = filepath.Join(root, "dev")
		return nil
	}
}

// New returns the backend for dir (created if missing).
func New(dir string, opts ...Option) (*Backend, error) {
	if dir == "" {
		return nil, &plugin.InvalidError{Field: "dir", Value: dir, Reason: "empty"}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("loopfile: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("loopfile: %w", err)
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, fmt.Errorf("loopfile: %w", err)
	}
	b := &Backend{dir: abs, sysRoot: "/sys", devRoot: "/dev", log: slog.New(slog.DiscardHandler)}
	if checkName("pool", filepath.Base(abs)) == nil {
		b.pool = filepath.Base(abs)
	} else {
		b.pool = "pool"
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("loopfile: nil option")
		}
		if err := o(b); err != nil {
			return nil, err
		}
	}
	b.key = sched.Root(BackendName, abs)
	return b, nil
}

// Name implements plugin.Backend.
func (b *Backend) Name() string { return BackendName }

// Dir is the directory holding the images.
func (b *Backend) Dir() string { return b.dir }

// Limits implements plugin.Backend.
func (b *Backend) Limits() plugin.Limits {
	return plugin.Limits{MaxNameLen: maxNameLen, NameChars: nameChars, Granularity: granularity, MinSize: granularity}
}

// Key is the scheduler key of the whole directory.
func (b *Backend) Key() sched.Key { return b.key }

func (b *Backend) volKey(name string) sched.Key { return b.key.Child("volume", name) }

func (b *Backend) imgPath(name string) string  { return filepath.Join(b.dir, name+imgSuffix) }
func (b *Backend) metaPath(name string) string { return filepath.Join(b.dir, name+metaSuffix) }
func (b *Backend) snapPath(vol, snap string) string {
	return filepath.Join(b.dir, vol+"@"+snap+snapSuffix)
}
func (b *Backend) snapMetaPath(vol, snap string) string {
	return b.snapPath(vol, snap) + metaSuffix
}

// Capabilities implements plugin.Backend: loop devices need
// /dev/loop-control and root; snapshots always work (reflink or a sparse
// copy, see CopyMethod).
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	loopOK, loopWhy := true, ""
	if fd, err := unix.Open(filepath.Join(b.devRoot, "loop-control"), unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
		loopOK, loopWhy = false, "cannot open loop-control: "+err.Error()
	} else {
		unix.Close(fd)
	}
	dirOK, dirWhy := true, ""
	if err := unix.Access(b.dir, unix.W_OK); err != nil {
		dirOK, dirWhy = false, "directory not writable: "+err.Error()
	}
	both := func(t plugin.Technology, m plugin.Mode, needLoop bool) plugin.Capability {
		c := plugin.Capability{Technology: t, Mode: m, Available: true}
		switch {
		case !dirOK && m != plugin.ModeQuery:
			c.Available, c.Reason = false, dirWhy
		case needLoop && !loopOK:
			c.Available, c.Reason = false, loopWhy
		}
		return c
	}
	caps := plugin.Capabilities{
		both(plugin.TechVolume, plugin.ModeCreate, true),
		both(plugin.TechVolume, plugin.ModeRemove, true),
		both(plugin.TechVolume, plugin.ModeModify, true),
		both(plugin.TechVolume, plugin.ModeQuery, false),
		both(plugin.TechShrink, plugin.ModeModify, true),
		both(plugin.TechSnapshot, plugin.ModeCreate, false),
		both(plugin.TechSnapshot, plugin.ModeRemove, false),
		both(plugin.TechSnapshot, plugin.ModeQuery, false),
		both(plugin.TechClone, plugin.ModeCreate, true),
		both(plugin.TechBlock, plugin.ModeCreate, true),
		both(plugin.TechBlock, plugin.ModeQuery, false),
		{Technology: plugin.TechThin, Mode: plugin.ModeCreate, Reason: "every image is sparse; there is no separate thin mode"},
		{Technology: plugin.TechDirectory, Mode: plugin.ModeCreate, Reason: "volumes are block devices"},
	}
	return caps, nil
}

// CopyMethod says how snapshots and clones are made in this directory:
// "reflink" when the filesystem shares extents (FICLONE), else "sparse"
// (a full copy of the data extents).
func (b *Backend) CopyMethod() string {
	src, err := os.CreateTemp(b.dir, ".probe-*")
	if err != nil {
		return copySparse
	}
	defer os.Remove(src.Name())
	defer src.Close()
	dst, err := os.CreateTemp(b.dir, ".probe-*")
	if err != nil {
		return copySparse
	}
	defer os.Remove(dst.Name())
	defer dst.Close()
	if unix.IoctlFileClone(int(dst.Fd()), int(src.Fd())) == nil {
		return copyReflink
	}
	return copySparse
}

// Pools implements plugin.Backend: the one pool is the directory; its
// capacity is the filesystem's.
func (b *Backend) Pools(ctx context.Context) ([]plugin.Pool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(b.dir, &st); err != nil {
		return nil, os.NewSyscallError("statfs", err)
	}
	vols, err := b.Volumes(ctx, "")
	if err != nil {
		return nil, err
	}
	p := plugin.Pool{
		Name:          b.pool,
		Backend:       BackendName,
		CapacityBytes: int64(st.Blocks) * st.Bsize,
		FreeBytes:     int64(st.Bavail) * st.Bsize,
		Thin:          true,
	}
	for _, v := range vols {
		p.AllocatedBytes += v.SizeBytes
	}
	if p.CapacityBytes > 0 {
		p.OverProvisioning = float64(p.AllocatedBytes) / float64(p.CapacityBytes)
	}
	return []plugin.Pool{p}, nil
}

// Volumes implements plugin.Backend.
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	if pool != "" && pool != b.pool {
		return nil, fmt.Errorf("pool %q: %w", pool, plugin.ErrNotFound)
	}
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, err
	}
	var out []plugin.Volume
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, metaSuffix) || strings.HasSuffix(n, snapSuffix+metaSuffix) {
			continue
		}
		name := strings.TrimSuffix(n, metaSuffix)
		if checkName("volume", name) != nil {
			continue
		}
		v, err := b.volume(name)
		if errors.Is(err, plugin.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Volume implements plugin.Backend.
func (b *Backend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	return b.volume(name)
}

func (b *Backend) volume(name string) (*plugin.Volume, error) {
	sc, err := readSidecar(b.metaPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("volume %s/%s: %w", b.pool, name, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if sc.Name != name {
		return nil, &SidecarError{Path: b.metaPath(name), Reason: fmt.Sprintf("names %q", sc.Name)}
	}
	v := &plugin.Volume{
		ID: b.pool + "/" + name, Name: name, Pool: b.pool, SizeBytes: sc.SizeBytes, UsedBytes: -1,
		SnapshotOf: sc.SnapshotOf, Tags: sc.Tags, Thin: true,
	}
	var st unix.Stat_t
	if err := unix.Stat(b.imgPath(name), &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("volume %s: sidecar without image: %w", v.ID, plugin.ErrNotFound)
		}
		return nil, os.NewSyscallError("stat", err)
	}
	v.UsedBytes = st.Blocks * 512
	if ld, err := b.findLoop(b.imgPath(name)); err == nil && ld != nil {
		v.Device = ld.Path
	}
	return v, nil
}

// Snapshots implements plugin.Backend.
func (b *Backend) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	only := ""
	if volumeID != "" {
		n, err := b.splitVolumeID(volumeID)
		if err != nil {
			return nil, err
		}
		only = n
	}
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, err
	}
	var out []plugin.Snapshot
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, snapSuffix+metaSuffix) {
			continue
		}
		vol, snap, ok := strings.Cut(strings.TrimSuffix(n, snapSuffix+metaSuffix), "@")
		if !ok || checkName("volume", vol) != nil || checkName("snapshot", snap) != nil {
			continue
		}
		if only != "" && vol != only {
			continue
		}
		s, err := b.snapshot(vol, snap)
		if errors.Is(err, plugin.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Snapshot returns one snapshot, or an error wrapping ErrNotFound.
func (b *Backend) Snapshot(ctx context.Context, id string) (*plugin.Snapshot, error) {
	vol, snap, err := b.splitSnapshotID(id)
	if err != nil {
		return nil, err
	}
	return b.snapshot(vol, snap)
}

func (b *Backend) snapshot(vol, snap string) (*plugin.Snapshot, error) {
	id := b.pool + "/" + vol + "@" + snap
	sc, err := readSidecar(b.snapMetaPath(vol, snap))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("snapshot %s: %w", id, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.snapPath(vol, snap)); err != nil {
		return nil, fmt.Errorf("snapshot %s: sidecar without image: %w", id, plugin.ErrNotFound)
	}
	return &plugin.Snapshot{ID: id, Name: snap, SourceID: b.pool + "/" + vol, Size: sc.SizeBytes, ReadOnly: true, Created: sc.Created}, nil
}

// lock takes the directory's flock, which serialises every mutation across
// processes (two nomad-volume runs, a CSI driver and a CLI).
func (b *Backend) lock(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(filepath.Join(b.dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Flock(int(f.Fd()), unix.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, os.NewSyscallError("flock", err)
		}
		if err := sleepCtx(ctx); err != nil {
			f.Close()
			return nil, err
		}
	}
}
