package sgio

import "encoding/binary"

// SCSI operation codes this module sends. Every one of them only reads:
// nothing here changes a device's state or its data.
const (
	OpInquiry          = 0x12 // INQUIRY (SPC-4 6.6)
	OpModeSense6       = 0x1a // MODE SENSE(6) (SPC-4 6.11)
	OpReadDefectData10 = 0x37 // READ DEFECT DATA(10) (SBC-3 5.14)
	OpLogSense         = 0x4d // LOG SENSE (SPC-4 6.8)
	OpModeSense10      = 0x5a // MODE SENSE(10) (SPC-4 6.12)
	OpATAPassThrough16 = 0x85 // ATA PASS-THROUGH(16) (SAT-3 12.2.2)
	OpReadDefectData12 = 0xb7 // READ DEFECT DATA(12) (SBC-3 5.15)
)

// Additional sense codes this module acts on (SPC-4 Annex D).
const (
	ASCInvalidOpcode      = 0x20 // INVALID COMMAND OPERATION CODE
	ASCInvalidFieldInCDB  = 0x24 // INVALID FIELD IN CDB
	ASCDefectListNotFound = 0x1c // DEFECT LIST NOT FOUND (and its ASCQs)
	ASCWarning            = 0x0b // WARNING (informational exception)
	ASCFailurePrediction  = 0x5d // FAILURE PREDICTION THRESHOLD EXCEEDED
)

// Mode page control values for MODE SENSE (SPC-4 6.11.1, table 152).
const (
	ModeCurrent    = 0
	ModeChangeable = 1
	ModeDefault    = 2
	ModeSaved      = 3
)

// InquiryCDB builds INQUIRY: the standard data when evpd is false (page
// must then be 0), else the vital product data page named by page. alloc is
// the ALLOCATION LENGTH (SPC-4 6.6.1, table 142).
func InquiryCDB(evpd bool, page uint8, alloc uint16) []byte {
	c := make([]byte, 6)
	c[0] = OpInquiry
	if evpd {
		c[1] = 0x01
		c[2] = page
	}
	binary.BigEndian.PutUint16(c[3:], alloc)
	return c
}

// LogSenseCDB builds LOG SENSE for a page and subpage with page control 01b
// (cumulative values, what smartctl and sg_logs read) and neither PPC nor
// SP set, so nothing is saved or reset (SPC-4 6.8.1, table 163).
func LogSenseCDB(page, subpage uint8, alloc uint16) []byte {
	c := make([]byte, 10)
	c[0] = OpLogSense
	c[2] = 1<<6 | page&0x3f
	c[3] = subpage
	binary.BigEndian.PutUint16(c[7:], alloc)
	return c
}

// ModeSense6CDB builds MODE SENSE(6) with block descriptors allowed (DBD
// clear, as smartctl sends it) for page control pc (ModeCurrent...) and a
// page and subpage (SPC-4 6.11.1, table 150).
func ModeSense6CDB(pc, page, subpage, alloc uint8) []byte {
	c := make([]byte, 6)
	c[0] = OpModeSense6
	c[2] = pc<<6 | page&0x3f
	c[3] = subpage
	c[4] = alloc
	return c
}

// ModeSense10CDB builds MODE SENSE(10), the same request for devices that
// reject the 6-byte form (SPC-4 6.12, table 154).
func ModeSense10CDB(pc, page, subpage uint8, alloc uint16) []byte {
	c := make([]byte, 10)
	c[0] = OpModeSense10
	c[2] = pc<<6 | page&0x3f
	c[3] = subpage
	binary.BigEndian.PutUint16(c[7:], alloc)
	return c
}

// Defect list formats (SBC-3 6.2, table 99).
const (
	DefectFormatShortBlock     = 0 // 4-byte descriptors
	DefectFormatExtBytesIndex  = 1 // 8-byte
	DefectFormatExtPhysical    = 2 // 8-byte
	DefectFormatLongBlock      = 3 // 8-byte
	DefectFormatBytesFromIndex = 4 // 8-byte
	DefectFormatPhysicalSector = 5 // 8-byte
	DefectFormatVendor         = 6 // vendor specific, size unknown
)

func defectByte(plist, glist bool, format uint8) uint8 {
	b := format & 0x7
	if plist {
		b |= 1 << 4
	}
	if glist {
		b |= 1 << 3
	}
	return b
}

// ReadDefectData10CDB builds READ DEFECT DATA(10) asking for the primary
// and/or grown list in the given format (SBC-3 5.14, table 56).
func ReadDefectData10CDB(plist, glist bool, format uint8, alloc uint16) []byte {
	c := make([]byte, 10)
	c[0] = OpReadDefectData10
	c[2] = defectByte(plist, glist, format)
	binary.BigEndian.PutUint16(c[7:], alloc)
	return c
}

// ReadDefectData12CDB builds READ DEFECT DATA(12) starting at address
// descriptor index 0 (SBC-3 5.15, table 59).
func ReadDefectData12CDB(plist, glist bool, format uint8, alloc uint32) []byte {
	c := make([]byte, 12)
	c[0] = OpReadDefectData12
	c[1] = defectByte(plist, glist, format)
	binary.BigEndian.PutUint32(c[6:], alloc)
	return c
}

// UnitAttention reports sense that only says the device was reset or its
// parameters changed: the command was not run and may be sent again.
func (s Sense) UnitAttention() bool { return s.Key == KeyUnitAttention }

// DefectListNotFound reports MEDIUM ERROR or ILLEGAL REQUEST with ASC 1Ch:
// the device keeps no such defect list.
func (s Sense) DefectListNotFound() bool { return s.ASC == ASCDefectListNotFound }

// ATARegisters are the 28-bit ATA command registers ATA PASS-THROUGH
// carries to the drive.
type ATARegisters struct {
	Features, Count, LBALow, LBAMid, LBAHigh, Device, Command uint8
}

// SAT protocol field values (SAT-3 12.2.2.2, table 131).
const (
	satNonData   = 3
	satPIODataIn = 4
)

// ATAPassThrough16CDB builds ATA PASS-THROUGH(16) for a 28-bit command
// (SAT-3 12.2.2): non-data, or PIO data-in of COUNT 512-byte blocks
// (T_DIR to the host, BYT_BLOK, T_LENGTH in the COUNT field); checkCondition
// sets CK_COND so the registers come back in the sense data.
func ATAPassThrough16CDB(r ATARegisters, dataIn, checkCondition bool) []byte {
	c := make([]byte, 16)
	c[0] = OpATAPassThrough16
	if dataIn {
		c[1] = satPIODataIn << 1
		c[2] = 1<<3 | 1<<2 | 2
	} else {
		c[1] = satNonData << 1
	}
	if checkCondition {
		c[2] |= 1 << 5
	}
	c[4] = r.Features
	c[6] = r.Count
	c[8] = r.LBALow
	c[10] = r.LBAMid
	c[12] = r.LBAHigh
	c[13] = r.Device
	c[14] = r.Command
	return c
}
