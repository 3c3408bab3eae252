package dmioctl

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"
)

// Sizes, offsets and numbers as gcc computes them from the host's
// /usr/include/linux/dm-ioctl.h (interface 4.47): sizeof(struct dm_ioctl)
// 312, dm_target_spec 40, dm_name_list's name at 12, DM_VERSION 0xc138fd00.
func TestIoctlLayout(t *testing.T) {
	var h Ioctl
	if got := unsafe.Sizeof(h); got != SizeofIoctl {
		t.Fatalf("sizeof dm_ioctl = %d, want %d", got, SizeofIoctl)
	}
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"version", unsafe.Offsetof(h.Version), 0},
		{"data_size", unsafe.Offsetof(h.DataSize), 12},
		{"data_start", unsafe.Offsetof(h.DataStart), 16},
		{"target_count", unsafe.Offsetof(h.TargetCount), 20},
		{"open_count", unsafe.Offsetof(h.OpenCount), 24},
		{"flags", unsafe.Offsetof(h.Flags), 28},
		{"event_nr", unsafe.Offsetof(h.EventNr), 32},
		{"dev", unsafe.Offsetof(h.Dev), 40},
		{"name", unsafe.Offsetof(h.Name), 48},
		{"uuid", unsafe.Offsetof(h.UUID), 176},
		{"data", unsafe.Offsetof(h.Data), 305},
	} {
		if f.got != f.want {
			t.Errorf("offsetof(dm_ioctl, %s) = %d, want %d", f.name, f.got, f.want)
		}
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"DM_VERSION", DM_VERSION, 0xc138fd00},
		{"DM_LIST_DEVICES", DM_LIST_DEVICES, 0xc138fd02},
		{"DM_DEV_STATUS", DM_DEV_STATUS, 0xc138fd07},
		{"DM_TABLE_STATUS", DM_TABLE_STATUS, 0xc138fd0c},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"DM_READONLY_FLAG", ReadonlyFlag, 1}, {"DM_SUSPEND_FLAG", SuspendFlag, 2},
		{"DM_STATUS_TABLE_FLAG", StatusTableFlag, 16}, {"DM_ACTIVE_PRESENT_FLAG", ActivePresentFlag, 32},
		{"DM_INACTIVE_PRESENT_FLAG", InactivePresentFlag, 64}, {"DM_BUFFER_FULL_FLAG", BufferFullFlag, 256},
		{"DM_NOFLUSH_FLAG", NoflushFlag, 2048}, {"DM_UUID_FLAG", UUIDFlag, 16384},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestDevEncoding(t *testing.T) {
	// huge_encode_dev(253, 0x12345): minor low byte, major, minor high bits.
	dev := uint64(0x45) | 253<<8 | uint64(0x12300)<<12
	if Major(dev) != 253 || Minor(dev) != 0x12345 {
		t.Fatalf("decode %#x = %d:%d", dev, Major(dev), Minor(dev))
	}
}

func nameEntry(dev uint64, name string, last bool) []byte {
	n := SizeofNameList + len(name) + 1
	n = (n + 7) &^ 7
	b := make([]byte, n)
	binary.LittleEndian.PutUint64(b, dev)
	if !last {
		binary.LittleEndian.PutUint32(b[8:], uint32(n))
	}
	copy(b[SizeofNameList:], name)
	return b
}

func TestParseNameList(t *testing.T) {
	data := append(nameEntry(253<<8|1, "vg0-lin", false), nameEntry(253<<8|2, "vg+a-b--c", true)...)
	devs, err := ParseNameList(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 || devs[0] != (Device{"vg0-lin", 253, 1}) || devs[1] != (Device{"vg+a-b--c", 253, 2}) {
		t.Fatalf("got %+v", devs)
	}
	if devs, err := ParseNameList(nil); err != nil || len(devs) != 0 {
		t.Fatalf("empty list: %v %v", devs, err)
	}
	bad := nameEntry(1, "x", false)
	binary.LittleEndian.PutUint32(bad[8:], 4096)
	if _, err := ParseNameList(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("next past the buffer: %v", err)
	}
}

func targetSpec(start, length uint64, typ, params string, next uint32) []byte {
	n := (SizeofTargetSpec + len(params) + 1 + 7) &^ 7
	b := make([]byte, n)
	binary.LittleEndian.PutUint64(b, start)
	binary.LittleEndian.PutUint64(b[8:], length)
	binary.LittleEndian.PutUint32(b[20:], next)
	copy(b[24:], typ)
	copy(b[SizeofTargetSpec:], params)
	return b
}

func TestParseTargets(t *testing.T) {
	first := targetSpec(0, 2048, "linear", "7:0 2048", 0)
	binary.LittleEndian.PutUint32(first[20:], uint32(len(first)))
	data := append(first, targetSpec(2048, 4096, "thin-pool", "1 10/256 20/1024 - rw discard_passdown", 0)...)
	ts, err := ParseTargets(data, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Type != "linear" || ts[0].Params != "7:0 2048" || ts[1].Start != 2048 || ts[1].Type != "thin-pool" || ts[1].Params != "1 10/256 20/1024 - rw discard_passdown" {
		t.Fatalf("got %+v", ts)
	}
	if _, err := ParseTargets(data, 3); !errors.Is(err, ErrMalformed) {
		t.Fatalf("count beyond the data: %v", err)
	}
}

func TestHeader(t *testing.T) {
	h, err := Header("vg0-lin", 4096, StatusTableFlag)
	if err != nil || h.NameString() != "vg0-lin" || h.DataStart != SizeofIoctl || h.DataSize != 4096 || h.Version[0] != 4 {
		t.Fatalf("%+v %v", h, err)
	}
	if _, err := Header(string(make([]byte, NameLen)), 4096, 0); err == nil {
		t.Fatal("a 128-byte name was accepted")
	}
}

// The host has no device-mapper: Open must say so with the sentinel (the
// VM tier runs the calls for real).
func TestOpenWithoutDeviceMapper(t *testing.T) {
	c, err := Open()
	if err == nil {
		defer c.Close()
		v, err := c.Version()
		if err != nil {
			t.Skipf("device-mapper present but DM_VERSION failed: %v", err)
		}
		if v[0] != 4 {
			t.Fatalf("dm interface version %v", v)
		}
		if _, err := c.ListDevices(); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !errors.Is(err, ErrNoDeviceMapper) {
		t.Logf("open %s: %v", ControlPath, err)
	}
}

func FuzzParseNameList(f *testing.F) {
	f.Add(append(nameEntry(253<<8|1, "vg0-lin", false), nameEntry(253<<8|2, "b", true)...))
	f.Add([]byte{})
	f.Add(make([]byte, 11))
	f.Fuzz(func(t *testing.T, b []byte) { ParseNameList(b) })
}

func FuzzParseTargets(f *testing.F) {
	first := targetSpec(0, 2048, "linear", "7:0 2048", 0)
	binary.LittleEndian.PutUint32(first[20:], uint32(len(first)))
	f.Add(append(first, targetSpec(2048, 8, "thin", "1", 0)...), uint32(2))
	f.Add([]byte{}, uint32(1))
	f.Fuzz(func(t *testing.T, b []byte, n uint32) { ParseTargets(b, n%64) })
}
