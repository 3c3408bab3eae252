package safety

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"golang.org/x/sys/unix"
)

// DeviceLock holds a target while it is mutated: flock(LOCK_EX) on the
// whole-disk node (the systemd/udev convention: udev does not probe or
// rewrite a disk whose node is flocked) and, when asked, an O_EXCL
// descriptor on the target itself, which the kernel refuses while anything
// (a mount, swap, dm, md, another O_EXCL opener) claims the device.
type DeviceLock struct {
	Path  string   // the target
	Whole string   // the whole-disk node that is flocked
	Excl  *os.File // the O_EXCL read-write descriptor, nil unless asked for
	flk   *os.File
}

// Close releases the O_EXCL descriptor and the flock.
func (l *DeviceLock) Close() error {
	if l == nil {
		return nil
	}
	var errs []error
	if l.Excl != nil {
		errs = append(errs, l.Excl.Close())
		l.Excl = nil
	}
	if l.flk != nil {
		errs = append(errs, l.flk.Close())
		l.flk = nil
	}
	return errors.Join(errs...)
}

// LockDevice flocks the whole disk holding path (waiting until ctx is done)
// and, when exclusive, opens path O_RDWR|O_EXCL, which fails with ErrBusy
// when the kernel reports the device claimed (EBUSY). path may be a regular
// file (images in tests): then the file itself is flocked and O_EXCL is a
// plain read-write open. The whole disk is found through the live sysfs and
// /dev unless WithRoot says otherwise (the other CheckOptions do not apply).
func LockDevice(ctx context.Context, path string, exclusive bool, opts ...CheckOption) (*DeviceLock, error) {
	root, err := rootOf(opts)
	if err != nil {
		return nil, err
	}
	return lockDevice(ctx, root, path, exclusive)
}

func lockDevice(ctx context.Context, root sysfs.Root, path string, exclusive bool) (*DeviceLock, error) {
	whole, err := WholeDisk(root, path)
	if err != nil {
		return nil, err
	}
	flk, err := os.Open(whole)
	if err != nil {
		return nil, fmt.Errorf("safety: lock %s: %w", whole, err)
	}
	if err := flockCtx(ctx, flk); err != nil {
		flk.Close()
		return nil, fmt.Errorf("safety: lock %s: %w", whole, err)
	}
	l := &DeviceLock{Path: path, Whole: whole, flk: flk}
	if exclusive {
		flag := os.O_RDWR
		if isBlock(path) {
			flag |= unix.O_EXCL
		}
		f, err := os.OpenFile(path, flag, 0)
		if err != nil {
			l.Close()
			if errors.Is(err, unix.EBUSY) {
				return nil, fmt.Errorf("%w: %s is in use (O_EXCL open: EBUSY)", ErrBusy, path)
			}
			return nil, fmt.Errorf("safety: open %s exclusively: %w", path, err)
		}
		l.Excl = f
	}
	return l, nil
}

// flockCtx takes LOCK_EX, polling so a cancelled ctx is honoured (a blocking
// flock cannot be interrupted).
func flockCtx(ctx context.Context, f *os.File) error {
	delay := 5 * time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			return os.NewSyscallError("flock", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: flock held by another process: %v", ErrBusy, ctx.Err())
		case <-t.C:
		}
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// lockForRecovery flocks the target's whole disk (not O_EXCL: a restore must
// still be possible when something holds the device open).
func lockForRecovery(ctx context.Context, root sysfs.Root, path string) (*DeviceLock, error) {
	if !isBlock(path) {
		return nil, nil
	}
	return lockDevice(ctx, root, path, false)
}

func isBlock(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0
}

// WholeDisk returns the node of the whole disk that holds path (path itself
// for a whole disk or a regular file), from sysfs: a partition's sysfs
// directory sits inside its disk's and has a "partition" attribute.
func WholeDisk(root sysfs.Root, path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("safety: %s: %w", path, os.NewSyscallError("stat", err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return path, nil
	}
	majmin := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	dir, err := filepath.EvalSymlinks(root.Sys("dev", "block", majmin))
	if err != nil {
		return "", fmt.Errorf("safety: sysfs entry of %s (%s): %w", path, majmin, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err != nil {
		return path, nil
	}
	parent := filepath.Dir(dir)
	name := filepath.Base(parent)
	node := root.Dev(name)
	if _, err := os.Stat(node); err != nil {
		// Names with "!" in sysfs stand for "/" in /dev (cciss!c0d0).
		node = root.Dev(strings.ReplaceAll(name, "!", "/"))
	}
	return node, nil
}
