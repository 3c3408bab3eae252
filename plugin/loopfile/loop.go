package loopfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// loopDevice is an attached loop device: its node and number.
type loopDevice struct {
	Path   string
	Number int
}

// findLoop returns the loop device whose backing file is the file at img
// (same st_dev and st_ino, read back with LOOP_GET_STATUS64), if any. The
// kernel's backing_file attribute narrows the search; the inode decides, so
// a renamed or replaced file is never mistaken for ours.
func (b *Backend) findLoop(img string) (*loopDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(img, &st); err != nil {
		return nil, os.NewSyscallError("stat", err)
	}
	ents, err := os.ReadDir(filepath.Join(b.sysRoot, "block"))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "loop") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(name, "loop"))
		if err != nil {
			continue
		}
		bf, err := os.ReadFile(filepath.Join(b.sysRoot, "block", name, "loop", "backing_file"))
		if err != nil {
			continue // not attached
		}
		if strings.TrimSpace(string(bf)) != img {
			continue
		}
		dev := filepath.Join(b.devRoot, name)
		fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		info, err := unix.IoctlLoopGetStatus64(fd)
		unix.Close(fd)
		if err != nil {
			continue
		}
		if info.Inode == st.Ino && info.Device == st.Dev {
			return &loopDevice{Path: dev, Number: n}, nil
		}
	}
	return nil, nil
}

// attach binds img to a free loop device with LOOP_CONFIGURE (falling back to
// LOOP_SET_FD + LOOP_SET_STATUS64 on kernels without it). No autoclear: the
// device must outlive this process, so a CSI node plugin's restart keeps
// every published volume.
func (b *Backend) attach(img string) (*loopDevice, error) {
	ctl, err := unix.Open(filepath.Join(b.devRoot, "loop-control"), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("open loop-control", err)
	}
	defer unix.Close(ctl)
	file, err := unix.Open(img, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("open "+img, err)
	}
	defer unix.Close(file)
	for attempt := 0; attempt < 32; attempt++ {
		n, err := unix.IoctlRetInt(ctl, unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, os.NewSyscallError("LOOP_CTL_GET_FREE", err)
		}
		dev := filepath.Join(b.devRoot, "loop"+strconv.Itoa(n))
		fd, err := openLoopNode(dev, n)
		if err != nil {
			return nil, err
		}
		cfg := unix.LoopConfig{Fd: uint32(file)}
		copy(cfg.Info.File_name[:], img)
		err = unix.IoctlLoopConfigure(fd, &cfg)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
			err = unix.IoctlSetInt(fd, unix.LOOP_SET_FD, file)
			if err == nil {
				info := unix.LoopInfo64{}
				copy(info.File_name[:], img)
				if err = unix.IoctlLoopSetStatus64(fd, &info); err != nil {
					unix.IoctlSetInt(fd, unix.LOOP_CLR_FD, 0)
				}
			}
		}
		unix.Close(fd)
		if errors.Is(err, unix.EBUSY) {
			// Another process took the device between GET_FREE and
			// CONFIGURE: ask for the next free one.
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("LOOP_CONFIGURE "+dev, err)
		}
		return &loopDevice{Path: dev, Number: n}, nil
	}
	return nil, fmt.Errorf("loopfile: no free loop device after 32 attempts: %w", unix.EBUSY)
}

// openLoopNode opens /dev/loopN, creating the node when devtmpfs has not
// (yet) made it.
func openLoopNode(dev string, n int) (int, error) {
	for i := 0; ; i++ {
		fd, err := unix.Open(dev, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err == nil {
			return fd, nil
		}
		if !errors.Is(err, unix.ENOENT) || i >= 50 {
			return -1, os.NewSyscallError("open "+dev, err)
		}
		if i == 10 {
			unix.Mknod(dev, unix.S_IFBLK|0o660, int(unix.Mkdev(7, uint32(n))))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// detach clears the loop device. The kernel refuses with EBUSY while it is
// open (mounted, opened exclusively); that is ErrInUse to the caller.
//
// The device is opened O_EXCL first: LOOP_CLR_FD on a device others hold
// open only arms autoclear and returns success, which would report a detach
// that has not happened.
func detach(dev string) error {
	fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("loopfile: %s is open or mounted: %w", dev, plugin.ErrInUse)
	}
	if err != nil {
		return os.NewSyscallError("open "+dev, err)
	}
	defer unix.Close(fd)
	var last error
	for i := 0; i < 20; i++ {
		last = unix.IoctlSetInt(fd, unix.LOOP_CLR_FD, 0)
		if last == nil || errors.Is(last, unix.ENXIO) {
			return nil
		}
		if !errors.Is(last, unix.EBUSY) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return os.NewSyscallError("LOOP_CLR_FD "+dev, last)
}

// setCapacity tells the loop device its backing file changed size.
func setCapacity(dev string) error {
	fd, err := unix.Open(dev, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("open "+dev, err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetInt(fd, unix.LOOP_SET_CAPACITY, 0); err != nil {
		return os.NewSyscallError("LOOP_SET_CAPACITY "+dev, err)
	}
	return nil
}
