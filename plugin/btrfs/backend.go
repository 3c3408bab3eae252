package btrfs

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

	fsbtrfs "github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Name is the backend's registered name.
const Name = "btrfs"

const (
	maxNameLen  = 100 // NAME@SNAP stays within a file name's 255 bytes
	nameChars   = "._-"
	granularity = 1 << 20
	snapDir     = ".snapshots"
	xattrFrom   = "user.eos-storage.snapshot-of"
	xattrTags   = "user.eos-storage.tags"
)

// Backend keeps volumes as subvolumes of one directory of a mounted btrfs.
type Backend struct {
	dir  string // the pool's directory
	pool string
	log  *slog.Logger
}

// Option configures a Backend.
type Option func(*Backend) error

// WithPoolName names the pool (default "default").
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

// New returns the backend whose pool is dir, a directory of a mounted btrfs
// (it need not exist yet). Nothing is checked here: Capabilities says.
func New(dir string, opts ...Option) (*Backend, error) {
	if dir == "" || !filepath.IsAbs(dir) {
		return nil, &plugin.InvalidError{Field: "dir", Value: dir, Reason: "want an absolute path"}
	}
	b := &Backend{dir: filepath.Clean(dir), pool: "default", log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Backend) Name() string { return Name }

func (b *Backend) Limits() plugin.Limits { return limits }

// validName accepts what plugin.CheckName accepts under the backend's
// Limits, and only a letter or digit first (no hidden .snapshots clash).
func validName(s string) error {
	if s != "" && !isAlnum(s[0]) {
		return &plugin.InvalidError{Field: "name", Value: s, Reason: "must start with a letter or digit"}
	}
	return plugin.CheckName(limits, "name", s)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var limits = plugin.Limits{MaxNameLen: maxNameLen, NameChars: nameChars, Granularity: granularity, MinSize: granularity}

func (b *Backend) volPath(name string) string { return filepath.Join(b.dir, name) }
func (b *Backend) snapPath(vol, snap string) string {
	return filepath.Join(b.dir, snapDir, vol+"@"+snap)
}
func (b *Backend) volID(name string) string       { return b.pool + "/" + name }
func (b *Backend) snapID(vol, snap string) string { return b.pool + "/" + vol + "@" + snap }

func (b *Backend) splitVolumeID(id string) (string, error) {
	name, ok := strings.CutPrefix(id, b.pool+"/")
	if !ok {
		return "", &plugin.InvalidError{Field: "volume id", Value: id, Reason: "not of pool " + b.pool}
	}
	return name, validName(name)
}

func (b *Backend) splitSnapshotID(id string) (string, string, error) {
	rest, ok := strings.CutPrefix(id, b.pool+"/")
	vol, snap, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 {
		return "", "", &plugin.InvalidError{Field: "snapshot id", Value: id, Reason: "want pool/volume@snapshot"}
	}
	if err := validName(vol); err != nil {
		return "", "", err
	}
	return vol, snap, validName(snap)
}

// open opens the filesystem the pool's directory is on (the directory, or
// the nearest existing parent).
func (b *Backend) open() (*fsbtrfs.FS, error) {
	p := b.dir
	for {
		if _, err := os.Stat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	f, err := fsbtrfs.Open(p)
	if err != nil {
		return nil, fmt.Errorf("btrfs backend: %s: %w", b.dir, err)
	}
	return f, nil
}

func (b *Backend) key(f *fsbtrfs.FS, name string) sched.Key {
	return fsbtrfs.SubvolumesKey(f.FSID().String()).Child("volume", b.dir+"/"+name)
}

// Capabilities: quotas must be on for sizes; snapshots and clones are
// always there on btrfs.
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	ok, why := true, ""
	f, err := b.open()
	if err != nil {
		ok, why = false, err.Error()
	} else {
		defer f.Close()
		on, err := f.QuotaEnabled(ctx)
		switch {
		case err != nil:
			ok, why = false, "reading the quota state: "+err.Error()
		case !on:
			ok, why = false, "btrfs quotas are off on "+f.Mountpoint()+": a volume's size is its qgroup limit (enable them: fs qgroup enable, or btrfs.FS.EnableQuota)"
		}
	}
	c := func(t plugin.Technology, m plugin.Mode) plugin.Capability {
		return plugin.Capability{Technology: t, Mode: m, Available: ok, Reason: why}
	}
	return plugin.Capabilities{
		c(plugin.TechVolume, plugin.ModeCreate), c(plugin.TechVolume, plugin.ModeRemove),
		c(plugin.TechVolume, plugin.ModeModify), c(plugin.TechVolume, plugin.ModeQuery),
		c(plugin.TechShrink, plugin.ModeModify),
		c(plugin.TechDirectory, plugin.ModeCreate), c(plugin.TechDirectory, plugin.ModeQuery),
		c(plugin.TechSnapshot, plugin.ModeCreate), c(plugin.TechSnapshot, plugin.ModeRemove),
		c(plugin.TechSnapshot, plugin.ModeQuery), c(plugin.TechClone, plugin.ModeCreate),
		{Technology: plugin.TechThin, Mode: plugin.ModeCreate, Reason: "every subvolume shares the filesystem's space: there is no thick one to tell apart"},
		{Technology: plugin.TechBlock, Mode: plugin.ModeCreate, Reason: "subvolumes are directories"},
	}, nil
}

// Pools: the one pool, sized as the filesystem.
func (b *Backend) Pools(ctx context.Context) ([]plugin.Pool, error) {
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Statfs(f.Mountpoint(), &st); err != nil {
		return nil, fmt.Errorf("btrfs backend: %w", os.NewSyscallError("statfs", err))
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

// qgroups maps subvolume id to its level-0 qgroup.
func qgroups(ctx context.Context, f *fsbtrfs.FS) (map[uint64]fsbtrfs.Qgroup, error) {
	out := map[uint64]fsbtrfs.Qgroup{}
	on, err := f.QuotaEnabled(ctx)
	if err != nil || !on {
		return out, err
	}
	qs, err := f.Qgroups(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		if uint64(q.ID)>>48 == 0 {
			out[uint64(q.ID)&(1<<48-1)] = q
		}
	}
	return out, nil
}

func isSubvolume(path string) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Ino == 256
}

// Volumes lists the subvolumes directly in the pool's directory.
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	if pool != "" && pool != b.pool {
		return nil, fmt.Errorf("btrfs backend: pool %q: %w", pool, plugin.ErrNotFound)
	}
	ents, err := os.ReadDir(b.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("btrfs backend: %w", err)
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs, err := qgroups(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []plugin.Volume
	for _, e := range ents {
		if !e.IsDir() || validName(e.Name()) != nil || !isSubvolume(b.volPath(e.Name())) {
			continue
		}
		v, err := b.volume(ctx, f, qs, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (b *Backend) volume(ctx context.Context, f *fsbtrfs.FS, qs map[uint64]fsbtrfs.Qgroup, name string) (*plugin.Volume, error) {
	p := b.volPath(name)
	id, err := f.SubvolumeID(ctx, p)
	if err != nil {
		return nil, err
	}
	v := &plugin.Volume{ID: b.volID(name), Name: name, Pool: b.pool, Path: p, Thin: true, UsedBytes: -1}
	if q, ok := qs[id]; ok {
		v.UsedBytes = q.Referenced
		if q.MaxReferenced > 0 {
			v.SizeBytes = q.MaxReferenced
		}
	}
	v.SnapshotOf = getxattr(p, xattrFrom)
	if t := getxattr(p, xattrTags); t != "" {
		v.Tags = strings.Split(t, "\n")
	}
	return v, nil
}

func getxattr(path, name string) string {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(path, name, buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// Volume returns one volume, or ErrNotFound.
func (b *Backend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	if !isSubvolume(b.volPath(name)) {
		return nil, fmt.Errorf("btrfs backend: volume %s: %w", id, plugin.ErrNotFound)
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs, err := qgroups(ctx, f)
	if err != nil {
		return nil, err
	}
	return b.volume(ctx, f, qs, name)
}

// Snapshots lists the snapshots of a volume ("" for every volume).
func (b *Backend) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	want := ""
	if volumeID != "" {
		name, err := b.splitVolumeID(volumeID)
		if err != nil {
			return nil, err
		}
		want = name
	}
	ents, err := os.ReadDir(filepath.Join(b.dir, snapDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("btrfs backend: %w", err)
	}
	var out []plugin.Snapshot
	for _, e := range ents {
		vol, snap, ok := strings.Cut(e.Name(), "@")
		if !ok || validName(vol) != nil || validName(snap) != nil || (want != "" && vol != want) {
			continue
		}
		p := b.snapPath(vol, snap)
		if !isSubvolume(p) {
			continue
		}
		s := plugin.Snapshot{ID: b.snapID(vol, snap), Name: snap, SourceID: b.volID(vol), ReadOnly: true}
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil {
			s.Created = timeOf(st.Ctim)
		}
		if sz := getxattr(p, "user.eos-storage.size"); sz != "" {
			fmt.Sscan(sz, &s.Size)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

var _ plugin.Backend = (*Backend)(nil)
