package sgio

import (
	"errors"
	"testing"
)

// Descriptor sense as a SAT layer returns it for SMART RETURN STATUS with
// CK_COND: RECOVERED ERROR, 00/1D, ATA Status Return descriptor with
// LBA mid 4Fh / high C2h (SAT-3 12.2.2.6).
var descPass = []byte{
	0x72, 0x01, 0x00, 0x1d, 0, 0, 0, 14,
	0x09, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x00, 0xc2, 0x00, 0x50,
}

func TestParseSenseDescriptorATA(t *testing.T) {
	s, err := ParseSense(descPass)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Descriptor || s.Key != KeyRecoveredError || !s.ATAPassThroughInfo() || s.ATA == nil {
		t.Fatalf("decoded %+v", s)
	}
	if s.ATA.LBAMid() != 0x4f || s.ATA.LBAHigh() != 0xc2 || s.ATA.Status != 0x50 {
		t.Fatalf("ATA registers %+v", *s.ATA)
	}
	// Every LBA byte lands in its own place: 47:40 .. 7:0.
	d := append([]byte(nil), descPass...)
	copy(d[8+4:], []byte{0x12, 0x34, 0xa6, 0xa0, 0xa4, 0xa1, 0xa5, 0xa2})
	d[8+2] = 1
	s, _ = ParseSense(d)
	if s.ATA.LBA != 0xa5a4a6a2a1a0 || s.ATA.Count != 0x1234 || !s.ATA.Extend {
		t.Fatalf("48-bit registers: %+v", *s.ATA)
	}
}

func TestParseSenseFixedATA(t *testing.T) {
	// Fixed format ATA pass-through results: error 0x04 (ABRT), status 0x51,
	// device 0x40, count 0x01; LBA 0xc2f4xx (SMART threshold exceeded).
	b := []byte{0xf0, 0, 0x0b, 0x04, 0x51, 0x40, 0x01, 10, 0x00, 0x00, 0xf4, 0x2c, 0x00, 0x1d, 0, 0, 0, 0}
	s, err := ParseSense(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.Descriptor || s.Key != KeyAbortedCommand || s.ATA == nil || !s.InfoValid {
		t.Fatalf("decoded %+v", s)
	}
	if s.ATA.Error != 0x04 || s.ATA.Status != 0x51 || s.ATA.LBAMid() != 0xf4 || s.ATA.LBAHigh() != 0x2c {
		t.Fatalf("registers %+v", *s.ATA)
	}
}

func TestParseSenseErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {0x70}, {0x72, 0}} {
		if _, err := ParseSense(b); !errors.Is(err, ErrShortSense) {
			t.Errorf("ParseSense(% x) = %v", b, err)
		}
	}
	if _, err := ParseSense([]byte{0x7f, 0, 0, 0}); !errors.Is(err, ErrUnknownSense) {
		t.Errorf("unknown response code: %v", err)
	}
	// An additional length past the buffer is clamped, not trusted.
	s, err := ParseSense([]byte{0x72, 0x05, 0x24, 0x00, 0, 0, 0, 200, 0x09, 0x0c, 0})
	if err != nil || s.ATA != nil || !s.InvalidCommand() {
		t.Errorf("clamped: %+v %v", s, err)
	}
	if KeyName(KeyIllegalRequest) != "ILLEGAL REQUEST" {
		t.Error(KeyName(KeyIllegalRequest))
	}
}

func FuzzParseSense(f *testing.F) {
	f.Add(descPass)
	f.Add([]byte{0xf0, 0, 0x0b, 0x04, 0x51, 0x40, 0x01, 10, 0x00, 0x00, 0xf4, 0x2c, 0x00, 0x1d, 0, 0, 0, 0})
	f.Add([]byte{0x72, 0x05, 0x24, 0x00, 0, 0, 0, 12, 0x00, 0x0a, 0x80, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSense(b)
		if err == nil && s.ATA != nil && s.ATA.LBA>>48 != 0 {
			t.Fatalf("LBA wider than 48 bits: %#x", s.ATA.LBA)
		}
		_ = s.String()
	})
}
