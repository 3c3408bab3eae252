package sgio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"
)

// Offsets of struct sg_io_hdr (include/scsi/sg.h) for 64-bit and 32-bit
// pointers; the C struct has natural alignment and no packing.
func TestHdrLayout(t *testing.T) {
	var h Hdr
	ptr := unsafe.Sizeof(uintptr(0))
	type off struct {
		name     string
		got      uintptr
		w64, w32 uintptr
	}
	for _, f := range []off{
		{"interface_id", unsafe.Offsetof(h.InterfaceID), 0, 0},
		{"dxfer_direction", unsafe.Offsetof(h.DxferDirection), 4, 4},
		{"cmd_len", unsafe.Offsetof(h.CmdLen), 8, 8},
		{"mx_sb_len", unsafe.Offsetof(h.MxSbLen), 9, 9},
		{"iovec_count", unsafe.Offsetof(h.IovecCount), 10, 10},
		{"dxfer_len", unsafe.Offsetof(h.DxferLen), 12, 12},
		{"dxferp", unsafe.Offsetof(h.Dxferp), 16, 16},
		{"cmdp", unsafe.Offsetof(h.Cmdp), 24, 20},
		{"sbp", unsafe.Offsetof(h.Sbp), 32, 24},
		{"timeout", unsafe.Offsetof(h.Timeout), 40, 28},
		{"flags", unsafe.Offsetof(h.Flags), 44, 32},
		{"pack_id", unsafe.Offsetof(h.PackID), 48, 36},
		{"usr_ptr", unsafe.Offsetof(h.UsrPtr), 56, 40},
		{"status", unsafe.Offsetof(h.Status), 64, 44},
		{"masked_status", unsafe.Offsetof(h.MaskedStatus), 65, 45},
		{"msg_status", unsafe.Offsetof(h.MsgStatus), 66, 46},
		{"sb_len_wr", unsafe.Offsetof(h.SbLenWr), 67, 47},
		{"host_status", unsafe.Offsetof(h.HostStatus), 68, 48},
		{"driver_status", unsafe.Offsetof(h.DriverStatus), 70, 50},
		{"resid", unsafe.Offsetof(h.Resid), 72, 52},
		{"duration", unsafe.Offsetof(h.Duration), 76, 56},
		{"info", unsafe.Offsetof(h.Info), 80, 60},
	} {
		want := f.w64
		if ptr == 4 {
			want = f.w32
		}
		if f.got != want {
			t.Errorf("offsetof %s = %d, want %d", f.name, f.got, want)
		}
	}
	wantSize := uintptr(88)
	if ptr == 4 {
		wantSize = 64
	}
	if got := unsafe.Sizeof(h); got != wantSize {
		t.Errorf("sizeof sg_io_hdr = %d, want %d", got, wantSize)
	}
	if IoctlSGIO != 0x2285 {
		t.Errorf("SG_IO = %#x", IoctlSGIO)
	}
}

func TestDoRejectsBadRequests(t *testing.T) {
	for _, r := range []Request{
		{},
		{CDB: make([]byte, 256), Direction: DxferNone},
		{CDB: []byte{0}, Direction: DxferNone, Data: []byte{1}},
		{CDB: []byte{0}, Direction: DxferFromDev},
		{CDB: []byte{0}, Direction: 7},
	} {
		if _, err := Do(-1, r); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Do(%+v) = %v, want ErrBadRequest", r, err)
		}
	}
}

// SG_IO on a file that is no SCSI device: the ioctl error must come back
// as a syscall error and the buffers must survive the call intact.
func TestDoOnNonSCSI(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, 512)
	_, err = Do(int(f.Fd()), Request{CDB: []byte{0x12, 0, 0, 0, 36, 0}, Direction: DxferFromDev, Data: data, Timeout: time.Second})
	var se *os.SyscallError
	if !errors.As(err, &se) {
		t.Fatalf("Do on a plain file: %v", err)
	}
}

func TestResultErr(t *testing.T) {
	if err := (Result{}).Err(); err != nil {
		t.Fatalf("good result: %v", err)
	}
	err := Result{HostStatus: 0x01, Info: 1}.Err() // DID_NO_CONNECT
	if !errors.Is(err, ErrTransport) {
		t.Fatalf("host status: %v", err)
	}
	sense := []byte{0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00, 0, 0, 0, 0}
	err = Result{Status: StatusCheckCondition, DriverStatus: driverSense, Info: 1, Sense: sense}.Err()
	var se *SenseError
	if !errors.As(err, &se) || !errors.Is(err, ErrCheckCondition) || !se.Sense.InvalidCommand() {
		t.Fatalf("check condition: %v", err)
	}
	err = Result{Status: StatusCheckCondition, Info: 1}.Err()
	if !errors.Is(err, ErrCheckCondition) || !errors.Is(err, ErrShortSense) {
		t.Fatalf("check condition without sense: %v", err)
	}
}
