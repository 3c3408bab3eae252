package dmioctl

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ControlPath is the device-mapper control node.
const ControlPath = "/dev/mapper/control"

// ErrNoDeviceMapper says the kernel has no device-mapper (the control node
// is missing or its driver is not loaded).
var ErrNoDeviceMapper = errors.New("dmioctl: no device-mapper in this kernel")

// Control is an open /dev/mapper/control.
type Control struct{ f *os.File }

// Open opens the control node read-write (the kernel requires it even for
// the read-only calls); a missing node or driver is ErrNoDeviceMapper.
func Open() (*Control, error) {
	f, err := os.OpenFile(ControlPath, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			return nil, fmt.Errorf("%w: %v", ErrNoDeviceMapper, err)
		}
		return nil, err
	}
	return &Control{f: f}, nil
}

// Close closes the control node.
func (c *Control) Close() error { return c.f.Close() }

// call runs one ioctl with a buffer of size bytes, growing it while the
// kernel says it was full. It returns the answer's header and its data.
func (c *Control) call(req uintptr, name string, flags uint32, size int) (Ioctl, []byte, error) {
	for {
		h, err := Header(name, size, flags)
		if err != nil {
			return h, nil, err
		}
		// A []uint64 backing keeps the header 8-byte aligned.
		buf := make([]uint64, (size+7)/8)
		b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(buf)*8)
		*(*Ioctl)(unsafe.Pointer(&buf[0])) = h
		raw, err := c.f.SyscallConn()
		if err != nil {
			return h, nil, err
		}
		var errno unix.Errno
		if cerr := raw.Control(func(fd uintptr) {
			_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&buf[0])))
		}); cerr != nil {
			return h, nil, cerr
		}
		out := *(*Ioctl)(unsafe.Pointer(&buf[0]))
		if errno != 0 {
			return out, nil, os.NewSyscallError("ioctl dm", errno)
		}
		if out.Flags&BufferFullFlag != 0 {
			if size >= 64<<20 {
				return out, nil, fmt.Errorf("%w: answer over 64 MiB", ErrMalformed)
			}
			size *= 4
			continue
		}
		if out.DataStart < SizeofIoctl || out.DataStart > out.DataSize || int(out.DataSize) > len(b) {
			return out, nil, fmt.Errorf("%w: data_start %d data_size %d buffer %d", ErrMalformed, out.DataStart, out.DataSize, len(b))
		}
		data := append([]byte(nil), b[out.DataStart:out.DataSize]...)
		return out, data, nil
	}
}

// Version is the kernel's dm interface version.
func (c *Control) Version() ([3]uint32, error) {
	h, _, err := c.call(DM_VERSION, "", 0, SizeofIoctl)
	return h.Version, err
}

// ListDevices lists every mapped device.
func (c *Control) ListDevices() ([]Device, error) {
	_, data, err := c.call(DM_LIST_DEVICES, "", 0, 16<<10)
	if err != nil {
		return nil, err
	}
	return ParseNameList(data)
}

// Status is a device's header and its targets.
type Status struct {
	Name, UUID   string
	Major, Minor uint32
	OpenCount    int32
	Flags        uint32
	EventNr      uint32
	Targets      []Target
}

// Active, Suspended and ReadOnly read the flags.
func (s *Status) Active() bool    { return s.Flags&ActivePresentFlag != 0 }
func (s *Status) Suspended() bool { return s.Flags&SuspendFlag != 0 }
func (s *Status) ReadOnly() bool  { return s.Flags&ReadonlyFlag != 0 }

// TableStatus returns the named device's status lines, or with table set
// its table lines (DM_STATUS_TABLE_FLAG).
func (c *Control) TableStatus(name string, table bool) (*Status, error) {
	var flags uint32
	if table {
		flags = StatusTableFlag
	}
	h, data, err := c.call(DM_TABLE_STATUS, name, flags, 16<<10)
	if err != nil {
		return nil, fmt.Errorf("dm table status %s: %w", name, err)
	}
	ts, err := ParseTargets(data, h.TargetCount)
	if err != nil {
		return nil, err
	}
	return &Status{Name: h.NameString(), UUID: h.UUIDString(), Major: h.Major(), Minor: h.Minor(),
		OpenCount: h.OpenCount, Flags: h.Flags, EventNr: h.EventNr, Targets: ts}, nil
}
