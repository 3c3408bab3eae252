package probe

import (
	"context"
	"encoding/binary"
	"testing"
)

// synthDRBD writes DRBD metadata with magic into the last 4 KiB; the device
// uuid sits where that magic's version keeps it.
func synthDRBD(size int, magic uint32, devUUID uint64) []byte {
	b := make([]byte, size)
	md := b[size-drbdMDOffset:]
	uuidOff := 40
	if magic == drbdMagic09 {
		uuidOff = 48
	}
	binary.BigEndian.PutUint64(md[0:], 2048) // last agreed size
	binary.BigEndian.PutUint64(md[uuidOff:], devUUID)
	binary.BigEndian.PutUint32(md[60:], magic)
	binary.BigEndian.PutUint32(md[64:], 8) // md_size_sect
	return b
}

func synthDRBDManage(size int, id string, persist bool, version uint32) []byte {
	b := make([]byte, size)
	copy(b, "$DRBDmgr=q+"+id+"\n")
	if persist {
		copy(b[0x1000:], drbdManagePersistMagic)
		binary.BigEndian.PutUint32(b[0x1004:], version)
	}
	return b
}

func synthDRBDProxy(size int, version uint64, uuid []byte) []byte {
	b := make([]byte, size)
	copy(b, "DRBDdlh*")
	binary.LittleEndian.PutUint64(b[8:], version)
	copy(b[16:], uuid)
	return b
}

func TestDRBD(t *testing.T) {
	const id = "8765f402dcb246529acee269b0ba8f2e"
	raid := func(v, uuid string) *Result { return &Result{Type: "drbd", Usage: UsageRaid, Version: v, UUID: uuid} }
	manage := func(v string) *Result {
		return &Result{Type: "drbdmanage_control_volume", Usage: UsageOther, Version: v, UUID: id}
	}
	checkImages(t, []imageCase{
		{"v08", synthDRBD(containerSize, drbdMagic08, 0x4242424242424242), raid("v08", "4242424242424242")},
		// %x drops leading zeros
		{"v08 unclean 8.4", synthDRBD(containerSize, drbdMagic84Unclean, 0x0123456789abcdef), raid("v08", "123456789abcdef")},
		{"v09", synthDRBD(containerSize, drbdMagic09, 0xfedcba9876543210), raid("v09", "fedcba9876543210")},
		{"v09 zero uuid", synthDRBD(containerSize, drbdMagic09, 0), raid("v09", "")},
		{"v07 magic", synthDRBD(containerSize, drbdMagic+3, 1), nil},
		// an odd size: the metadata is 4 KiB before the end, not aligned
		{"odd size", synthDRBD(containerSize+1, drbdMagic08, 7), raid("v08", "7")},

		{"manage", synthDRBDManage(containerSize, id, true, 1), manage("1")},
		{"manage upper-case hex", synthDRBDManage(containerSize, "8765F402DCB246529ACEE269B0BA8F2E", true, 3), &Result{Type: "drbdmanage_control_volume", Usage: UsageOther, Version: "3", UUID: "8765F402DCB246529ACEE269B0BA8F2E"}},
		{"manage version printed signed", synthDRBDManage(containerSize, id, true, 0xffffffff), manage("-1")},
		{"manage no persistence header", synthDRBDManage(containerSize, id, false, 0), manage("")},
		{"manage non-hex id", synthDRBDManage(containerSize, "8765f402dcb246529acee269b0ba8f2g", true, 1), nil},
		{"manage no newline", synthDRBDManage(containerSize, id+"0", true, 1), nil},
		{"manage below minimum size", synthDRBDManage(64<<10-1, id, true, 1), nil},
	})
	// The whole-probe answers for the proxy datalog are in
	// TestContainerBlkidRules: they depend on its registry row.
	for _, tc := range []struct {
		img           []byte
		version, uuid string
	}{
		{synthDRBDProxy(containerSize, 3, testUUID), "v3", testUUIDString},
		{synthDRBDProxy(containerSize, 1<<40, nil), "v1099511627776", ""},
	} {
		r, err := probeDRBDProxyDatalog(containerSource(t, tc.img))
		if err != nil || r == nil || r.version != tc.version || r.uuid != tc.uuid {
			t.Errorf("proxy datalog: %+v, %v; want version %q uuid %q", r, err, tc.version, tc.uuid)
		}
	}
	containerNone(t, "proxy datalog wrong magic", synthDRBDProxy(containerSize, 3, testUUID)[1:], probeDRBDProxyDatalog)
	containerNone(t, "drbd below 64 KiB", synthDRBD(0x10000-1, drbdMagic08, 1), probeDRBD)
	if r, _ := probeDRBD(containerSource(t, synthDRBD(0x10000, drbdMagic09, 1))); r == nil || r.version != "v09" {
		t.Errorf("drbd at 64 KiB: %+v", r)
	}
}

// containerSparse is a device of size zero bytes but for a few chunks.
type containerSparse struct {
	size   int64
	chunks map[int64][]byte
}

func (c containerSparse) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	for at, d := range c.chunks {
		lo, hi := max(at, off), min(at+int64(len(d)), off+int64(len(p)))
		if lo < hi {
			copy(p[lo-off:hi-off], d[lo-at:hi-at])
		}
	}
	return len(p), nil
}

// FuzzDRBD puts the same bytes at the start (drbdmanage, proxy datalog) and
// in the last 4 KiB (DRBD metadata) of a 1 MiB device.
func FuzzDRBD(f *testing.F) {
	f.Add(region(synthDRBD(8192, drbdMagic09, 1), 4096, 1392))
	f.Add(region(synthDRBDManage(8192, "8765f402dcb246529acee269b0ba8f2e", true, 1), 0, 64))
	f.Add(region(synthDRBDProxy(1024, 1, testUUID), 0, 40))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			data = data[:4096]
		}
		const size = 1 << 20
		dev := containerSparse{size, map[int64][]byte{0: data, size - 4096: data}}
		s, err := newSource(context.Background(), dev, size)
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		for _, fn := range []func(*source) (*sb, error){probeDRBD, probeDRBDManage, probeDRBDProxyDatalog} {
			if _, err := fn(s); err != nil && err != errBudget {
				t.Fatalf("prober error on in-memory data: %v", err)
			}
		}
	})
}
