package sgio

import (
	"bytes"
	"testing"
)

// Each CDB laid out byte by byte as the standard's table draws it; the
// expected bytes were written out by hand from SPC-4 and SBC-3.
func TestCDBLayouts(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []byte
		want []byte
	}{
		// INQUIRY: opcode 12h, EVPD in byte 1 bit 0, page code byte 2,
		// allocation length bytes 3-4 big-endian, control byte 5.
		{"standard INQUIRY 36", InquiryCDB(false, 0, 36), []byte{0x12, 0, 0, 0, 36, 0}},
		{"VPD 89h 572", InquiryCDB(true, 0x89, 572), []byte{0x12, 1, 0x89, 0x02, 0x3c, 0}},
		// A standard INQUIRY never carries a page code.
		{"standard ignores page", InquiryCDB(false, 0x80, 96), []byte{0x12, 0, 0, 0, 96, 0}},
		// LOG SENSE: opcode 4Dh, byte 2 = PC (7:6) 01b | page code, byte 3
		// subpage, allocation length bytes 7-8.
		{"LOG SENSE 2Fh", LogSenseCDB(0x2f, 0, 252), []byte{0x4d, 0, 0x6f, 0, 0, 0, 0, 0, 252, 0}},
		{"LOG SENSE 0Dh/01h 1024", LogSenseCDB(0x0d, 0x01, 1024), []byte{0x4d, 0, 0x4d, 0x01, 0, 0, 0, 0x04, 0x00, 0}},
		// A page code above 3Fh is masked, never spills into PC.
		{"LOG SENSE masked", LogSenseCDB(0xff, 0, 4), []byte{0x4d, 0, 0x7f, 0, 0, 0, 0, 0, 4, 0}},
		// MODE SENSE(6): opcode 1Ah, byte 2 = PC | page, byte 3 subpage,
		// byte 4 allocation length.
		{"MODE SENSE(6) 1Ch", ModeSense6CDB(ModeCurrent, 0x1c, 0, 64), []byte{0x1a, 0, 0x1c, 0, 64, 0}},
		{"MODE SENSE(6) changeable", ModeSense6CDB(ModeChangeable, 0x0a, 0, 255), []byte{0x1a, 0, 0x4a, 0, 255, 0}},
		// MODE SENSE(10): opcode 5Ah, allocation length bytes 7-8.
		{"MODE SENSE(10) 1Ch", ModeSense10CDB(ModeCurrent, 0x1c, 0, 0x120), []byte{0x5a, 0, 0x1c, 0, 0, 0, 0, 0x01, 0x20, 0}},
		// READ DEFECT DATA(10): opcode 37h, byte 2 = REQ_PLIST (4) |
		// REQ_GLIST (3) | format (2:0), allocation length bytes 7-8.
		{"RDD(10) grown, bytes from index", ReadDefectData10CDB(false, true, DefectFormatBytesFromIndex, 4),
			[]byte{0x37, 0, 0x0c, 0, 0, 0, 0, 0, 4, 0}},
		{"RDD(10) both lists, short block", ReadDefectData10CDB(true, true, DefectFormatShortBlock, 0x1234),
			[]byte{0x37, 0, 0x18, 0, 0, 0, 0, 0x12, 0x34, 0}},
		// READ DEFECT DATA(12): opcode B7h, byte 1 = lists | format,
		// address descriptor index bytes 2-5, allocation length 6-9.
		{"RDD(12) grown", ReadDefectData12CDB(false, true, DefectFormatBytesFromIndex, 8),
			[]byte{0xb7, 0x0c, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0}},
		{"RDD(12) primary, 70000", ReadDefectData12CDB(true, false, DefectFormatPhysicalSector, 70000),
			[]byte{0xb7, 0x15, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 0, 0}},
		// ATA PASS-THROUGH(16): byte 1 = PROTOCOL << 1 (4 PIO data-in, 3
		// non-data); byte 2 = CK_COND (5) | T_DIR (3) | BYT_BLOK (2) |
		// T_LENGTH (1:0) = 2; registers at 4, 6, 8, 10, 12, 13, 14.
		{"IDENTIFY DEVICE", ATAPassThrough16CDB(ATARegisters{Count: 1, Command: 0xec}, true, false),
			[]byte{0x85, 0x08, 0x0e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xec, 0}},
		{"SMART RETURN STATUS", ATAPassThrough16CDB(ATARegisters{Features: 0xda, LBAMid: 0x4f, LBAHigh: 0xc2, Command: 0xb0}, false, true),
			[]byte{0x85, 0x06, 0x20, 0, 0xda, 0, 0, 0, 0, 0, 0x4f, 0, 0xc2, 0, 0xb0, 0}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s: % x, want % x", c.name, c.got, c.want)
		}
	}
}

func TestSenseHelpers(t *testing.T) {
	ua := Sense{Key: KeyUnitAttention, ASC: 0x29}
	if !ua.UnitAttention() || ua.DefectListNotFound() || ua.InvalidCommand() {
		t.Errorf("unit attention: %+v", ua)
	}
	nf := Sense{Key: KeyMediumError, ASC: 0x1c, ASCQ: 0x02}
	if !nf.DefectListNotFound() || nf.UnitAttention() {
		t.Errorf("grown defect list not found: %+v", nf)
	}
	inv := Sense{Key: KeyIllegalRequest, ASC: ASCInvalidOpcode}
	if !inv.InvalidCommand() {
		t.Errorf("invalid opcode: %+v", inv)
	}
}
