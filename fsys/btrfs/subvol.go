package btrfs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// TopLevelID is the id of the top-level subvolume (BTRFS_FS_TREE_OBJECTID).
const TopLevelID = fsioctl.BtrfsFSTreeObjectID

// Subvolume is one subvolume or snapshot, as the root tree records it.
type Subvolume struct {
	ID       uint64 `json:"id"`
	ParentID uint64 `json:"parent_id"` // the subvolume that holds it ("top level")
	DirID    uint64 `json:"dir_id"`    // the directory inode in the parent that holds it
	Name     string `json:"name"`
	// Path is from the top-level subvolume, as `btrfs subvolume list`
	// prints it.
	Path         string    `json:"path"`
	UUID         uuid.UUID `json:"uuid"`
	ParentUUID   uuid.UUID `json:"parent_uuid"`   // set on snapshots: the source's uuid
	ReceivedUUID uuid.UUID `json:"received_uuid"` // set on received subvolumes
	ReadOnly     bool      `json:"read_only"`
	Generation   uint64    `json:"generation"`
	Ctransid     uint64    `json:"ctransid"`
	Otransid     uint64    `json:"otransid"` // the generation it was created in
	Otime        time.Time `json:"otime"`
	// Snapshot reports ParentUUID set: made by a snapshot, not a create.
	Snapshot bool `json:"snapshot"`
}

// abs makes a path relative to the mountpoint absolute.
func (f *FS) abs(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(f.mountpoint, p)
}

func openDir(p string) (int, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, nil
}

// SubvolumeID returns the subvolume (tree) id of the directory at path
// (absolute, or relative to the mountpoint). It needs no privilege.
func (f *FS) SubvolumeID(ctx context.Context, path string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fd, err := openDir(f.abs(path))
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	id, _, err := fsioctl.BtrfsInoLookup(fd, 0, fsioctl.BtrfsFirstFreeObjectID)
	if err != nil {
		return 0, wrap(path, err)
	}
	return id, nil
}

