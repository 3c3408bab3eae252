package sgio

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// IoctlSGIO is SG_IO from include/scsi/sg.h. It is a plain number, not an
// _IOWR encoding, so it is the same on every architecture.
const IoctlSGIO = 0x2285

// InterfaceID is the 'S' that sg_io_hdr.interface_id must hold.
const InterfaceID = 'S'

// Data transfer directions (sg_io_hdr.dxfer_direction).
const (
	DxferNone    int32 = -1 // SG_DXFER_NONE
	DxferToDev   int32 = -2 // SG_DXFER_TO_DEV
	DxferFromDev int32 = -3 // SG_DXFER_FROM_DEV
)

// Status values this package interprets.
const (
	StatusGood           = 0x00 // SCSI GOOD
	StatusCheckCondition = 0x02 // SCSI CHECK CONDITION
	infoOKMask           = 0x1  // SG_INFO_OK_MASK
	driverSense          = 0x08 // DRIVER_SENSE in driver_status
	driverMask           = 0x0f // low nibble of driver_status is the driver code
)

// MaxSense is the sense buffer size we hand the kernel (SCSI_SENSE_BUFFERSIZE).
const MaxSense = 96

// Hdr is struct sg_io_hdr. Pointer members are unsafe.Pointer so the layout
// follows the platform's pointer size exactly as the C struct does.
type Hdr struct {
	InterfaceID    int32
	DxferDirection int32
	CmdLen         uint8
	MxSbLen        uint8
	IovecCount     uint16
	DxferLen       uint32
	Dxferp         unsafe.Pointer
	Cmdp           unsafe.Pointer
	Sbp            unsafe.Pointer
	Timeout        uint32 // milliseconds
	Flags          uint32
	PackID         int32
	UsrPtr         unsafe.Pointer
	Status         uint8
	MaskedStatus   uint8
	MsgStatus      uint8
	SbLenWr        uint8
	HostStatus     uint16
	DriverStatus   uint16
	Resid          int32
	Duration       uint32
	Info           uint32
}

// Errors of this package.
var (
	// ErrBadRequest is a malformed request (empty CDB, oversized buffer, bad direction).
	ErrBadRequest = errors.New("sgio: bad request")
	// ErrTransport is a command the host adapter or driver failed before the device answered.
	ErrTransport = errors.New("sgio: transport error")
	// ErrCheckCondition is a command the device answered with CHECK CONDITION.
	ErrCheckCondition = errors.New("sgio: check condition")
)

// Request is one SCSI command.
type Request struct {
	CDB       []byte
	Direction int32  // DxferNone, DxferToDev or DxferFromDev
	Data      []byte // the data buffer (nil for DxferNone)
	Timeout   time.Duration
}

// Result is what the kernel wrote back into the header.
type Result struct {
	Status       uint8
	HostStatus   uint16
	DriverStatus uint16
	Info         uint32
	Resid        int32
	Duration     time.Duration
	Sense        []byte // the bytes the kernel wrote (sb_len_wr), a copy
}

// OK reports whether the command completed with no error of any layer.
func (r Result) OK() bool {
	return r.Info&infoOKMask == 0 && r.Status == StatusGood && r.HostStatus == 0 &&
		r.DriverStatus&driverMask == 0
}

// TransportError describes a failure below the device (host or driver status).
type TransportError struct {
	HostStatus, DriverStatus uint16
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("sgio: host status 0x%02x, driver status 0x%02x", e.HostStatus, e.DriverStatus)
}

// Is makes errors.Is(err, ErrTransport) true.
func (e *TransportError) Is(target error) bool { return target == ErrTransport }

// Err turns a Result into an error: nil when OK, a *TransportError when the
// host or driver failed, and a *SenseError (decoded sense) on CHECK CONDITION.
func (r Result) Err() error {
	if r.OK() {
		return nil
	}
	if r.HostStatus != 0 || (r.DriverStatus&driverMask != 0 && r.DriverStatus&driverMask != driverSense) {
		return &TransportError{HostStatus: r.HostStatus, DriverStatus: r.DriverStatus}
	}
	s, err := ParseSense(r.Sense)
	if err != nil {
		return fmt.Errorf("%w: status 0x%02x, undecodable sense: %w", ErrCheckCondition, r.Status, err)
	}
	return &SenseError{Status: r.Status, Sense: s}
}

// Do issues req on the open file descriptor fd with the SG_IO ioctl.
// The ioctl error (a *os.SyscallError) is returned as the error; the
// command's own outcome is in the Result.
func Do(fd int, req Request) (Result, error) {
	if len(req.CDB) == 0 || len(req.CDB) > 255 {
		return Result{}, fmt.Errorf("%w: CDB length %d", ErrBadRequest, len(req.CDB))
	}
	if uint64(len(req.Data)) > 1<<31 {
		return Result{}, fmt.Errorf("%w: data length %d", ErrBadRequest, len(req.Data))
	}
	switch req.Direction {
	case DxferNone:
		if len(req.Data) != 0 {
			return Result{}, fmt.Errorf("%w: data with no transfer direction", ErrBadRequest)
		}
	case DxferToDev, DxferFromDev:
		if len(req.Data) == 0 {
			return Result{}, fmt.Errorf("%w: transfer direction with no data", ErrBadRequest)
		}
	default:
		return Result{}, fmt.Errorf("%w: direction %d", ErrBadRequest, req.Direction)
	}
	ms := req.Timeout.Milliseconds()
	if ms <= 0 {
		ms = 1
	}
	if ms > int64(^uint32(0)) {
		ms = int64(^uint32(0))
	}
	// Copy the CDB so the caller's slice is never shared with the kernel,
	// and keep every buffer on the heap, pinned, for the ioctl's duration.
	cdb := make([]byte, len(req.CDB))
	copy(cdb, req.CDB)
	sense := make([]byte, MaxSense)
	hdr := &Hdr{
		InterfaceID:    InterfaceID,
		DxferDirection: req.Direction,
		CmdLen:         uint8(len(cdb)),
		MxSbLen:        uint8(len(sense)),
		DxferLen:       uint32(len(req.Data)),
		Cmdp:           unsafe.Pointer(&cdb[0]),
		Sbp:            unsafe.Pointer(&sense[0]),
		Timeout:        uint32(ms),
	}
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(hdr)
	pin.Pin(&cdb[0])
	pin.Pin(&sense[0])
	if len(req.Data) > 0 {
		hdr.Dxferp = unsafe.Pointer(&req.Data[0])
		pin.Pin(&req.Data[0])
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), IoctlSGIO, uintptr(unsafe.Pointer(hdr)))
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(cdb)
	runtime.KeepAlive(sense)
	runtime.KeepAlive(req.Data)
	if errno != 0 {
		return Result{}, os.NewSyscallError("ioctl SG_IO", errno)
	}
	n := int(hdr.SbLenWr)
	if n > len(sense) {
		n = len(sense)
	}
	return Result{
		Status:       hdr.Status,
		HostStatus:   hdr.HostStatus,
		DriverStatus: hdr.DriverStatus,
		Info:         hdr.Info,
		Resid:        hdr.Resid,
		Duration:     time.Duration(hdr.Duration) * time.Millisecond,
		Sense:        append([]byte(nil), sense[:n]...),
	}, nil
}
