package btrfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// FS is an open, mounted btrfs filesystem (a descriptor on its mountpoint).
// Its methods may be called from several goroutines; Close ends them all.
type FS struct {
	fd         int
	mountpoint string
	fsid       uuid.UUID
	maxID      atomic.Uint64 // the highest subvolume id the last listing saw
	bufs       sync.Pool     // *[]uint64 search buffers of searchBuf bytes, kept between searches
}

// searchBuf is the size of the buffer each tree search fills per ioctl:
// a listing of 1,000 subvolumes (about 600 KiB of items) is four ioctls.
// The buffer is kept (one per concurrent search) while the FS is open, so
// its pages are not faulted in again. Measured on 1,000 subvolumes, 16 KiB
// to 1 MiB buffers kept so all cost about the same (~1 ms, the kernel's
// copying of 2,990 items); a new buffer per search, or a larger one (the
// kernel faults in the whole rest of the buffer before each leaf), costs
// more.
const searchBuf = 256 << 10

// Open opens the btrfs filesystem mounted at mountpoint (any directory of
// it works; paths given to the methods are taken as they are, not relative
// to it).
func Open(mountpoint string) (*FS, error) {
	fd, err := unix.Open(mountpoint, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: mountpoint, Err: err}
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "statfs", Path: mountpoint, Err: err}
	}
	if uint32(st.Type) != unix.BTRFS_SUPER_MAGIC {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s (magic %#x)", ErrNotBtrfs, mountpoint, uint32(st.Type))
	}
	info, err := fsioctl.BtrfsFSInfo(fd)
	if err != nil {
		unix.Close(fd)
		return nil, wrap(mountpoint, err)
	}
	return &FS{fd: fd, mountpoint: mountpoint, fsid: uuid.UUID(info.FSID)}, nil
}

// Close releases the descriptor.
func (f *FS) Close() error {
	if f == nil || f.fd < 0 {
		return nil
	}
	err := unix.Close(f.fd)
	f.fd = -1
	return err
}

// Mountpoint is the path Open was given.
func (f *FS) Mountpoint() string { return f.mountpoint }

// FSID is the filesystem's uuid (what blkid calls UUID).
func (f *FS) FSID() uuid.UUID { return f.fsid }

// Key is the scheduler key of the whole filesystem, FilesystemKey(FSID).
func (f *FS) Key() sched.Key { return FilesystemKey(f.fsid.String()) }

// FilesystemKey is the scheduler key of the btrfs filesystem fsid, across
// all its devices: balance, scrub, device add/remove and resize (fsys's
// ResizeOp too) claim it exclusively, so two of them never run at once on
// one filesystem.
func FilesystemKey(fsid string) sched.Key { return sched.Root("btrfs", fsid) }

// Sync commits the running transaction (BTRFS_IOC_SYNC), so the trees read
// by search show what was just written.
func (f *FS) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsSync(f.fd))
}

// wrap makes EPERM from an ioctl an ErrPermission and names the
// filesystem; nil stays nil.
func wrap(mountpoint string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w: %s: %w", ErrPermission, mountpoint, err)
	}
	return fmt.Errorf("btrfs %s: %w", mountpoint, err)
}

// search walks a tree of the filesystem; see fsioctl.BtrfsSearch.
func (f *FS) search(ctx context.Context, key fsioctl.BtrfsSearchKey, fn func(h fsioctl.BtrfsSearchHeader, item []byte) error) error {
	b, _ := f.bufs.Get().(*[]uint64)
	if b == nil {
		m := fsioctl.NewBtrfsSearchBuf(searchBuf)
		b = &m
	}
	err := fsioctl.BtrfsSearchBuf(ctx, f.fd, key, *b, fn)
	f.bufs.Put(b)
	var se *os.SyscallError
	if errors.As(err, &se) {
		return wrap(f.mountpoint, err)
	}
	return err
}
