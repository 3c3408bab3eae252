package smart

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sgio"
)

// CDBs byte for byte against SAT-3 12.2.2 (ATA PASS-THROUGH(16)):
// byte 1 = PROTOCOL<<1 (4 PIO Data-In, 3 Non-data); byte 2 = CK_COND<<5 |
// T_DIR<<3 | BYT_BLOK<<2 | T_LENGTH; FEATURES(7:0) in 4, COUNT(7:0) in 6,
// LBA(7:0) in 8, LBA(15:8) in 10, LBA(23:16) in 12, DEVICE 13, COMMAND 14.
// The SMART ones carry the 4Fh/C2h signature in LBA mid/high (ACS-3 7.44).
func TestATACDBs(t *testing.T) {
	for _, c := range []struct {
		cmd  ataCommand
		want []byte
	}{
		{cmdIdentify, []byte{0x85, 0x08, 0x0e, 0, 0x00, 0, 0x01, 0, 0x00, 0, 0x00, 0, 0x00, 0, 0xec, 0}},
		{cmdReadData, []byte{0x85, 0x08, 0x0e, 0, 0xd0, 0, 0x01, 0, 0x00, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
		{cmdReadThresh, []byte{0x85, 0x08, 0x0e, 0, 0xd1, 0, 0x01, 0, 0x00, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
		{cmdReturnStatus, []byte{0x85, 0x06, 0x20, 0, 0xda, 0, 0x00, 0, 0x00, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
		{cmdReadLog("x", 0x06), []byte{0x85, 0x08, 0x0e, 0, 0xd5, 0, 0x01, 0, 0x06, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
		{cmdReadLog("x", 0x01), []byte{0x85, 0x08, 0x0e, 0, 0xd5, 0, 0x01, 0, 0x01, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
		{func() ataCommand {
			a := smartCommand("x", smartExecOffline, false)
			a.lbaLow = 2
			return a
		}(), []byte{0x85, 0x06, 0x00, 0, 0xd4, 0, 0x00, 0, 0x02, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
	} {
		if got := c.cmd.cdb(); !bytes.Equal(got, c.want) {
			t.Errorf("%s:\n got % x\nwant % x", c.cmd.name, got, c.want)
		}
	}
}

func TestDecodeReturnStatus(t *testing.T) {
	if s, err := decodeReturnStatus(0x4f, 0xc2); s != StatusPassed || err != nil {
		t.Errorf("pass: %v %v", s, err)
	}
	if s, err := decodeReturnStatus(0xf4, 0x2c); s != StatusFailed || err != nil {
		t.Errorf("fail: %v %v", s, err)
	}
	if s, err := decodeReturnStatus(0, 0); s != StatusUnknown || !errors.Is(err, ErrDevice) {
		t.Errorf("garbage: %v %v", s, err)
	}
}

func fixSum(p []byte) []byte {
	var s byte
	for _, c := range p[:511] {
		s += c
	}
	p[511] = -s
	return p
}

// A self-test log with three entries, ring index 3: newest first.
func TestParseSelfTestLog(t *testing.T) {
	p := make([]byte, 512)
	binary.LittleEndian.PutUint16(p, 1)
	put := func(i int, typ, status uint8, hours uint16, lba uint32) {
		d := p[2+24*i:]
		d[0], d[1] = typ, status
		binary.LittleEndian.PutUint16(d[2:], hours)
		binary.LittleEndian.PutUint32(d[5:], lba)
	}
	put(0, 1, 0x00, 100, 0)
	put(1, 2, 0x79, 200, 0x12345) // read failure, 90% remaining
	put(2, 1, 0xf3, 300, 0)       // in progress
	p[508] = 3
	l, err := ParseSelfTestLog(fixSum(p))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 3 || l.Entries[0].LifetimeHours != 300 || l.Entries[2].LifetimeHours != 100 {
		t.Fatalf("order %+v", l.Entries)
	}
	e := l.Entries[1]
	if e.TypeName() != "Extended offline" || e.StatusName() != "Completed: read failure" || !e.Failed() ||
		e.Remaining != 90 || e.FailingLBA != 0x12345 {
		t.Errorf("failed entry %+v", e)
	}
	if l.Entries[0].StatusName() != "Self-test routine in progress" || l.Entries[0].Remaining != 30 {
		t.Errorf("running entry %+v", l.Entries[0])
	}
	p[508] = 22
	if _, err := ParseSelfTestLog(fixSum(p)); !errors.Is(err, ErrMalformed) {
		t.Errorf("index 22: %v", err)
	}
	p[100]++
	if _, err := ParseSelfTestLog(p); !errors.Is(err, ErrChecksum) {
		t.Errorf("bad checksum: %v", err)
	}
}

func TestParseErrorLog(t *testing.T) {
	p := make([]byte, 512)
	p[0], p[1] = 1, 1
	e := p[2:]
	e[7], e[8] = 0xc8, 100        // command READ DMA at 100 ms
	e[60+1], e[60+7] = 0x40, 0x51 // UNC, DRDY|ERR
	binary.LittleEndian.PutUint16(e[60+28:], 1234)
	binary.LittleEndian.PutUint16(p[452:], 7)
	l, err := ParseErrorLog(fixSum(p))
	if err != nil {
		t.Fatal(err)
	}
	if l.Count != 7 || len(l.Entries) != 1 {
		t.Fatalf("%+v", l)
	}
	x := l.Entries[0]
	if x.Error != 0x40 || x.Status != 0x51 || x.LifetimeHours != 1234 || len(x.Commands) != 1 ||
		x.Commands[0].Command != 0xc8 || x.Commands[0].TimestampMs != 100 {
		t.Errorf("entry %+v", x)
	}
	p[1] = 6
	if _, err := ParseErrorLog(fixSum(p)); !errors.Is(err, ErrMalformed) {
		t.Errorf("index 6: %v", err)
	}
}

// What each SG_IO outcome means, as libata and other SATLs report them.
func TestInterpretSGResult(t *testing.T) {
	ataDesc := func(key, status, errReg, mid, high byte) []byte {
		return []byte{0x72, key, 0x00, 0x1d, 0, 0, 0, 14,
			0x09, 0x0c, 0, errReg, 0, 0, 0, 0, 0, mid, 0, high, 0, status}
	}
	check := func(sense []byte) sgio.Result {
		return sgio.Result{Status: sgio.StatusCheckCondition, DriverStatus: 0x08, Info: 1, Sense: sense}
	}
	for _, c := range []struct {
		name    string
		res     sgio.Result
		dataIn  bool
		want    error
		regsMid byte
	}{
		{"good", sgio.Result{}, true, nil, 0},
		{"CK_COND registers", check(ataDesc(sgio.KeyRecoveredError, 0x50, 0, 0x4f, 0xc2)), false, nil, 0x4f},
		{"threshold exceeded registers", check(ataDesc(sgio.KeyRecoveredError, 0x50, 0, 0xf4, 0x2c)), false, nil, 0xf4},
		{"drive aborted (SMART off)", check(ataDesc(sgio.KeyAbortedCommand, 0x51, 0x04, 0, 0)), false, ErrNotSupported, 0},
		{"ATA error reported as recovered", check(ataDesc(sgio.KeyRecoveredError, 0x51, 0x40, 0, 0)), true, ErrDevice, 0},
		{"no ATA PASS-THROUGH", check([]byte{0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00}), true, ErrNotSupported, 0},
		{"medium error", check([]byte{0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0x00}), true, ErrDevice, 0},
		{"command timed out", sgio.Result{HostStatus: 0x03, Info: 1}, true, ErrTimeout, 0},
		{"host bus failure", sgio.Result{HostStatus: 0x01, Info: 1}, true, ErrDevice, 0},
		{"short transfer", sgio.Result{Resid: 12}, true, ErrDevice, 0},
		// libata's sense for a failed pass-through command in fixed format
		// (its default, D_SENSE off): the ASC comes from ata_to_sense_error
		// (ABRT -> ABORTED COMMAND 00/00, not 00/1D), and INFORMATION still
		// carries error, status, device, count (SAT-3 fixed format).
		{"drive aborted, fixed sense", check([]byte{0xf0, 0, 0x0b, 0x04, 0x51, 0x40, 0x00, 10, 0, 0, 0x4f, 0xc2, 0x00, 0x00, 0, 0, 0, 0}), true, ErrNotSupported, 0},
		// Registers returned with data (some SATLs always send them): the
		// transfer must still be whole.
		{"registers but short transfer", func() sgio.Result {
			r := check(ataDesc(sgio.KeyRecoveredError, 0x50, 0, 0x4f, 0xc2))
			r.Resid = 512
			return r
		}(), true, ErrDevice, 0},
		// driver_status SENSE with a GOOD status byte is still a failure.
		{"driver sense with good status", sgio.Result{DriverStatus: 0x08, Info: 1,
			Sense: []byte{0x70, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x11, 0x04}}, true, ErrDevice, 0},
		{"driver sense, no sense bytes", sgio.Result{DriverStatus: 0x08, Info: 1}, true, ErrDevice, 0},
		{"driver timeout", sgio.Result{DriverStatus: 0x06, Info: 1}, true, ErrTimeout, 0},
		// Fixed NO SENSE without 00/1D: zeros in INFORMATION are not
		// registers of a completed command.
		{"fixed no sense without 00/1D", check([]byte{0x70, 0, 0x00, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x00, 0x00}), false, ErrDevice, 0},
	} {
		regs, err := interpret(c.res, c.dataIn)
		if c.want == nil {
			if err != nil || (c.regsMid != 0 && (regs == nil || regs.LBAMid() != c.regsMid)) {
				t.Errorf("%s: regs %+v err %v", c.name, regs, err)
			}
			continue
		}
		var ce *CommandError
		if !errors.Is(err, c.want) || !errors.As(err, &ce) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}

func TestClassifySyscall(t *testing.T) {
	for errno, want := range map[syscall.Errno]error{
		syscall.EACCES: ErrPermission, syscall.EPERM: ErrPermission, syscall.ENOTTY: ErrNotSupported,
		syscall.EINVAL: ErrNotSupported, syscall.ENODEV: ErrNotFound, syscall.ETIMEDOUT: ErrTimeout, syscall.EIO: ErrDevice,
	} {
		if got := classifySyscall(os.NewSyscallError("ioctl", errno)); got != want {
			t.Errorf("%v: %v, want %v", errno, got, want)
		}
	}
	if classifySyscall(errors.New("x")) != ErrDevice {
		t.Error("non-errno")
	}
}