// Subvolumes lists every subvolume and snapshot (not the top level, not
// deleted ones awaiting cleanup) in id order: a search of the root tree
// for ROOT_ITEM and ROOT_BACKREF items, each path resolved with
// BTRFS_IOC_INO_LOOKUP. Needs CAP_SYS_ADMIN.
func (f *FS) Subvolumes(ctx context.Context) ([]Subvolume, error) {
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsRootTreeObjectID)
	key.MinObjectID, key.MaxObjectID = fsioctl.BtrfsFirstFreeObjectID, fsioctl.BtrfsLastFreeObjectID
	key.MinType, key.MaxType = fsioctl.BtrfsRootItemKey, fsioctl.BtrfsRootBackrefKey
	// The objectid range is cut into one part per CPU at the ids the last
	// listing saw (the kernel serves tree searches in parallel); each part
	// is read in key order: a subvolume's ROOT_ITEM, then its ROOT_BACKREF,
	// then (for a parent) its ROOT_REFs, so one entry is filled at a time.
	hint := f.maxID.Load()
	parts := splitIDs(hint, runtime.GOMAXPROCS(0))
	res := make([]rootPart, len(parts))
	read := func(i int) {
		k := key
		k.MinObjectID, k.MaxObjectID = parts[i][0], parts[i][1]
		res[i] = f.readRoots(ctx, k, capHint(parts[i], hint))
	}
	if len(parts) == 1 {
		read(0)
	} else {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				read(i)
			}(i)
		}
		wg.Wait()
	}
	for _, r := range res {
		if r.err != nil {
			return nil, r.err
		}
	}
	all, hasRef := res[0].subs, res[0].hasRef
	for _, r := range res[1:] {
		all = append(all, r.subs...)
		hasRef = append(hasRef, r.hasRef...)
	}
	if n := len(all); n > 0 {
		f.maxID.Store(all[n-1].ID)
	}
	index := make(map[uint64]int, len(all))
	for i := range all {
		index[all[i].ID] = i
	}
	const (
		unresolved = iota
		resolving
		resolved
		gone
	)
	state := make([]uint8, len(all))
	// Subvolumes in one directory (not a subvolume's root directory, whose
	// path is just the name) share one INO_LOOKUP.
	dirs := map[[2]uint64]string{}
	var resolve func(i int) error
	resolve = func(i int) error {
		switch state[i] {
		case resolved, gone:
			return nil
		case resolving:
			return fmt.Errorf("%w: subvolume %d is its own ancestor", ErrMalformed, all[i].ID)
		}
		s := &all[i]
		if !hasRef[i] {
			state[i] = gone // deleted, its tree not yet cleaned up
			return nil
		}
		state[i] = resolving
		parent := ""
		if s.ParentID != TopLevelID {
			pi, ok := index[s.ParentID]
			if !ok {
				state[i] = gone
				return nil
			}
			if err := resolve(pi); err != nil {
				return err
			}
			if state[pi] == gone {
				state[i] = gone
				return nil
			}
			parent = all[pi].Path + "/"
		}
		dir := ""
		if s.DirID != fsioctl.BtrfsFirstFreeObjectID {
			k := [2]uint64{s.ParentID, s.DirID}
			var ok bool
			if dir, ok = dirs[k]; !ok {
				var err error
				_, dir, err = fsioctl.BtrfsInoLookup(f.fd, s.ParentID, s.DirID)
				if errors.Is(err, unix.ENOENT) {
					state[i] = gone // deleted while we listed
					return nil
				}
				if err != nil {
					return wrap(f.mountpoint, err)
				}
				dirs[k] = dir
			}
		}
		s.Path = parent + dir + s.Name
		state[i] = resolved
		return nil
	}
	for i := range all {
		if err := resolve(i); err != nil {
			return nil, err
		}
	}
	out := all[:0] // in place: out never passes i
	for i := range all {
		if state[i] == resolved {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// splitIDs cuts [256, LAST_FREE] into n parts, evenly up to hint (the
// highest id seen), the last one open-ended; one part without a hint.
func splitIDs(hint uint64, n int) [][2]uint64 {
	lo := uint64(fsioctl.BtrfsFirstFreeObjectID)
	if n < 2 || hint < lo+uint64(n)*64 {
		return [][2]uint64{{lo, fsioctl.BtrfsLastFreeObjectID}}
	}
	step := (hint - lo + 1) / uint64(n)
	out := make([][2]uint64, n)
	for i := range out {
		out[i] = [2]uint64{lo + uint64(i)*step, lo + uint64(i+1)*step - 1}
	}
	out[n-1][1] = fsioctl.BtrfsLastFreeObjectID
	return out
}

// capHint is how many subvolumes part may hold, by the highest id the
// last listing saw (ids are not reused, so it is an upper bound then):
// room for them up front, not a slice grown item by item.
func capHint(part [2]uint64, hint uint64) int {
	if hint < part[0] {
		return 16
	}
	return int(min(min(part[1], hint)-part[0]+1, 1<<16))
}

type rootPart struct {
	subs   []Subvolume
	hasRef []bool
	err    error
}

// readRoots reads the ROOT_ITEM and ROOT_BACKREF items of key's range.
func (f *FS) readRoots(ctx context.Context, key fsioctl.BtrfsSearchKey, capacity int) rootPart {
	p := rootPart{subs: make([]Subvolume, 0, capacity), hasRef: make([]bool, 0, capacity)}
	cur := func(id uint64) *Subvolume {
		if n := len(p.subs); n > 0 && p.subs[n-1].ID == id {
			return &p.subs[n-1]
		}
		p.subs = append(p.subs, Subvolume{ID: id})
		p.hasRef = append(p.hasRef, false)
		return &p.subs[len(p.subs)-1]
	}
	p.err = f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
		if h.ObjectID > key.MaxObjectID {
			return fsioctl.ErrStopSearch
		}
		switch h.Type {
		case fsioctl.BtrfsRootItemKey:
			r, err := ParseRootItem(item)
			if err != nil {
				return fmt.Errorf("root item %d: %w", h.ObjectID, err)
			}
			s := cur(h.ObjectID)
			s.UUID, s.ParentUUID, s.ReceivedUUID = r.UUID, r.ParentUUID, r.ReceivedUUID
			s.ReadOnly, s.Generation, s.Ctransid, s.Otransid, s.Otime = r.ReadOnly(), r.Generation, r.Ctransid, r.Otransid, r.Otime
			s.Snapshot = r.ParentUUID != uuid.Nil
		case fsioctl.BtrfsRootBackrefKey:
			r, err := ParseRootRef(item)
			if err != nil {
				return fmt.Errorf("root backref %d: %w", h.ObjectID, err)
			}
			s := cur(h.ObjectID)
			s.ParentID, s.DirID, s.Name = h.Offset, r.DirID, r.Name
			p.hasRef[len(p.hasRef)-1] = true
		}
		return nil
	})
	return p
}

// Subvolume returns the subvolume id from the listing.
func (f *FS) Subvolume(ctx context.Context, id uint64) (Subvolume, error) {
	all, err := f.Subvolumes(ctx)
	if err != nil {
		return Subvolume{}, err
	}
	for _, s := range all {
		if s.ID == id {
			return s, nil
		}
	}
	return Subvolume{}, fmt.Errorf("%w: no subvolume %d on %s", ErrInvalid, id, f.mountpoint)
}

