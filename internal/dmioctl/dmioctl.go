package dmioctl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Sizes from dm-ioctl.h.
const (
	NameLen     = 128 // DM_NAME_LEN
	UUIDLen     = 129 // DM_UUID_LEN
	MaxTypeName = 16  // DM_MAX_TYPE_NAME

	SizeofIoctl      = 312 // sizeof(struct dm_ioctl)
	SizeofTargetSpec = 40  // sizeof(struct dm_target_spec)
	SizeofNameList   = 12  // offsetof(struct dm_name_list, name)
)

// The interface version we speak: major 4 is the only one, and the kernel
// accepts any minor at or below its own.
const (
	VersionMajor = 4
	VersionMinor = 0
	VersionPatch = 0
)

// Command numbers (enum of DM_*_CMD).
const (
	cmdVersion     = 0
	cmdListDevices = 2
	cmdDevStatus   = 7
	cmdTableStatus = 12
)

// ioctlType is DM_IOCTL.
const ioctlType = 0xfd

// iowr is _IOWR(type, nr, size) with the generic (x86, arm, riscv) encoding.
func iowr(nr, size uintptr) uintptr {
	return 3<<30 | size<<16 | ioctlType<<8 | nr
}

// The ioctl numbers.
var (
	DM_VERSION      = iowr(cmdVersion, SizeofIoctl)
	DM_LIST_DEVICES = iowr(cmdListDevices, SizeofIoctl)
	DM_DEV_STATUS   = iowr(cmdDevStatus, SizeofIoctl)
	DM_TABLE_STATUS = iowr(cmdTableStatus, SizeofIoctl)
)

// Flags of dm_ioctl.flags.
const (
	ReadonlyFlag        = 1 << 0  // DM_READONLY_FLAG
	SuspendFlag         = 1 << 1  // DM_SUSPEND_FLAG
	StatusTableFlag     = 1 << 4  // DM_STATUS_TABLE_FLAG: table, not status
	ActivePresentFlag   = 1 << 5  // DM_ACTIVE_PRESENT_FLAG
	InactivePresentFlag = 1 << 6  // DM_INACTIVE_PRESENT_FLAG
	BufferFullFlag      = 1 << 8  // DM_BUFFER_FULL_FLAG
	NoflushFlag         = 1 << 11 // DM_NOFLUSH_FLAG
	UUIDFlag            = 1 << 14 // DM_UUID_FLAG
)

// Ioctl is struct dm_ioctl. The layout has no pointers and explicit
// padding, so it is the same on every 64-bit and 32-bit Linux.
type Ioctl struct {
	Version     [3]uint32
	DataSize    uint32 // whole buffer, header included
	DataStart   uint32 // offset of the data from the header's start
	TargetCount uint32
	OpenCount   int32
	Flags       uint32
	EventNr     uint32
	Padding     uint32
	Dev         uint64 // huge_encode_dev(major, minor)
	Name        [NameLen]byte
	UUID        [UUIDLen]byte
	Data        [7]byte
}

var _ [SizeofIoctl]byte = [unsafe.Sizeof(Ioctl{})]byte{}

// ErrMalformed is a kernel answer that does not decode.
var ErrMalformed = errors.New("dmioctl: malformed answer")

// Header returns the header of a call for the named device (empty for
// calls about no device), with the buffer size and flags set.
func Header(name string, size int, flags uint32) (Ioctl, error) {
	var h Ioctl
	if len(name) >= NameLen {
		return h, fmt.Errorf("dmioctl: device name %q longer than %d bytes", name, NameLen-1)
	}
	h.Version = [3]uint32{VersionMajor, VersionMinor, VersionPatch}
	h.DataSize = uint32(size)
	h.DataStart = SizeofIoctl
	h.Flags = flags
	copy(h.Name[:], name)
	return h, nil
}

// cstr is a NUL-terminated string in b.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// NameString and UUIDString are the header's strings.
func (h *Ioctl) NameString() string { return cstr(h.Name[:]) }
func (h *Ioctl) UUIDString() string { return cstr(h.UUID[:]) }

