package smart

import (
	"encoding/binary"
	"strings"
)

// Identity is what ATA IDENTIFY DEVICE says about a drive.
type Identity struct {
	Model    string
	Serial   string
	Firmware string
	// Sectors is the number of user-addressable logical sectors (48-bit
	// count when the drive has the 48-bit feature set, else 28-bit).
	Sectors            uint64
	LBA48              bool
	LogicalSectorSize  uint32
	PhysicalSectorSize uint32
	// RotationRate is word 217: 0 not reported, 1 solid state, else rpm.
	RotationRate uint16
	FormFactor   uint8 // word 168 bits 3:0
	WWN          uint64
	HasWWN       bool
	// SMARTSupported and SMARTEnabled come from words 82 and 85; SMARTEnabledKnown
	// is false when word 87 says words 85-87 are not valid.
	SMARTSupported    bool
	SMARTEnabled      bool
	SMARTEnabledKnown bool
	// SMARTSupportKnown is false when word 83 says words 82-84 are not
	// valid: support is then unknown (smartctl's "Ambiguous"), not absent.
	SMARTSupportKnown bool
	SelfTestSupported bool // word 84 bit 1
	ErrorLogSupported bool // word 84 bit 0
	GPLSupported      bool // General Purpose Logging feature set (word 84 or 87 bit 5)
	TrimSupported     bool // DATA SET MANAGEMENT with TRIM (word 169 bit 0)
	TrimDeterministic bool // deterministic data after TRIM (word 69 bit 14)
	TrimZeroed        bool // zeroes after TRIM (word 69 bit 5)
	ATAMajor          uint16
	ATAMinor          uint16
	SATAVersion       uint16 // word 222
	// ChecksumPresent is set when word 255 carries the A5h signature (and so
	// the page checksum was verified).
	ChecksumPresent bool
}

// Capacity is the user capacity in bytes.
func (id *Identity) Capacity() uint64 { return id.Sectors * uint64(id.LogicalSectorSize) }

// SSD reports a drive that says it does not rotate.
func (id *Identity) SSD() bool { return id.RotationRate == 1 }

var ataMajorNames = []struct {
	bit  uint
	name string
}{
	{12, "ACS-5"}, {11, "ACS-4"}, {10, "ACS-3"}, {9, "ACS-2"}, {8, "ATA8-ACS"},
	{7, "ATA/ATAPI-7"}, {6, "ATA/ATAPI-6"}, {5, "ATA/ATAPI-5"}, {4, "ATA/ATAPI-4"},
	{3, "ATA-3"}, {2, "ATA-2"}, {1, "ATA-1"},
}

// ATAVersion is the newest standard the major version word claims, or "".
func (id *Identity) ATAVersion() string {
	if id.ATAMajor == 0 || id.ATAMajor == 0xffff {
		return ""
	}
	for _, m := range ataMajorNames {
		if id.ATAMajor&(1<<m.bit) != 0 {
			return m.name
		}
	}
	return ""
}

// ataString decodes an IDENTIFY string: two characters per word, the first
// in the high byte.
func ataString(b []byte) string {
	out := make([]byte, len(b))
	for i := 0; i+1 < len(b); i += 2 {
		out[i], out[i+1] = b[i+1], b[i]
	}
	return strings.TrimRight(strings.TrimLeft(string(out), " \x00"), " \x00")
}

// ParseIdentify decodes a 512-byte IDENTIFY DEVICE page. When word 255 holds
// the A5h signature the page checksum is verified and a mismatch is a
// *ChecksumError.
func ParseIdentify(b []byte) (*Identity, error) {
	const page = "IDENTIFY DEVICE"
	if len(b) != 512 {
		return nil, malformed(page, "%d bytes, want 512", len(b))
	}
	w := func(i int) uint16 { return binary.LittleEndian.Uint16(b[2*i:]) }
	id := &Identity{}
	if b[510] == 0xa5 {
		id.ChecksumPresent = true
		if err := checksum(page, b); err != nil {
			return nil, err
		}
	}
	id.Serial = ataString(b[20:40])
	id.Firmware = ataString(b[46:54])
	id.Model = ataString(b[54:94])

	valid8284 := w(83)&0xc000 == 0x4000
	if w(49)&(1<<9) != 0 { // LBA supported
		lba28 := uint64(w(60)) | uint64(w(61))<<16
		id.Sectors = lba28
		if valid8284 && w(83)&(1<<10) != 0 {
			lba48 := uint64(w(100)) | uint64(w(101))<<16 | uint64(w(102))<<32 | uint64(w(103))<<48
			if lba48 != 0 {
				id.Sectors = lba48
				id.LBA48 = true
			}
		}
	}
	id.LogicalSectorSize, id.PhysicalSectorSize = 512, 512
	if w106 := w(106); w106&0xc000 == 0x4000 {
		// Sizes that do not fit 32 bits are a broken page; keeping them
		// would wrap, to 0 at worst, and callers divide by these.
		if w106&(1<<12) != 0 {
			if words := uint64(w(117)) | uint64(w(118))<<16; words >= 256 && words*2 <= 1<<32-1 {
				id.LogicalSectorSize = uint32(words * 2)
			}
		}
		id.PhysicalSectorSize = id.LogicalSectorSize
		if w106&(1<<13) != 0 {
			if phys := uint64(id.LogicalSectorSize) << (w106 & 0xf); phys <= 1<<32-1 {
				id.PhysicalSectorSize = uint32(phys)
			}
		}
	}
	id.RotationRate = w(217)
	id.FormFactor = uint8(w(168) & 0xf)
	if valid8284 {
		id.SMARTSupportKnown = true
		id.SMARTSupported = w(82)&1 != 0
		id.ErrorLogSupported = w(84)&0xc000 == 0x4000 && w(84)&1 != 0
		id.SelfTestSupported = w(84)&0xc000 == 0x4000 && w(84)&2 != 0
	}
	if w(87)&0xc000 == 0x4000 {
		id.SMARTEnabledKnown = true
		id.SMARTEnabled = w(85)&1 != 0
	}
	if w(84)&0xc000 == 0x4000 && w(84)&(1<<8) != 0 {
		id.WWN = uint64(w(108))<<48 | uint64(w(109))<<32 | uint64(w(110))<<16 | uint64(w(111))
		id.HasWWN = id.WWN != 0
	}
	id.GPLSupported = (w(84)&0xc000 == 0x4000 && w(84)&(1<<5) != 0) || (w(87)&0xc000 == 0x4000 && w(87)&(1<<5) != 0)
	id.TrimSupported = w(169)&1 != 0
	if id.TrimSupported {
		id.TrimDeterministic = w(69)&(1<<14) != 0
		id.TrimZeroed = w(69)&(1<<5) != 0
	}
	id.ATAMajor, id.ATAMinor = w(80), w(81)
	id.SATAVersion = w(222)
	return id, nil
}