func splitPath(p string) (dir, name string, err error) {
	dir, name = filepath.Dir(p), filepath.Base(p)
	if name == "/" || name == "." || name == ".." || name == "" {
		return "", "", fmt.Errorf("%w: %q names no subvolume", ErrInvalid, p)
	}
	return dir, name, nil
}

// CreateSubvolume creates an empty subvolume at path (absolute, or
// relative to the mountpoint); its parent directory must exist.
func (f *FS) CreateSubvolume(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, name, err := splitPath(f.abs(path))
	if err != nil {
		return err
	}
	fd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return wrap(path, fsioctl.BtrfsSubvolCreate(fd, name))
}

// Snapshot makes a snapshot of the subvolume at src at dst (read-only when
// readonly). src may be any subvolume, a snapshot too.
func (f *FS) Snapshot(ctx context.Context, src, dst string, readonly bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, name, err := splitPath(f.abs(dst))
	if err != nil {
		return err
	}
	sfd, err := openDir(f.abs(src))
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return wrap(dst, fsioctl.BtrfsSnapCreate(dfd, sfd, name, readonly))
}

// DefaultSubvolume is the id of the subvolume mounted when no subvol=
// option is given: the "default" dir item of the root tree, the top level
// (5) when there is none.
func (f *FS) DefaultSubvolume(ctx context.Context) (uint64, error) {
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsRootTreeObjectID)
	key.MinObjectID, key.MaxObjectID = fsioctl.BtrfsRootTreeDirObjectID, fsioctl.BtrfsRootTreeDirObjectID
	key.MinType, key.MaxType = fsioctl.BtrfsDirItemKey, fsioctl.BtrfsDirItemKey
	id := uint64(TopLevelID)
	err := f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
		if h.Type != fsioctl.BtrfsDirItemKey || h.ObjectID != fsioctl.BtrfsRootTreeDirObjectID {
			return nil
		}
		ds, err := ParseDirItems(item)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.Name == "default" {
				id = d.LocationObjectID
				return fsioctl.ErrStopSearch
			}
		}
		return nil
	})
	return id, err
}

// SetDefaultSubvolume makes id the default subvolume
// (BTRFS_IOC_DEFAULT_SUBVOL); 5 is the top level.
func (f *FS) SetDefaultSubvolume(ctx context.Context, id uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsDefaultSubvol(f.fd, id))
}

// ReadOnly reports whether the subvolume at path is read-only
// (BTRFS_IOC_SUBVOL_GETFLAGS).
func (f *FS) ReadOnly(ctx context.Context, path string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fd, err := openDir(f.abs(path))
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	fl, err := fsioctl.BtrfsSubvolGetflags(fd)
	return fl&fsioctl.BtrfsSubvolRdonly != 0, wrap(path, err)
}

// SetReadOnly makes the subvolume at path read-only or writable
// (BTRFS_IOC_SUBVOL_SETFLAGS). Making a received subvolume writable makes
// later incremental receives into it impossible; the kernel allows it.
func (f *FS) SetReadOnly(ctx context.Context, path string, ro bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := openDir(f.abs(path))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	fl, err := fsioctl.BtrfsSubvolGetflags(fd)
	if err != nil {
		return wrap(path, err)
	}
	if ro {
		fl |= fsioctl.BtrfsSubvolRdonly
	} else {
		fl &^= fsioctl.BtrfsSubvolRdonly
	}
	return wrap(path, fsioctl.BtrfsSubvolSetflags(fd, fl))
}

// Option adjusts one destroying mutation.
type Option func(*options) error

type options struct {
	overrides map[string]bool
	mountinfo string
}

// WithOverride lets a refusal through by its code (RefuseMountedElsewhere,
// RefuseDefault, RefuseHasChildren). RefuseTopLevel and RefuseLastDevice
// cannot be overridden.
func WithOverride(codes ...string) Option {
	return func(o *options) error {
		for _, c := range codes {
			switch c {
			case RefuseMountedElsewhere, RefuseDefault, RefuseHasChildren:
				o.overrides[c] = true
			default:
				return fmt.Errorf("%w: refusal %q cannot be overridden", ErrInvalid, c)
			}
		}
		return nil
	}
}

// WithMountinfo reads mounts from path instead of /proc/self/mountinfo
// (tests).
func WithMountinfo(path string) Option {
	return func(o *options) error { o.mountinfo = path; return nil }
}

