package smart

import (
	"errors"
	"reflect"
	"testing"
)

// INQUIRY as QEMU's scsi-hd and usb-storage disks answered it in the VM
// tier (captured with smartctl -r scsiioctl,2): disk, VERSION 5 (SPC-3),
// response format 2, additional length 1Fh; the USB one removable.
var (
	inqQEMU = []byte{
		0x00, 0x00, 0x05, 0x12, 0x1f, 0x00, 0x00, 0x12,
		'Q', 'E', 'M', 'U', ' ', ' ', ' ', ' ',
		'Q', 'E', 'M', 'U', ' ', 'H', 'A', 'R', 'D', 'D', 'I', 'S', 'K', ' ', ' ', ' ',
		'2', '.', '5', '+',
	}
	inqQEMUUSB = append([]byte{0x00, 0x80}, inqQEMU[2:]...)
	// libata's SATL puts "ATA" in the vendor field and the model in the
	// product field.
	inqLibata = append([]byte{0x00, 0x00, 0x05, 0x02, 0x5b, 0x00, 0x00, 0x02},
		[]byte("ATA     EOS SMART SATA  2.5+")...)
)

func TestParseSCSIInquiry(t *testing.T) {
	q, err := ParseSCSIInquiry(inqQEMU)
	want := &SCSIInquiry{DeviceType: 0, Version: 5, Vendor: "QEMU", Product: "QEMU HARDDISK", Revision: "2.5+"}
	if err != nil || !reflect.DeepEqual(q, want) {
		t.Fatalf("%+v %v", q, err)
	}
	if q.SPCVersion() != "SPC-3" || q.ModelName() != "QEMU QEMU HARDDISK" || q.DeviceTypeName() != "disk" || !q.IsDisk() {
		t.Errorf("%q %q %q", q.SPCVersion(), q.ModelName(), q.DeviceTypeName())
	}
	if u, err := ParseSCSIInquiry(inqQEMUUSB); err != nil || !u.Removable {
		t.Errorf("USB: %+v %v", u, err)
	}
	s, err := ParseSCSIInquiry(inqSeagate)
	if err != nil || s.Vendor != "SEAGATE" || s.Product != "ST600MP0036" || s.Revision != "KT3A" || s.SPCVersion() != "SPC-4" || !s.Protect || s.ATAVendor {
		t.Errorf("Seagate: %+v %v", s, err)
	}
	a, err := ParseSCSIInquiry(inqLibata)
	if err != nil || !a.ATAVendor || a.Vendor != "ATA" {
		t.Errorf("libata: %+v %v", a, err)
	}
	// "ATAPI" or "ATA-X" is not the SAT mark; only "ATA" and spaces is.
	b := append([]byte(nil), inqQEMU...)
	copy(b[8:], "ATAPI   ")
	if a, _ := ParseSCSIInquiry(b); a.ATAVendor {
		t.Error("ATAPI vendor taken for ATA")
	}
	// A CD drive (05h) is no disk.
	b[0] = 0x05
	if c, _ := ParseSCSIInquiry(b); c.IsDisk() || c.DeviceTypeName() != "CD/DVD" {
		t.Errorf("CD: %+v", c)
	}
	// Fewer than 36 valid bytes: by the buffer, or by ADDITIONAL LENGTH.
	short := append([]byte(nil), inqQEMU...)
	short[4] = 0x10
	for name, b := range map[string][]byte{"buffer": inqQEMU[:30], "additional length": short, "empty": nil} {
		if _, err := ParseSCSIInquiry(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseVPDPages(t *testing.T) {
	// QEMU's supported list and serial (captured in the VM tier).
	l, err := parseSupportedVPD([]byte{0x00, 0x00, 0x00, 0x06, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2, 0x00, 0x00})
	if err != nil || !reflect.DeepEqual(l, []uint8{0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2}) {
		t.Errorf("supported: %x %v", l, err)
	}
	if s, err := parseUnitSerial(append([]byte{0x00, 0x80, 0x00, 0x0b}, "EOSSCSI0001"...)); err != nil || s != "EOSSCSI0001" {
		t.Errorf("serial %q %v", s, err)
	}
	if s, err := parseUnitSerial(vpdSerialSeagate); err != nil || s != "WAF1ABCD" {
		t.Errorf("padded serial %q %v", s, err)
	}
	if _, err := parseUnitSerial(vpdDevIDSeagate); !errors.Is(err, ErrMalformed) {
		t.Errorf("page 83h as 80h: %v", err)
	}

	id, err := parseDeviceID(vpdDevIDSeagate)
	if err != nil || id.LogicalUnit != "0x5000c50accaccacc" || id.Transport != 6 {
		t.Errorf("Seagate 83h: %+v %v", id, err)
	}
	// QEMU: one vendor-specific ASCII designator (type 0), which names no
	// logical unit id, and no port designator.
	qemu := append([]byte{0x00, 0x83, 0x00, 0x0f, 0x02, 0x00, 0x00, 0x0b}, "EOSSCSI0001"...)
	if id, err := parseDeviceID(qemu); err != nil || id.LogicalUnit != "" || id.Transport != -1 {
		t.Errorf("QEMU 83h: %+v %v", id, err)
	}
	// A SCSI name string (code set 3 UTF-8, type 8) only when no NAA or
	// EUI-64 is given; an EUI-64 of 8 bytes in hex; a designator that
	// overruns the page ends the walk.
	name := []byte{0x00, 0x83, 0x00, 0x0c, 0x03, 0x08, 0x00, 0x08, 'n', 'a', 'a', '.', '5', '0', 0, 0}
	if id, _ := parseDeviceID(name); id.LogicalUnit != "naa.50" {
		t.Errorf("name string: %+v", id)
	}
	eui := append(append([]byte{0x00, 0x83, 0x00, 0x18}, name[4:]...), 0x01, 0x02, 0x00, 0x08, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77)
	if id, _ := parseDeviceID(eui); id.LogicalUnit != "0x0011223344556677" {
		t.Errorf("EUI-64 over a name string: %+v", id)
	}
	over := []byte{0x00, 0x83, 0x00, 0x08, 0x01, 0x03, 0x00, 0x08, 0x50, 0x00, 0xc5, 0x0a}
	if id, err := parseDeviceID(over); err != nil || id.LogicalUnit != "" {
		t.Errorf("overrun: %+v %v", id, err)
	}

	if typ, z, err := parseProvisioningVPD(vpdB2QEMU); err != nil || typ != 2 || z != 0 {
		t.Errorf("QEMU B2h: %d %d %v", typ, z, err)
	}
	// LBPRZ of 1 in bit 2 (04h), resource provisioned (1).
	if typ, z, err := parseProvisioningVPD([]byte{0x00, 0xb2, 0x00, 0x04, 0x00, 0x04, 0x01, 0x00}); err != nil || typ != 1 || z != 1 {
		t.Errorf("resource B2h: %d %d %v", typ, z, err)
	}
	for _, c := range []struct {
		p    SCSIProvisioning
		want string
	}{
		{SCSIProvisioning{Type: 0, LBPME: -1}, "fully provisioned"}, {SCSIProvisioning{Type: 0, LBPME: 1}, "not reported"},
		{SCSIProvisioning{Type: 1}, "resource provisioned"}, {SCSIProvisioning{Type: 2, LBPME: -1}, "thin provisioned"},
		{SCSIProvisioning{Type: 5}, "reserved"},
	} {
		if got := c.p.Name(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
	if b, err := parseBlockDevChar(vpdB1Seagate); err != nil || b.RotationRate != 15000 || b.FormFactor != 3 {
		t.Errorf("B1h: %+v %v", b, err)
	}
	// QEMU's B1h: rotation rate 0 (not reported), no form factor.
	if b, err := parseBlockDevChar(append([]byte{0x00, 0xb1, 0x00, 0x3c}, make([]byte, 60)...)); err != nil || b.RotationRate != 0 || b.FormFactor != 0 {
		t.Errorf("QEMU B1h: %+v %v", b, err)
	}
	if _, err := parseBlockDevChar([]byte{0x00, 0xb1, 0x00, 0x02, 0x3a, 0x98}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short B1h: %v", err)
	}
}

func TestParseModePages(t *testing.T) {
	ec, err := parseIECPage(modeIECSeagate, false)
	if err != nil || !reflect.DeepEqual(ec, &SCSIExceptionControl{Enabled: true, TemperatureWarning: false, MRIE: 4}) {
		t.Fatalf("Seagate 1Ch: %+v %v", ec, err)
	}
	// The WD4001FYYG's state (smartctl: SMART enabled false, temperature
	// warning enabled): DEXCPT (08h) and EWASC (10h) set -> 18h, in a
	// MODE SENSE(10) response without block descriptors.
	wd := []byte{0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x1c, 0x0a, 0x18, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}
	if ec, err := parseIECPage(wd, true); err != nil || ec.Enabled || !ec.TemperatureWarning || ec.MRIE != 6 {
		t.Errorf("WD 1Ch: %+v %v", ec, err)
	}
	if s, err := parseControlPage(modeControlSeagate, false); err != nil || s != 3360 {
		t.Errorf("0Ah: %d %v", s, err)
	}
	for name, c := range map[string]struct {
		b   []byte
		ten bool
	}{
		"header only":        {[]byte{0x03, 0x00, 0x00, 0x00}, false},
		"descriptors eat it": {[]byte{0x0b, 0x00, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 2, 0}, false},
		"other page":         {[]byte{0x0f, 0x00, 0x00, 0x00, 0x08, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, false},
		"short (10) header":  {[]byte{0x00, 0x06, 0, 0, 0, 0}, true},
	} {
		if _, err := parseIECPage(c.b, c.ten); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A page cut by the mode data length is cut, not read past.
	cut := append([]byte(nil), modeControlSeagate...)
	cut[0] = 0x0b
	if _, err := parseControlPage(cut, false); !errors.Is(err, ErrMalformed) {
		t.Errorf("cut control page: %v", err)
	}
}
