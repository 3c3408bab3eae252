package nvmeioctl

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"
)

// Offsets from include/uapi/linux/nvme_ioctl.h, struct nvme_passthru_cmd and
// struct nvme_passthru_cmd64; the layout has no pointers, so it is the same on
// every architecture.
func TestAdminCmdLayout(t *testing.T) {
	var c AdminCmd
	if got := unsafe.Sizeof(c); got != SizeofAdminCmd {
		t.Fatalf("sizeof nvme_passthru_cmd = %d, want %d", got, SizeofAdminCmd)
	}
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"opcode", unsafe.Offsetof(c.Opcode), 0},
		{"flags", unsafe.Offsetof(c.Flags), 1},
		{"rsvd1", unsafe.Offsetof(c.Rsvd1), 2},
		{"nsid", unsafe.Offsetof(c.NSID), 4},
		{"cdw2", unsafe.Offsetof(c.Cdw2), 8},
		{"cdw3", unsafe.Offsetof(c.Cdw3), 12},
		{"metadata", unsafe.Offsetof(c.Metadata), 16},
		{"addr", unsafe.Offsetof(c.Addr), 24},
		{"metadata_len", unsafe.Offsetof(c.MetadataLen), 32},
		{"data_len", unsafe.Offsetof(c.DataLen), 36},
		{"cdw10", unsafe.Offsetof(c.Cdw10), 40},
		{"cdw11", unsafe.Offsetof(c.Cdw11), 44},
		{"cdw12", unsafe.Offsetof(c.Cdw12), 48},
		{"cdw13", unsafe.Offsetof(c.Cdw13), 52},
		{"cdw14", unsafe.Offsetof(c.Cdw14), 56},
		{"cdw15", unsafe.Offsetof(c.Cdw15), 60},
		{"timeout_ms", unsafe.Offsetof(c.TimeoutMs), 64},
		{"result", unsafe.Offsetof(c.Result), 68},
	} {
		if f.got != f.want {
			t.Errorf("offsetof %s = %d, want %d", f.name, f.got, f.want)
		}
	}
	var c64 AdminCmd64
	if got := unsafe.Sizeof(c64); got != SizeofAdminCmd64 {
		t.Fatalf("sizeof nvme_passthru_cmd64 = %d, want %d", got, SizeofAdminCmd64)
	}
	if unsafe.Offsetof(c64.TimeoutMs) != 64 || unsafe.Offsetof(c64.Rsvd2) != 68 || unsafe.Offsetof(c64.Result) != 72 {
		t.Errorf("nvme_passthru_cmd64 tail offsets %d %d %d, want 64 68 72",
			unsafe.Offsetof(c64.TimeoutMs), unsafe.Offsetof(c64.Rsvd2), unsafe.Offsetof(c64.Result))
	}
}

func TestIoctlNumbers(t *testing.T) {
	// _IOWR has the same value under both encodings (dir 3<<30 == 6<<29);
	// _IO differs because the powerpc family's _IOC_NONE is 1.
	if IoctlAdminCmd != 0xC0484E41 {
		t.Errorf("NVME_IOCTL_ADMIN_CMD = %#x, want 0xc0484e41", IoctlAdminCmd)
	}
	if IoctlAdmin64Cmd != 0xC0504E47 {
		t.Errorf("NVME_IOCTL_ADMIN64_CMD = %#x, want 0xc0504e47", IoctlAdmin64Cmd)
	}
	wantID := uintptr(0x4E40)
	if iocNone == 1 {
		wantID = 0x20004E40
	}
	if IoctlID != wantID {
		t.Errorf("NVME_IOCTL_ID = %#x, want %#x", IoctlID, wantID)
	}
}

// Both encodings, whatever this machine is: the values the kernel headers
// give on x86/arm64 and on powerpc/mips.
func TestIoctlEncodings(t *testing.T) {
	for _, c := range []struct {
		name           string
		e              iocEncoding
		id, adm, adm64 uintptr
	}{
		{"generic", genericIOC, 0x4E40, 0xC0484E41, 0xC0504E47},
		{"powerpc/mips", threeBitDirIOC, 0x20004E40, 0xC0484E41, 0xC0504E47},
	} {
		id := c.e.ioc(c.e.none, 'N', 0x40, 0)
		adm := c.e.ioc(c.e.read|c.e.write, 'N', 0x41, SizeofAdminCmd)
		adm64 := c.e.ioc(c.e.read|c.e.write, 'N', 0x47, SizeofAdminCmd64)
		if id != c.id || adm != c.adm || adm64 != c.adm64 {
			t.Errorf("%s: %#x %#x %#x, want %#x %#x %#x", c.name, id, adm, adm64, c.id, c.adm, c.adm64)
		}
	}
}

