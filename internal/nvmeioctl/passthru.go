package nvmeioctl

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AdminCmd is struct nvme_passthru_cmd (== struct nvme_admin_cmd).
type AdminCmd struct {
	Opcode      uint8
	Flags       uint8
	Rsvd1       uint16
	NSID        uint32
	Cdw2        uint32
	Cdw3        uint32
	Metadata    uint64
	Addr        uint64
	MetadataLen uint32
	DataLen     uint32
	Cdw10       uint32
	Cdw11       uint32
	Cdw12       uint32
	Cdw13       uint32
	Cdw14       uint32
	Cdw15       uint32
	TimeoutMs   uint32
	Result      uint32
}

// AdminCmd64 is struct nvme_passthru_cmd64, whose result is 64 bits wide.
type AdminCmd64 struct {
	Opcode      uint8
	Flags       uint8
	Rsvd1       uint16
	NSID        uint32
	Cdw2        uint32
	Cdw3        uint32
	Metadata    uint64
	Addr        uint64
	MetadataLen uint32
	DataLen     uint32
	Cdw10       uint32
	Cdw11       uint32
	Cdw12       uint32
	Cdw13       uint32
	Cdw14       uint32
	Cdw15       uint32
	TimeoutMs   uint32
	Rsvd2       uint32
	Result      uint64
}

// Sizes the ioctl numbers encode.
const (
	SizeofAdminCmd   = 72
	SizeofAdminCmd64 = 80
)

// ioctl numbers of include/uapi/linux/nvme_ioctl.h.
var (
	IoctlID         = ioc(iocNone, 'N', 0x40, 0)
	IoctlAdminCmd   = ioc(iocRead|iocWrite, 'N', 0x41, SizeofAdminCmd)
	IoctlAdmin64Cmd = ioc(iocRead|iocWrite, 'N', 0x47, SizeofAdminCmd64)
)

// Admin opcodes used by this module (NVMe base spec, Figure "Opcodes for Admin Commands").
const (
	OpGetLogPage     = 0x02
	OpIdentify       = 0x06
	OpDeviceSelfTest = 0x14
)

// MaxData bounds one command's data buffer; the log pages and identify
// structures this module reads are far smaller.
const MaxData = 4 << 20

// NSIDAll is the broadcast namespace id: controller-wide log pages.
const NSIDAll = 0xffffffff

// Status code types.
const (
	SCTGeneric         = 0x0
	SCTCommandSpecific = 0x1
	SCTMediaError      = 0x2
	SCTPath            = 0x3
	SCTVendor          = 0x7
)

// ErrStatus is matched (errors.Is) by every *StatusError.
var ErrStatus = errors.New("nvme: command completed with error status")

// ErrBadRequest is a command this package refuses to send.
var ErrBadRequest = errors.New("nvme: bad request")

// StatusError is a nonzero NVMe completion status: the controller answered
// and refused or failed the command.
type StatusError struct {
	Raw  uint16 // the ioctl's return value: status field without the phase tag
	SC   uint8  // status code
	SCT  uint8  // status code type
	CRD  uint8  // command retry delay
	More bool
	DNR  bool // do not retry
}

// DecodeStatus splits the status the ioctl returned into its fields.
func DecodeStatus(raw uint16) *StatusError {
	return &StatusError{
		Raw:  raw,
		SC:   uint8(raw),
		SCT:  uint8(raw>>8) & 0x7,
		CRD:  uint8(raw>>11) & 0x3,
		More: raw&(1<<13) != 0,
		DNR:  raw&(1<<14) != 0,
	}
}

var genericNames = map[uint8]string{
	0x00: "successful completion", 0x01: "invalid command opcode", 0x02: "invalid field in command",
	0x03: "command id conflict", 0x04: "data transfer error", 0x05: "commands aborted due to power loss",
	0x06: "internal error", 0x07: "command abort requested", 0x08: "command aborted due to SQ deletion",
	0x0b: "invalid namespace or format", 0x0c: "command sequence error", 0x0d: "invalid SGL segment descriptor",
	0x1d: "operation denied", 0x1e: "SGL offset invalid",
	0x80: "LBA out of range", 0x81: "capacity exceeded", 0x82: "namespace not ready",
}

var commandNames = map[uint8]string{
	0x01: "invalid completion queue", 0x02: "invalid queue identifier", 0x06: "invalid firmware slot",
	0x09: "invalid log page", 0x0a: "invalid format", 0x1d: "device self-test in progress",
}

