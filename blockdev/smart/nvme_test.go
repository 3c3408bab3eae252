package smart

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

func put128(b []byte, hi, lo uint64) {
	binary.LittleEndian.PutUint64(b, lo)
	binary.LittleEndian.PutUint64(b[8:], hi)
}

// healthPage builds a SMART / Health log with a distinct value in every
// field, at the offsets of the NVMe base specification (Figure "SMART /
// Health Information Log Page").
func healthPage() []byte {
	b := make([]byte, 512)
	b[0] = WarnSpare | WarnReadOnly
	binary.LittleEndian.PutUint16(b[1:], 310) // 37 C
	b[3], b[4], b[5], b[6] = 9, 10, 104, 1
	put128(b[32:], 0, 1000)
	put128(b[48:], 1, 5) // 2^64 + 5
	put128(b[64:], 0, 3)
	put128(b[80:], 0, 4)
	put128(b[96:], 0, 77)
	put128(b[112:], 0, 12)
	put128(b[128:], 0, 4321)
	put128(b[144:], 0, 6)
	put128(b[160:], 0, 2)
	put128(b[176:], 0, 8)
	binary.LittleEndian.PutUint32(b[192:], 15)
	binary.LittleEndian.PutUint32(b[196:], 16)
	binary.LittleEndian.PutUint16(b[200:], 300)
	binary.LittleEndian.PutUint16(b[204:], 320)
	binary.LittleEndian.PutUint32(b[216:], 21)
	binary.LittleEndian.PutUint32(b[220:], 22)
	binary.LittleEndian.PutUint32(b[224:], 23)
	binary.LittleEndian.PutUint32(b[228:], 24)
	return b
}

func TestParseNVMeHealth(t *testing.T) {
	h, err := ParseNVMeHealth(healthPage())
	if err != nil {
		t.Fatal(err)
	}
	if h.CriticalWarning != 0x09 || h.TemperatureC() != 37 || h.AvailableSpare != 9 || h.SpareThreshold != 10 ||
		h.PercentageUsed != 104 || h.EnduranceGroupWarning != 1 {
		t.Errorf("byte fields %+v", h)
	}
	if h.DataUnitsWritten.String() != "18446744073709551621" {
		t.Errorf("128-bit counter = %s", h.DataUnitsWritten)
	}
	if _, ok := h.DataUnitsWritten.Uint64(); ok {
		t.Error("2^64+5 claims to fit 64 bits")
	}
	for name, c := range map[string]struct {
		got  Uint128
		want uint64
	}{
		"read": {h.DataUnitsRead, 1000}, "host reads": {h.HostReads, 3}, "host writes": {h.HostWrites, 4},
		"busy": {h.BusyTimeMinutes, 77}, "cycles": {h.PowerCycles, 12}, "hours": {h.PowerOnHours, 4321},
		"unsafe": {h.UnsafeShutdowns, 6}, "media": {h.MediaErrors, 2}, "errlog": {h.ErrorLogEntries, 8},
	} {
		if v, ok := c.got.Uint64(); !ok || v != c.want {
			t.Errorf("%s = %s, want %d", name, c.got, c.want)
		}
	}
	if h.WarningTempMinutes != 15 || h.CriticalTempMinutes != 16 {
		t.Errorf("temperature times %d %d", h.WarningTempMinutes, h.CriticalTempMinutes)
	}
	s := h.SensorsC()
	if len(s) != 2 || s[1] != 27 || s[3] != 47 {
		t.Errorf("sensors %v", s)
	}
	if h.ThermalTransitions != [2]uint32{21, 22} || h.ThermalTimeSeconds != [2]uint32{23, 24} {
		t.Errorf("thermal management %v %v", h.ThermalTransitions, h.ThermalTimeSeconds)
	}
	if w := h.CriticalWarnings(); len(w) != 2 || w[0] != "available spare below threshold" || w[1] != "media read-only" {
		t.Errorf("warnings %v", w)
	}
	if _, err := ParseNVMeHealth(make([]byte, 511)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short page: %v", err)
	}
}

func identifyPage() []byte {
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint16(b[0:], 0x1b36) // QEMU's PCI vendor
	binary.LittleEndian.PutUint16(b[2:], 0x1af4)
	copy(b[4:24], "deadbeef            ")
	copy(b[24:64], "QEMU NVMe Ctrl                          ")
	copy(b[64:72], "9.2.0   ")
	b[73], b[74], b[75] = 0x00, 0x54, 0x52 // OUI 52:54:00 stored least significant first
	binary.LittleEndian.PutUint16(b[78:], 7)
	binary.LittleEndian.PutUint32(b[80:], 0x00010400)
	binary.LittleEndian.PutUint16(b[256:], 1<<4)
	b[262] = 3
	binary.LittleEndian.PutUint16(b[266:], 343)
	binary.LittleEndian.PutUint16(b[268:], 373)
	put128(b[280:], 0, 1<<30)
	binary.LittleEndian.PutUint32(b[516:], 256)
	return b
}

