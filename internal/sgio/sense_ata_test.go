package sgio

import "testing"

func TestATAFromFixedSense(t *testing.T) {
	// libata, D_SENSE off, a command the drive aborted: ABORTED COMMAND
	// 00/00 with the registers in INFORMATION and COMMAND-SPECIFIC.
	b := []byte{0xf0, 0, 0x0b, 0x04, 0x51, 0x40, 0x02, 10, 0x80, 0x11, 0x22, 0x33, 0x00, 0x00, 0, 0, 0, 0}
	s, err := ParseSense(b)
	if err != nil || s.ATA != nil {
		t.Fatalf("ParseSense must not read registers without 00/1D: %+v %v", s, err)
	}
	a := ATAFromFixedSense(b)
	if a == nil || a.Error != 0x04 || a.Status != 0x51 || a.Device != 0x40 || a.Count != 2 ||
		!a.Extend || a.LBA != 0x332211 {
		t.Fatalf("registers %+v", a)
	}
	for _, bad := range [][]byte{
		nil,
		b[:11],
		{0x72, 0x0b, 0, 0, 0, 0, 0, 14, 0x09, 0x0c, 0, 0, 0, 0},            // descriptor format
		{0x70, 0, 0x0b, 0x04, 0x51, 0x40, 0x02, 3, 0x80, 0x11, 0x22, 0x33}, // additional length stops before byte 12
	} {
		if a := ATAFromFixedSense(bad); a != nil {
			t.Errorf("ATAFromFixedSense(% x) = %+v, want nil", bad, a)
		}
	}
}

func FuzzATAFromFixedSense(f *testing.F) {
	f.Add([]byte{0xf0, 0, 0x0b, 0x04, 0x51, 0x40, 0x02, 10, 0x80, 0x11, 0x22, 0x33, 0x00, 0x00, 0, 0, 0, 0})
	f.Add([]byte{0x71, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if a := ATAFromFixedSense(b); a != nil && a.LBA>>24 != 0 {
			t.Fatalf("fixed sense carries 24 LBA bits, got %#x", a.LBA)
		}
	})
}