// cmdBytes is the command as the kernel reads it (the host is little-endian
// on every architecture this test asserts bytes for).
func cmdBytes(c *AdminCmd) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(c)), SizeofAdminCmd)
}

func TestCommandBytes(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("byte-level assertions are written for little-endian hosts")
	}
	// Get Log Page, SMART / Health Information (LID 02h), 512 bytes, all
	// namespaces: opcode 02h, NSID FFFFFFFFh, CDW10 = NUMDL 127 << 16 | LID 2.
	c, err := GetLogPageCmd(NSIDAll, 0x02, 512, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := cmdBytes(&c)
	want := map[int]byte{0: 0x02, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 40: 0x02, 41: 0x00, 42: 0x7f, 43: 0x00}
	for i, v := range b {
		if w := want[i]; v != w {
			t.Errorf("get log page byte %d = %#02x, want %#02x", i, v, w)
		}
	}
	// A 64 KiB error log read crosses NUMDL into NUMDU: 16383 dwords - 1 = 0x3fff.
	c, _ = GetLogPageCmd(NSIDAll, 0x01, 64*1024, 4096)
	if c.Cdw10 != 0x3fff0001 || c.Cdw11 != 0 || c.Cdw12 != 4096 {
		t.Errorf("large log page cdw10..12 = %#x %#x %#x", c.Cdw10, c.Cdw11, c.Cdw12)
	}
	c, _ = GetLogPageCmd(NSIDAll, 0x01, 4<<20, 0)
	if c.Cdw10 != 0xffff0001 || c.Cdw11 != 0x0f {
		t.Errorf("4 MiB log page cdw10/11 = %#x %#x", c.Cdw10, c.Cdw11)
	}
	// Identify Controller: opcode 06h, CNS 01h in CDW10, NSID 0.
	c = IdentifyCmd(0, 1)
	b = cmdBytes(&c)
	for i, v := range b {
		w := byte(0)
		switch i {
		case 0:
			w = 0x06
		case 40:
			w = 0x01
		}
		if v != w {
			t.Errorf("identify byte %d = %#02x, want %#02x", i, v, w)
		}
	}
	// Device Self-test, short (STC 1h).
	c = SelfTestCmd(NSIDAll, 1)
	if c.Opcode != 0x14 || c.Cdw10 != 1 || c.NSID != NSIDAll {
		t.Errorf("self-test command %+v", c)
	}
	for _, bad := range []struct {
		n   int
		off uint64
	}{{0, 0}, {3, 0}, {-4, 0}, {8 << 20, 0}, {512, 2}} {
		if _, err := GetLogPageCmd(NSIDAll, 2, bad.n, bad.off); !errors.Is(err, ErrBadRequest) {
			t.Errorf("GetLogPageCmd(%d, %d) err = %v", bad.n, bad.off, err)
		}
	}
}

func TestDecodeStatus(t *testing.T) {
	for _, c := range []struct {
		raw     uint16
		sct, sc uint8
		dnr     bool
		invalid bool
		name    string
	}{
		{0x4001, 0, 0x01, true, true, "invalid command opcode"},
		{0x4002, 0, 0x02, true, true, "invalid field in command"},
		{0x4109, 1, 0x09, true, true, "invalid log page"},
		{0x0281, 2, 0x81, false, false, "unrecovered read error"},
		{0x0006, 0, 0x06, false, false, "internal error"},
		{0x07aa, 7, 0xaa, false, false, "status code type 0x7 code 0xaa"},
	} {
		e := DecodeStatus(c.raw)
		if e.SCT != c.sct || e.SC != c.sc || e.DNR != c.dnr || e.InvalidCommand() != c.invalid || e.Name() != c.name {
			t.Errorf("DecodeStatus(%#x) = %+v name %q", c.raw, e, e.Name())
		}
		var err error = e
		if !errors.Is(err, ErrStatus) {
			t.Errorf("%v is not ErrStatus", err)
		}
	}
	e := DecodeStatus(0x3800 | 0x04)
	if e.CRD != 3 || !e.More {
		t.Errorf("CRD/More not decoded: %+v", e)
	}
}

// The ioctl path on a file that is not an NVMe device: the kernel answers
// ENOTTY, which must come back as a syscall error, not as a status.
func TestAdminOnNonNVMe(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "plain"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	_, err = Admin(int(f.Fd()), IdentifyCmd(0, 1), buf, time.Second)
	var se *os.SyscallError
	if !errors.As(err, &se) || errors.Is(err, ErrStatus) {
		t.Fatalf("Admin on a plain file: %v", err)
	}
	if _, err := Admin(int(f.Fd()), IdentifyCmd(0, 1), make([]byte, MaxData+4), time.Second); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("oversized buffer: %v", err)
	}
}