func TestParseNVMeIdentify(t *testing.T) {
	c, err := ParseNVMeIdentify(identifyPage())
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != "QEMU NVMe Ctrl" || c.Serial != "deadbeef" || c.Firmware != "9.2.0" {
		t.Errorf("strings %q %q %q", c.Model, c.Serial, c.Firmware)
	}
	if c.VendorID != 0x1b36 || c.SubsystemVendorID != 0x1af4 || c.OUI != 0x525400 || c.ControllerID != 7 {
		t.Errorf("ids %+v", c)
	}
	if c.VersionString() != "1.4" || c.ErrorLogEntries != 4 || !c.SelfTestSupported() || c.Namespaces != 256 {
		t.Errorf("version %q elpe %d oacs %#x nn %d", c.VersionString(), c.ErrorLogEntries, c.OACS, c.Namespaces)
	}
	if v, _ := c.TotalCapacity.Uint64(); v != 1<<30 {
		t.Errorf("tnvmcap %s", c.TotalCapacity)
	}
	if _, err := ParseNVMeIdentify(make([]byte, 512)); !errors.Is(err, ErrMalformed) {
		t.Errorf("short identify: %v", err)
	}
}

func TestParseNVMeNamespace(t *testing.T) {
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint64(b[0:], 2097152)
	b[26] = 1         // LBA format 1
	b[128+4*1+2] = 12 // 4096-byte blocks
	ns, err := ParseNVMeNamespace(1, b)
	if err != nil || ns.BlockSize != 4096 || ns.Bytes() != 2097152*4096 {
		t.Fatalf("%+v %v", ns, err)
	}
	b[128+4*1+2] = 0
	if _, err := ParseNVMeNamespace(1, b); !errors.Is(err, ErrMalformed) {
		t.Errorf("zero LBADS: %v", err)
	}
}

func TestParseNVMeErrorLog(t *testing.T) {
	b := make([]byte, 3*64)
	binary.LittleEndian.PutUint64(b[0:], 42)
	binary.LittleEndian.PutUint16(b[8:], 1)
	binary.LittleEndian.PutUint16(b[10:], 0x77)
	binary.LittleEndian.PutUint16(b[12:], (0x4281<<1)|1) // DNR, media error, unrecovered read, phase 1
	binary.LittleEndian.PutUint64(b[16:], 0x1000)
	binary.LittleEndian.PutUint32(b[24:], 1)
	binary.LittleEndian.PutUint64(b[64:], 41)
	l, err := ParseNVMeErrorLog(b)
	if err != nil || len(l) != 2 {
		t.Fatalf("%v %v", l, err)
	}
	if e := l[0]; e.ErrorCount != 42 || e.SQID != 1 || e.CommandID != 0x77 || e.Status != 0x4281 || e.LBA != 0x1000 || e.NSID != 1 {
		t.Errorf("entry %+v", e)
	}
	if _, err := ParseNVMeErrorLog(b[:63]); !errors.Is(err, ErrMalformed) {
		t.Errorf("partial entry: %v", err)
	}
}

func TestUint128(t *testing.T) {
	a, b := Uint128{Hi: 1}, Uint128{Lo: ^uint64(0)}
	if a.Cmp(b) != 1 || b.Cmp(a) != -1 || a.Cmp(a) != 0 || !(Uint128{}).IsZero() {
		t.Error("Cmp")
	}
	j, _ := a.MarshalJSON()
	if string(j) != "18446744073709551616" {
		t.Errorf("json %s", j)
	}
}

func FuzzParseNVMeHealth(f *testing.F) {
	f.Add(healthPage())
	if b, err := os.ReadFile("testdata/qemu_nvme_health.raw"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseNVMeHealth(b)
		if err == nil {
			_ = h.CriticalWarnings()
			_ = h.SensorsC()
			if _, err := MarshalSmartctlJSON(&Report{Protocol: ProtocolNVMe, NVMe: &NVMeData{Health: h}}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzParseNVMeIdentify(f *testing.F) {
	f.Add(identifyPage()[:600])
	if b, err := os.ReadFile("testdata/qemu_nvme_id_ctrl.raw"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := make([]byte, 4096)
		copy(p, b)
		c, err := ParseNVMeIdentify(p)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.VersionString()
		if _, err := ParseNVMeNamespace(1, p); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	})
}

func FuzzParseNVMeErrorLog(f *testing.F) {
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseNVMeErrorLog(b)
		if err == nil && len(l) > len(b)/64 {
			t.Fatal("more entries than bytes allow")
		}
	})
}
