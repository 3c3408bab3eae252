package quota

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// Manager reads and sets quotas. It holds no open files between calls and
// may be used from several goroutines.
type Manager struct {
	runner command.Runner
	log    *slog.Logger
	root   string // "/" or a fake root for /proc paths
}

// Option configures New; options are validated once.
type Option func(*Manager) error

// WithRunner sets the tool runner (tune2fs for Enable); the default is
// command.New().
func WithRunner(r command.Runner) Option {
	return func(m *Manager) error {
		if r == nil {
			return fmt.Errorf("%w: nil runner", ErrInvalid)
		}
		m.runner = r
		return nil
	}
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(m *Manager) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalid)
		}
		m.log = l
		return nil
	}
}

// WithRoot reads /proc (mountinfo, /proc/fs/xfs) under dir instead of /.
func WithRoot(dir string) Option {
	return func(m *Manager) error {
		if dir == "" || !filepath.IsAbs(dir) {
			return fmt.Errorf("%w: root %q must be an absolute path", ErrInvalid, dir)
		}
		m.root = dir
		return nil
	}
}

// New makes a Manager.
func New(opts ...Option) (*Manager, error) {
	m := &Manager{root: "/", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, err
		}
	}
	if m.runner == nil {
		r, err := command.New(command.WithLogger(m.log))
		if err != nil {
			return nil, err
		}
		m.runner = r
	}
	return m, nil
}

func (m *Manager) path(p string) string { return filepath.Join(m.root, p) }

// Filesystem magics (statfs f_type) the package knows.
const (
	fsExt4  = "ext4"
	fsXFS   = "xfs"
	fsBtrfs = "btrfs"
)

// mount is one open mountpoint.
type mount struct {
	fd     int
	path   string
	fstype string
	dev    uint64
}

func (m *Manager) open(mnt string) (*mount, error) {
	fd, err := unix.Open(mnt, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: mnt, Err: err}
	}
	var sf unix.Statfs_t
	var st unix.Stat_t
	if err := unix.Fstatfs(fd, &sf); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "statfs", Path: mnt, Err: err}
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: mnt, Err: err}
	}
	mo := &mount{fd: fd, path: mnt, dev: st.Dev}
	switch uint32(sf.Type) {
	case unix.EXT4_SUPER_MAGIC: // ext2, ext3 and ext4 share it
		mo.fstype = fsExt4
	case unix.XFS_SUPER_MAGIC:
		mo.fstype = fsXFS
	case unix.BTRFS_SUPER_MAGIC:
		mo.fstype = fsBtrfs
	default:
		unix.Close(fd)
		return nil, &UnavailableError{Path: mnt, FSType: fmt.Sprintf("magic %#x", uint32(sf.Type)), Reason: "quotas are managed for ext4, xfs and btrfs only"}
	}
	return mo, nil
}

func (mo *mount) close() { unix.Close(mo.fd) }

