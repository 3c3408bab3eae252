package fsys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// WithTempMount mounts dev (type t, read-only if asked, always nosuid and
// nodev) on a fresh temporary directory that no other process and no other
// thread of this process can see, runs fn(dir), unmounts and removes the
// directory. It is for the tools that need a mounted filesystem (a btrfs
// command, xfs_growfs on an unmounted xfs) without the mount ever being
// visible to the system, to a desktop automounter or to a concurrent
// operation.
//
// How: on a new goroutine locked to its OS thread, unshare(CLONE_NEWNS)
// gives that one thread its own copy of the mount table; making "/"
// recursively private in that copy stops propagation, so the mount made
// next does not appear in the original namespace's peer groups (the copies
// of shared mounts would otherwise carry it back). fn runs on that same
// thread; a tool fn starts with os/exec is forked from that thread and so
// inherits the namespace. Goroutines fn starts run on other threads and do
// NOT see the mount.
//
// The thread is never the process's main thread (the runtime cannot end
// that one, and /proc/self shows its namespace to the whole process), and
// it is never unlocked: its mount namespace (and, since CLONE_NEWNS
// implies CLONE_FS, its root and working directory) are no longer the
// process's, and an unlocked thread would go back to the scheduler and run
// unrelated goroutines against the wrong mount table. A goroutine that
// exits while locked makes the runtime end its thread, so the namespace
// dies with it, and with the namespace any mount the unmount below could
// not remove.
//
// ctx is checked before anything is mounted; fn should watch ctx itself.
// A panic in fn is re-raised on the caller's goroutine after the cleanup.
func (m *Manager) WithTempMount(ctx context.Context, dev string, t Type, readOnly bool, fn func(dir string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if fn == nil {
		return fmt.Errorf("%w: nil function", ErrInvalid)
	}
	if !filepath.IsAbs(dev) {
		return fmt.Errorf("%w: device %q must be an absolute path", ErrInvalid, dev)
	}
	if !mountableType(t) {
		return fmt.Errorf("%w: cannot mount type %q", ErrInvalid, t)
	}
	type result struct {
		err      error
		panicked bool
		p        any
	}
	res := make(chan result, 1)
	var work func(locked chan<- struct{})
	work = func(locked chan<- struct{}) {
		runtime.LockOSThread()
		if locked != nil {
			close(locked)
		}
		if unix.Gettid() == unix.Getpid() {
			// This is the process's main thread, which the runtime never
			// ends: it would stay in the private namespace for good, and
			// /proc/self/mountinfo (the main thread's view) would show that
			// copy to everyone in the process. Holding it until another
			// goroutine has locked a thread, which therefore is not this
			// one, start again there.
			again := make(chan struct{})
			go work(again)
			<-again
			runtime.UnlockOSThread()
			return
		}
		// No UnlockOSThread, on purpose: see the doc comment.
		var r result
		func() {
			defer func() {
				if p := recover(); p != nil {
					r = result{panicked: true, p: p}
				}
			}()
			r.err = m.tempMountOnThisThread(dev, t, readOnly, fn)
		}()
		res <- r
	}
	go work(nil)
	r := <-res
	if r.panicked {
		panic(r.p)
	}
	return r.err
}

// tempMountOnThisThread runs on the locked thread.
func (m *Manager) tempMountOnThisThread(dev string, t Type, readOnly bool, fn func(string) error) (err error) {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return mountError("unshare(CLONE_NEWNS)", dev, "", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return mountError("make / rprivate", "/", "", err)
	}
	dir, err := os.MkdirTemp("", "eos-fsys-mnt-")
	if err != nil {
		return fmt.Errorf("fsys: temporary mount directory: %w", err)
	}
	defer func() {
		if rerr := os.Remove(dir); rerr != nil && err == nil {
			err = fmt.Errorf("fsys: removing %s: %w", dir, rerr)
		}
	}()
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV)
	if readOnly {
		flags |= unix.MS_RDONLY
	}
	var data []string
	if readOnly && t == Btrfs {
		// A read-only btrfs mount still replays the log tree (btrfs(5)):
		// a read-only look (the minimum size) must write nothing.
		data = append(data, "rescue=nologreplay")
	}
	if t == Btrfs {
		// A multi-device btrfs mounts only when the kernel knows every
		// member; without udev nobody scanned them.
		members, err := m.btrfsMembers(dev)
		if err != nil {
			return err
		}
		if len(members) > 0 {
			data = append(data, btrfsDeviceOptions(members))
		}
	}
	if err := unix.Mount(dev, dir, string(t), flags, strings.Join(data, ",")); err != nil {
		return mountError("mount", dev+" on "+dir, t, err)
	}
	m.log.Debug("private temporary mount", "dev", dev, "dir", dir, "type", string(t), "ro", readOnly)
	defer func() {
		uerr := unix.Unmount(dir, unix.UMOUNT_NOFOLLOW)
		if uerr != nil {
			// Busy (fn left a file open, or a tool still runs): detach it;
			// the namespace ends with this thread anyway.
			m.log.Warn("temporary mount busy, detaching", "dir", dir, "err", uerr)
			if derr := unix.Unmount(dir, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW); derr != nil && err == nil {
				err = mountError("umount2", dir, t, errors.Join(uerr, derr))
			}
		}
	}()
	return fn(dir)
}