var mediaNames = map[uint8]string{
	0x80: "write fault", 0x81: "unrecovered read error", 0x82: "end-to-end guard check error",
	0x83: "end-to-end application tag check error", 0x84: "end-to-end reference tag check error",
	0x85: "compare failure", 0x86: "access denied", 0x87: "deallocated or unwritten logical block",
}

// Name is the spec's name for the status, or a generic description.
func (e *StatusError) Name() string {
	var m map[uint8]string
	switch e.SCT {
	case SCTGeneric:
		m = genericNames
	case SCTCommandSpecific:
		m = commandNames
	case SCTMediaError:
		m = mediaNames
	}
	if n, ok := m[e.SC]; ok {
		return n
	}
	return fmt.Sprintf("status code type 0x%x code 0x%02x", e.SCT, e.SC)
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("nvme: %s (status 0x%04x", e.Name(), e.Raw)
	if e.DNR {
		s += ", do not retry"
	}
	return s + ")"
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }

// InvalidCommand reports a status that means the controller does not
// implement what was asked: invalid opcode, invalid field, invalid log page.
func (e *StatusError) InvalidCommand() bool {
	return (e.SCT == SCTGeneric && (e.SC == 0x01 || e.SC == 0x02)) ||
		(e.SCT == SCTCommandSpecific && e.SC == 0x09)
}

// Admin sends cmd with data as its data buffer (Addr and DataLen are set
// from data) through NVME_IOCTL_ADMIN_CMD on fd, with the given timeout.
// It returns the completion's result dword. A positive ioctl return is a
// *StatusError; a failed ioctl is a *os.SyscallError.
func Admin(fd int, cmd AdminCmd, data []byte, timeout time.Duration) (uint32, error) {
	if len(data) > MaxData {
		return 0, fmt.Errorf("%w: data length %d", ErrBadRequest, len(data))
	}
	ms := timeout.Milliseconds()
	if ms <= 0 {
		ms = 1
	}
	if ms > int64(^uint32(0)) {
		ms = int64(^uint32(0))
	}
	c := new(AdminCmd)
	*c = cmd
	c.TimeoutMs = uint32(ms)
	c.DataLen = uint32(len(data))
	c.Addr = 0
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(c)
	if len(data) > 0 {
		pin.Pin(&data[0])
		c.Addr = uint64(uintptr(unsafe.Pointer(&data[0])))
	}
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), IoctlAdminCmd, uintptr(unsafe.Pointer(c)))
	runtime.KeepAlive(c)
	runtime.KeepAlive(data)
	if errno != 0 {
		return 0, os.NewSyscallError("ioctl NVME_IOCTL_ADMIN_CMD", errno)
	}
	if r != 0 {
		return c.Result, DecodeStatus(uint16(r))
	}
	return c.Result, nil
}

// GetLogPageCmd builds a Get Log Page command for log id lid of n bytes
// (n a multiple of 4, at most 4 MiB here) at byte offset off.
func GetLogPageCmd(nsid uint32, lid uint8, n int, off uint64) (AdminCmd, error) {
	if n <= 0 || n%4 != 0 || n > MaxData || off%4 != 0 {
		return AdminCmd{}, fmt.Errorf("%w: log page length %d offset %d", ErrBadRequest, n, off)
	}
	numd := uint32(n/4 - 1) // zero-based dword count
	return AdminCmd{
		Opcode: OpGetLogPage,
		NSID:   nsid,
		Cdw10:  uint32(lid) | (numd&0xffff)<<16,
		Cdw11:  numd >> 16,
		Cdw12:  uint32(off),
		Cdw13:  uint32(off >> 32),
	}, nil
}

// IdentifyCmd builds an Identify command for the given CNS value (1 is the
// controller, 0 a namespace). Identify always returns 4096 bytes.
func IdentifyCmd(nsid uint32, cns uint8) AdminCmd {
	return AdminCmd{Opcode: OpIdentify, NSID: nsid, Cdw10: uint32(cns)}
}

// SelfTestCmd builds a Device Self-test command (stc 1 short, 2 extended, 0xf abort).
func SelfTestCmd(nsid uint32, stc uint8) AdminCmd {
	return AdminCmd{Opcode: OpDeviceSelfTest, NSID: nsid, Cdw10: uint32(stc & 0xf)}
}