// device finds the block device of the mount in mountinfo, for quotactl(2)
// on kernels without quotactl_fd.
func (m *Manager) device(mo *mount) (string, error) {
	f, err := os.Open(m.path("/proc/self/mountinfo"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	maj, min := unix.Major(mo.dev), unix.Minor(mo.dev)
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		e, err := mountinfo.ParseLine(s.Text())
		if err != nil {
			continue
		}
		if uint64(e.Major) == uint64(maj) && uint64(e.Minor) == uint64(min) && strings.HasPrefix(e.Source, "/") {
			return e.Source, nil
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("quota: no block device for %s (%d:%d) in mountinfo", mo.path, maj, min)
}

// withMount opens mnt, checks kind against the filesystem, and runs fn.
func (m *Manager) withMount(ctx context.Context, mnt string, kind Kind, fn func(*mount) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !kind.valid() {
		return fmt.Errorf("%w: kind %d", ErrInvalid, int(kind))
	}
	mo, err := m.open(mnt)
	if err != nil {
		var ue *UnavailableError
		if errors.As(err, &ue) {
			ue.Kind = kind
		}
		return err
	}
	defer mo.close()
	if mo.fstype == fsBtrfs && kind != Subvolume {
		return &UnavailableError{Path: mnt, FSType: mo.fstype, Kind: kind, Reason: "btrfs has qgroups per subvolume only, no user, group or project quotas"}
	}
	if mo.fstype != fsBtrfs && kind == Subvolume {
		return &UnavailableError{Path: mnt, FSType: mo.fstype, Kind: kind, Reason: "subvolume quotas are btrfs qgroups"}
	}
	return fn(mo)
}

// SetLimits sets the limits of one id (0 in a field removes that limit).
// On btrfs (Kind Subvolume, id a subvolume id) only BlockHard exists: it is
// the qgroup's referenced limit; the qgroup's exclusive limit is kept.
func (m *Manager) SetLimits(ctx context.Context, mnt string, kind Kind, id uint64, l Limits) error {
	m.log.Debug("quota set", "mountpoint", mnt, "kind", kind, "id", id, "limits", l)
	return m.withMount(ctx, mnt, kind, func(mo *mount) error {
		if mo.fstype == fsBtrfs {
			return m.btrfsSetLimits(ctx, mo, id, l)
		}
		return m.vfsSetLimits(mo, kind, id, l)
	})
}

// Get reads one id's usage and limits. An id the kernel has no record of
// reads as zero usage and no limits (ext4, xfs); on btrfs a subvolume
// without a qgroup is an error.
func (m *Manager) Get(ctx context.Context, mnt string, kind Kind, id uint64) (*Usage, error) {
	var u *Usage
	err := m.withMount(ctx, mnt, kind, func(mo *mount) (err error) {
		if mo.fstype == fsBtrfs {
			u, err = m.btrfsGet(ctx, mo, id)
			return err
		}
		u, err = m.vfsGet(mo, kind, id)
		return err
	})
	return u, err
}

// List reports every id the kernel keeps a record for (usage or limits),
// sorted by id. Quotas off is an *UnavailableError, never an empty list.
func (m *Manager) List(ctx context.Context, mnt string, kind Kind) ([]Usage, error) {
	var us []Usage
	err := m.withMount(ctx, mnt, kind, func(mo *mount) (err error) {
		if mo.fstype == fsBtrfs {
			us, err = m.btrfsList(ctx, mo)
			return err
		}
		us, err = m.vfsList(ctx, mo, kind)
		return err
	})
	return us, err
}

// Enabled tells whether kind's quotas are on at mnt. A filesystem or
// kernel that cannot have them is an *UnavailableError (ErrNotSupported);
// one that can but has them off is (false, nil).
func (m *Manager) Enabled(ctx context.Context, mnt string, kind Kind) (bool, error) {
	_, err := m.Get(ctx, mnt, kind, 0)
	if errors.Is(err, ErrNotEnabled) {
		return false, nil
	}
	return err == nil, err
}

// GetGrace reads kind's grace periods (ext4, xfs).
func (m *Manager) GetGrace(ctx context.Context, mnt string, kind Kind) (Grace, error) {
	var g Grace
	err := m.withMount(ctx, mnt, kind, func(mo *mount) (err error) {
		if mo.fstype == fsBtrfs {
			return &UnavailableError{Path: mnt, FSType: mo.fstype, Kind: kind, Reason: "btrfs qgroups have no soft limits and no grace"}
		}
		g, err = m.vfsGetGrace(mo, kind)
		return err
	})
	return g, err
}

// SetGrace sets kind's grace periods (whole seconds).
func (m *Manager) SetGrace(ctx context.Context, mnt string, kind Kind, g Grace) error {
	if g.Block < 0 || g.Inode < 0 {
		return fmt.Errorf("%w: negative grace %v", ErrInvalid, g)
	}
	return m.withMount(ctx, mnt, kind, func(mo *mount) error {
		if mo.fstype == fsBtrfs {
			return &UnavailableError{Path: mnt, FSType: mo.fstype, Kind: kind, Reason: "btrfs qgroups have no soft limits and no grace"}
		}
		return m.vfsSetGrace(mo, kind, g)
	})
}
