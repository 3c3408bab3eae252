package loopdev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// ErrNotAttached: no loop device has that file.
var ErrNotAttached = errors.New("loopdev: file is not attached")

// ErrBusy: the device is mounted, held or open and cannot be detached.
var ErrBusy = errors.New("loopdev: device busy")

// Device is one attached loop device.
type Device struct {
	Path  string // /dev/loopN
	Name  string // loopN
	Major uint32
	Minor uint32
}

// Attach attaches file (opened read-write) to a free loop device, with
// direct I/O when the backing filesystem allows it, and returns it. When
// the file is already attached, the existing device is returned: attaching
// a volume twice would give two devices with one page cache each.
func Attach(ctx context.Context, root sysfs.Root, file string) (Device, error) {
	if d, err := Find(root, file); err == nil {
		return d, nil
	} else if !errors.Is(err, ErrNotAttached) {
		return Device{}, err
	}
	f, err := os.OpenFile(file, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return Device{}, fmt.Errorf("loopdev: %w", err)
	}
	defer f.Close()
	ctl, err := os.OpenFile(root.Path("/dev/loop-control"), os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return Device{}, fmt.Errorf("loopdev: %w", err)
	}
	defer ctl.Close()
	for attempt := 0; attempt < 16; attempt++ {
		if err := ctx.Err(); err != nil {
			return Device{}, err
		}
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return Device{}, fmt.Errorf("loopdev: LOOP_CTL_GET_FREE: %w", err)
		}
		path := root.Path("/dev/loop" + strconv.Itoa(n))
		dev, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				// The node is made by devtmpfs a moment after the device.
				continue
			}
			return Device{}, fmt.Errorf("loopdev: %w", err)
		}
		cfg := unix.LoopConfig{Fd: uint32(f.Fd())}
		cfg.Info.Flags = unix.LO_FLAGS_DIRECT_IO
		copy(cfg.Info.File_name[:], file)
		err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		if errors.Is(err, unix.EINVAL) {
			// A backing filesystem without O_DIRECT (tmpfs): buffered.
			cfg.Info.Flags = 0
			err = unix.IoctlLoopConfigure(int(dev.Fd()), &cfg)
		}
		dev.Close()
		if errors.Is(err, unix.EBUSY) {
			continue // another attacher took it between GET_FREE and here
		}
		if err != nil {
			return Device{}, fmt.Errorf("loopdev: LOOP_CONFIGURE %s: %w", path, err)
		}
		return deviceOf(root, "loop"+strconv.Itoa(n))
	}
	return Device{}, fmt.Errorf("loopdev: no free loop device after 16 attempts: %w", unix.EBUSY)
}

// FileID is a backing file's identity: its filesystem's device and inode.
type FileID struct{ Dev, Ino uint64 }

// IDOf returns file's identity.
func IDOf(file string) (FileID, error) {
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil {
		return FileID{}, fmt.Errorf("loopdev: %w", os.NewSyscallError("stat", err))
	}
	return FileID{Dev: st.Dev, Ino: st.Ino}, nil
}

// All returns every attached loop device by its backing file's identity,
// reading each device's status once.
func All(root sysfs.Root) (map[FileID]Device, error) {
	ents, err := os.ReadDir(root.Sys("block"))
	if err != nil {
		return nil, fmt.Errorf("loopdev: %w", err)
	}
	out := map[FileID]Device{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "loop") {
			continue
		}
		if _, err := os.Stat(root.Sys("block", name, "loop")); err != nil {
			continue // not attached (the loop dir exists only while bound)
		}
		dev, err := os.OpenFile(root.Path("/dev/"+name), os.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		info, err := unix.IoctlLoopGetStatus64(int(dev.Fd()))
		dev.Close()
		if err != nil {
			continue // ENXIO: detached meanwhile
		}
		d, err := deviceOf(root, name)
		if err != nil {
			continue
		}
		out[FileID{Dev: info.Device, Ino: info.Inode}] = d
	}
	return out, nil
}

// Find returns the loop device whose backing file is file (the same device
// and inode), or ErrNotAttached.
func Find(root sysfs.Root, file string) (Device, error) {
	id, err := IDOf(file)
	if err != nil {
		return Device{}, err
	}
	all, err := All(root)
	if err != nil {
		return Device{}, err
	}
	if d, ok := all[id]; ok {
		return d, nil
	}
	return Device{}, fmt.Errorf("%w: %s", ErrNotAttached, file)
}

// SetCapacity tells the loop device of file that the file's size changed.
func SetCapacity(root sysfs.Root, d Device) error {
	f, err := os.OpenFile(root.Path(d.Path), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopdev: %w", err)
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), unix.LOOP_SET_CAPACITY, 0); err != nil {
		return fmt.Errorf("loopdev: LOOP_SET_CAPACITY %s: %w", d.Path, err)
	}
	return nil
}

// InUse says why d cannot be detached: a holder (device-mapper on it),
// a mount of it, or nothing ("").
func InUse(root sysfs.Root, d Device) (string, error) {
	holders, err := os.ReadDir(root.Sys("block", d.Name, "holders"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("loopdev: %w", err)
	}
	if len(holders) > 0 {
		return "held by " + holders[0].Name(), nil
	}
	data, err := os.ReadFile(root.Proc("self", "mountinfo"))
	if err != nil {
		return "", fmt.Errorf("loopdev: %w", err)
	}
	want := fmt.Sprintf("%d:%d", d.Major, d.Minor)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[2] == want {
			return "mounted at " + f[4], nil
		}
	}
	return "", nil
}

// Detach detaches d, refusing (ErrBusy) a device that is held or mounted.
func Detach(root sysfs.Root, d Device) error {
	why, err := InUse(root, d)
	if err != nil {
		return err
	}
	if why != "" {
		return fmt.Errorf("%w: %s is %s", ErrBusy, d.Path, why)
	}
	f, err := os.OpenFile(root.Path(d.Path), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopdev: %w", err)
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0); err != nil {
		if errors.Is(err, unix.ENXIO) {
			return nil // detached already
		}
		if errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%w: %s: %v", ErrBusy, d.Path, err)
		}
		return fmt.Errorf("loopdev: LOOP_CLR_FD %s: %w", d.Path, err)
	}
	return nil
}

func deviceOf(root sysfs.Root, name string) (Device, error) {
	b, err := os.ReadFile(root.Sys("block", name, "dev"))
	if err != nil {
		return Device{}, fmt.Errorf("loopdev: %w", err)
	}
	ma, mi, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
	maj, err1 := strconv.ParseUint(ma, 10, 32)
	min, err2 := strconv.ParseUint(mi, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return Device{}, fmt.Errorf("loopdev: %s: bad dev %q", name, b)
	}
	return Device{Path: filepath.Join("/dev", name), Name: name, Major: uint32(maj), Minor: uint32(min)}, nil
}