func newOptions(opts []Option) (*options, error) {
	o := &options{overrides: map[string]bool{}, mountinfo: "/proc/self/mountinfo"}
	for _, fn := range opts {
		if err := fn(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// DeletePlan is what DeleteSubvolume would delete and why it may not.
type DeletePlan struct {
	Subvolume Subvolume       `json:"subvolume"`
	Refusals  []*RefusedError `json:"refusals,omitempty"` // before overrides
	MountedAt []string        `json:"mounted_at,omitempty"`
	Children  []uint64        `json:"children,omitempty"`
}

// PlanDelete finds subvolume id and the reasons to refuse deleting it: it
// is the top level, mounted somewhere (subvolid=id in mountinfo, on this
// filesystem), the default subvolume, or has subvolumes nested below it.
func (f *FS) PlanDelete(ctx context.Context, id uint64, opts ...Option) (*DeletePlan, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if id == TopLevelID {
		return nil, &RefusedError{Code: RefuseTopLevel, Reason: "the top-level subvolume cannot be deleted"}
	}
	all, err := f.Subvolumes(ctx)
	if err != nil {
		return nil, err
	}
	p := &DeletePlan{}
	found := false
	for _, s := range all {
		if s.ID == id {
			p.Subvolume, found = s, true
		}
		if s.ParentID == id {
			p.Children = append(p.Children, s.ID)
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no subvolume %d on %s", ErrInvalid, id, f.mountpoint)
	}
	if len(p.Children) > 0 {
		p.Refusals = append(p.Refusals, &RefusedError{Code: RefuseHasChildren,
			Reason: fmt.Sprintf("subvolume %d (%s) holds subvolumes %v", id, p.Subvolume.Path, p.Children)})
	}
	def, err := f.DefaultSubvolume(ctx)
	if err != nil {
		return nil, err
	}
	if def == id {
		p.Refusals = append(p.Refusals, &RefusedError{Code: RefuseDefault,
			Reason: fmt.Sprintf("subvolume %d (%s) is the default subvolume", id, p.Subvolume.Path)})
	}
	p.MountedAt, err = f.mountedAt(o.mountinfo, id)
	if err != nil {
		return nil, err
	}
	if len(p.MountedAt) > 0 {
		p.Refusals = append(p.Refusals, &RefusedError{Code: RefuseMountedElsewhere,
			Reason: fmt.Sprintf("subvolume %d (%s) is mounted at %s", id, p.Subvolume.Path, strings.Join(p.MountedAt, ", "))})
	}
	return p, nil
}

// mountedAt lists the mountpoints of subvolume id of this filesystem.
func (f *FS) mountedAt(path string, id uint64) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e, err := mountinfo.ParseLine(sc.Text())
		if err != nil || e.FSType != "btrfs" {
			continue
		}
		sub := uint64(0)
		for _, opt := range strings.Split(e.SuperOptions, ",") {
			if v, ok := strings.CutPrefix(opt, "subvolid="); ok {
				sub, _ = strconv.ParseUint(v, 10, 64)
			}
		}
		if sub != id {
			continue
		}
		if same, err := f.sameFS(e.MountPoint); err == nil && same {
			out = append(out, e.MountPoint)
		}
	}
	return out, sc.Err()
}

func (f *FS) sameFS(mountpoint string) (bool, error) {
	fd, err := unix.Open(mountpoint, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	info, err := fsioctl.BtrfsFSInfo(fd)
	if err != nil {
		return false, err
	}
	return uuid.UUID(info.FSID) == f.fsid, nil
}

func (p *DeletePlan) blocking(o *options) error {
	for _, r := range p.Refusals {
		if !o.overrides[r.Code] {
			return r
		}
	}
	return nil
}

// DeleteSubvolume deletes the subvolume at path (absolute, or relative to
// the mountpoint) by name, BTRFS_IOC_SNAP_DESTROY_V2 on its parent
// directory, unless PlanDelete refuses it and the refusal is not
// overridden (*RefusedError).
func (f *FS) DeleteSubvolume(ctx context.Context, path string, opts ...Option) error {
	id, err := f.SubvolumeID(ctx, path)
	if err != nil {
		return err
	}
	if err := f.checkDelete(ctx, id, opts); err != nil {
		return err
	}
	dir, name, err := splitPath(f.abs(path))
	if err != nil {
		return err
	}
	fd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return wrap(path, fsioctl.BtrfsSnapDestroyName(fd, name))
}

// DeleteSubvolumeID deletes subvolume id (BTRFS_IOC_SNAP_DESTROY_V2 by id,
// Linux 5.7), with DeleteSubvolume's refusals.
func (f *FS) DeleteSubvolumeID(ctx context.Context, id uint64, opts ...Option) error {
	if err := f.checkDelete(ctx, id, opts); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsSnapDestroyID(f.fd, id))
}

func (f *FS) checkDelete(ctx context.Context, id uint64, opts []Option) error {
	o, err := newOptions(opts)
	if err != nil {
		return err
	}
	p, err := f.PlanDelete(ctx, id, opts...)
	if err != nil {
		return err
	}
	if err := p.blocking(o); err != nil {
		return err
	}
	return ctx.Err()
}