// Major and Minor decode Dev (the kernel's huge_encode_dev).
func (h *Ioctl) Major() uint32 { return Major(h.Dev) }
func (h *Ioctl) Minor() uint32 { return Minor(h.Dev) }

// Major and Minor decode a huge_encode_dev value.
func Major(dev uint64) uint32 { return uint32((dev >> 8) & 0xfff) }
func Minor(dev uint64) uint32 { return uint32(dev&0xff | (dev>>12)&0xfff00) }

// Device is one entry of DM_LIST_DEVICES.
type Device struct {
	Name         string
	Major, Minor uint32
}

// ParseNameList decodes the data of DM_LIST_DEVICES: struct dm_name_list
// entries (dev u64, next u32, name), chained by next (the offset of the
// following entry from this one; 0 ends the list).
func ParseNameList(data []byte) ([]Device, error) {
	var out []Device
	off := 0
	for len(data) > 0 {
		if off+SizeofNameList > len(data) {
			return out, fmt.Errorf("%w: name list entry at %d past the %d-byte buffer", ErrMalformed, off, len(data))
		}
		e := data[off:]
		dev := binary.LittleEndian.Uint64(e[0:8])
		next := binary.LittleEndian.Uint32(e[8:12])
		end := len(e)
		if next != 0 {
			if int64(next) < SizeofNameList || int64(off)+int64(next) > int64(len(data)) {
				return out, fmt.Errorf("%w: name list next %d at %d", ErrMalformed, next, off)
			}
			end = int(next)
		}
		name := e[SizeofNameList:end]
		if bytes.IndexByte(name, 0) < 0 {
			return out, fmt.Errorf("%w: name list entry at %d has no terminator", ErrMalformed, off)
		}
		out = append(out, Device{Name: cstr(name), Major: Major(dev), Minor: Minor(dev)})
		if next == 0 {
			break
		}
		off += int(next)
	}
	return out, nil
}

// Target is one dm_target_spec of DM_TABLE_STATUS with the string after
// it: the table line, or the status line (StatusTableFlag unset).
type Target struct {
	Start, Length uint64 // in 512-byte sectors
	Status        int32
	Type          string
	Params        string
}

// ParseTargets decodes count dm_target_spec entries in data. In a
// DM_TABLE_STATUS answer next is the offset of the following spec from the
// first one (from the data start).
func ParseTargets(data []byte, count uint32) ([]Target, error) {
	if uint64(count)*SizeofTargetSpec > uint64(len(data)) {
		return nil, fmt.Errorf("%w: %d targets in %d bytes", ErrMalformed, count, len(data))
	}
	out := make([]Target, 0, count)
	off := 0
	for i := uint32(0); i < count; i++ {
		if off < 0 || off+SizeofTargetSpec > len(data) {
			return out, fmt.Errorf("%w: target %d at %d past the %d-byte buffer", ErrMalformed, i, off, len(data))
		}
		s := data[off:]
		t := Target{
			Start:  binary.LittleEndian.Uint64(s[0:8]),
			Length: binary.LittleEndian.Uint64(s[8:16]),
			Status: int32(binary.LittleEndian.Uint32(s[16:20])),
			Type:   cstr(s[24 : 24+MaxTypeName]),
		}
		next := binary.LittleEndian.Uint32(s[20:24])
		params := s[SizeofTargetSpec:]
		if i+1 < count {
			if int64(next) <= int64(off)+SizeofTargetSpec-1 || int64(next) > int64(len(data)) {
				return out, fmt.Errorf("%w: target %d next %d", ErrMalformed, i, next)
			}
			params = data[off+SizeofTargetSpec : next]
		}
		if bytes.IndexByte(params, 0) < 0 {
			return out, fmt.Errorf("%w: target %d parameters have no terminator", ErrMalformed, i)
		}
		t.Params = cstr(params)
		out = append(out, t)
		off = int(next)
	}
	return out, nil
}
