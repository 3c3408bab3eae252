package smart

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// NumAttributes is the number of attribute slots in SMART READ DATA.
const NumAttributes = 30

// RawAttribute is one 12-byte slot of SMART READ DATA.
type RawAttribute struct {
	ID    uint8
	Flags uint16
	Value uint8 // the normalized "current" value
	Worst uint8
	Raw   [6]byte // little-endian counter bytes
}

// SmartValues is a decoded SMART READ DATA page (ATA/ATAPI-8 "Device SMART
// data structure").
type SmartValues struct {
	Revision uint16
	// Slots holds all 30 slots in table order, empty ones (id 0) included,
	// because thresholds pair with attributes by slot index.
	Slots              [NumAttributes]RawAttribute
	OfflineStatus      uint8  // byte 362
	SelfTestStatus     uint8  // byte 363
	OfflineSeconds     uint16 // bytes 364-365
	OfflineCapability  uint8  // byte 367
	SmartCapability    uint16 // bytes 368-369
	ErrorLogCapability uint8  // byte 370
	ShortTestMinutes   uint8  // byte 372
	// ExtendedTestMinutes is byte 373, or bytes 375-376 when 373 is FFh.
	ExtendedTestMinutes   uint16
	ConveyanceTestMinutes uint8 // byte 374
}

// ParseSmartValues decodes a 512-byte SMART READ DATA page; a bad checksum is a *ChecksumError.
func ParseSmartValues(b []byte) (*SmartValues, error) {
	const page = "SMART READ DATA"
	if len(b) != 512 {
		return nil, malformed(page, "%d bytes, want 512", len(b))
	}
	if err := checksum(page, b); err != nil {
		return nil, err
	}
	v := &SmartValues{Revision: binary.LittleEndian.Uint16(b)}
	for i := range v.Slots {
		e := b[2+12*i : 2+12*i+12]
		s := &v.Slots[i]
		s.ID = e[0]
		s.Flags = binary.LittleEndian.Uint16(e[1:])
		s.Value, s.Worst = e[3], e[4]
		copy(s.Raw[:], e[5:11])
	}
	v.OfflineStatus = b[362]
	v.SelfTestStatus = b[363]
	v.OfflineSeconds = binary.LittleEndian.Uint16(b[364:])
	v.OfflineCapability = b[367]
	v.SmartCapability = binary.LittleEndian.Uint16(b[368:])
	v.ErrorLogCapability = b[370]
	v.ShortTestMinutes = b[372]
	v.ExtendedTestMinutes = uint16(b[373])
	if b[373] == 0xff {
		v.ExtendedTestMinutes = binary.LittleEndian.Uint16(b[375:])
	}
	v.ConveyanceTestMinutes = b[374]
	return v, nil
}

// Thresholds is a decoded SMART READ THRESHOLDS page.
type Thresholds struct {
	Revision uint16
	Slots    [NumAttributes]struct{ ID, Threshold uint8 }
}

// ParseThresholds decodes a 512-byte SMART READ THRESHOLDS page; a bad
// checksum is a *ChecksumError.
func ParseThresholds(b []byte) (*Thresholds, error) {
	const page = "SMART READ THRESHOLDS"
	if len(b) != 512 {
		return nil, malformed(page, "%d bytes, want 512", len(b))
	}
	if err := checksum(page, b); err != nil {
		return nil, err
	}
	t := &Thresholds{Revision: binary.LittleEndian.Uint16(b)}
	for i := range t.Slots {
		t.Slots[i].ID = b[2+12*i]
		t.Slots[i].Threshold = b[2+12*i+1]
	}
	return t, nil
}

// AttrFlags is the attribute flag word.
type AttrFlags uint16

// Flag bits (smartctl's letters P O S R C K).
const (
	FlagPrefailure    AttrFlags = 1 << 0
	FlagUpdatedOnline AttrFlags = 1 << 1
	FlagPerformance   AttrFlags = 1 << 2
	FlagErrorRate     AttrFlags = 1 << 3
	FlagEventCount    AttrFlags = 1 << 4
	FlagAutoKeep      AttrFlags = 1 << 5
)

// String is smartctl's brief flag form, such as "PO--CK " ('+' at the end
// when bits beyond the six known ones are set).
func (f AttrFlags) String() string {
	var b strings.Builder
	for i, c := range "POSRCK" {
		if f&(1<<i) != 0 {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	if f&^0x3f != 0 {
		b.WriteByte('+')
	} else {
		b.WriteByte(' ')
	}
	return b.String()
}

// WhenFailed is smartctl's WHEN_FAILED column.
type WhenFailed string

// WhenFailed values.
const (
	FailedNever WhenFailed = ""
	FailedNow   WhenFailed = "now"
	FailedPast  WhenFailed = "past"
)

// Attribute is one attribute with its threshold, name and decoded raw value.
type Attribute struct {
	ID           uint8
	Name         string
	Flags        AttrFlags
	Value        uint8
	Worst        uint8
	Threshold    uint8
	HasThreshold bool // the thresholds page had this id in the same slot
	Raw          [6]byte
	RawValue     uint64 // the 48-bit little-endian counter
	RawString    string // as smartctl prints RAW_VALUE
	WhenFailed   WhenFailed
}

// rawFormat is how a raw value is printed (smartctl's -v formats we use).
type rawFormat uint8

const (
	rawRaw48 rawFormat = iota
	rawRaw16OptRaw16
	rawRaw16OptAvg16
	rawRaw24OptRaw8
	rawTempMinMax
)

type attrDef struct {
	name   string
	format rawFormat
	hdd    bool // named only for rotating drives
	ssd    bool // named only for solid state drives
}

// defaultAttrs is smartctl's DEFAULT drive database entry: the names and raw
// formats it uses for a drive it has no specific entry for.
var defaultAttrs = map[uint8]attrDef{
	1: {name: "Raw_Read_Error_Rate"}, 2: {name: "Throughput_Performance"},
	3: {name: "Spin_Up_Time", format: rawRaw16OptAvg16}, 4: {name: "Start_Stop_Count"},
	5: {name: "Reallocated_Sector_Ct", format: rawRaw16OptRaw16}, 6: {name: "Read_Channel_Margin", hdd: true},
	7: {name: "Seek_Error_Rate", hdd: true}, 8: {name: "Seek_Time_Performance", hdd: true},
	9: {name: "Power_On_Hours", format: rawRaw24OptRaw8}, 10: {name: "Spin_Retry_Count", hdd: true},
	11: {name: "Calibration_Retry_Count", hdd: true}, 12: {name: "Power_Cycle_Count"},
	13: {name: "Read_Soft_Error_Rate"}, 175: {name: "Program_Fail_Count_Chip", ssd: true},
	176: {name: "Erase_Fail_Count_Chip", ssd: true}, 177: {name: "Wear_Leveling_Count", ssd: true},
	178: {name: "Used_Rsvd_Blk_Cnt_Chip", ssd: true}, 179: {name: "Used_Rsvd_Blk_Cnt_Tot", ssd: true},
	180: {name: "Unused_Rsvd_Blk_Cnt_Tot", ssd: true}, 181: {name: "Program_Fail_Cnt_Total"},
	182: {name: "Erase_Fail_Count_Total", ssd: true}, 183: {name: "Runtime_Bad_Block"},
	184: {name: "End-to-End_Error"}, 187: {name: "Reported_Uncorrect"}, 188: {name: "Command_Timeout"},
	189: {name: "High_Fly_Writes", hdd: true}, 190: {name: "Airflow_Temperature_Cel", format: rawTempMinMax},
	191: {name: "G-Sense_Error_Rate", hdd: true}, 192: {name: "Power-Off_Retract_Count"},
	193: {name: "Load_Cycle_Count", hdd: true}, 194: {name: "Temperature_Celsius", format: rawTempMinMax},
	195: {name: "Hardware_ECC_Recovered"}, 196: {name: "Reallocated_Event_Count", format: rawRaw16OptRaw16},
	197: {name: "Current_Pending_Sector"}, 198: {name: "Offline_Uncorrectable"},
	199: {name: "UDMA_CRC_Error_Count"}, 200: {name: "Multi_Zone_Error_Rate", hdd: true},
	201: {name: "Soft_Read_Error_Rate", hdd: true}, 202: {name: "Data_Address_Mark_Errs", hdd: true},
	203: {name: "Run_Out_Cancel"}, 204: {name: "Soft_ECC_Correction"}, 205: {name: "Thermal_Asperity_Rate"},
	206: {name: "Flying_Height", hdd: true}, 207: {name: "Spin_High_Current", hdd: true},
	208: {name: "Spin_Buzz", hdd: true}, 209: {name: "Offline_Seek_Performnce", hdd: true},
	220: {name: "Disk_Shift", hdd: true}, 221: {name: "G-Sense_Error_Rate", hdd: true},
	222: {name: "Loaded_Hours", hdd: true}, 223: {name: "Load_Retry_Count", hdd: true},
	224: {name: "Load_Friction", hdd: true}, 225: {name: "Load_Cycle_Count", hdd: true},
	226: {name: "Load-in_Time", hdd: true}, 227: {name: "Torq-amp_Count", hdd: true},
	228: {name: "Power-off_Retract_Count"}, 230: {name: "Head_Amplitude", hdd: true},
	231: {name: "Temperature_Celsius", hdd: true}, 232: {name: "Available_Reservd_Space"},
	233: {name: "Media_Wearout_Indicator", ssd: true}, 240: {name: "Head_Flying_Hours", format: rawRaw24OptRaw8, hdd: true},
	241: {name: "Total_LBAs_Written"}, 242: {name: "Total_LBAs_Read"}, 250: {name: "Read_Error_Retry_Rate"},
	254: {name: "Free_Fall_Sensor", hdd: true},
}

// AttributeName is smartctl's default name for an attribute id on a drive
// with the given rotation rate (1 = SSD, >1 = rpm, 0 = unknown).
func AttributeName(id uint8, rotationRate uint16) string {
	d, ok := defaultAttrs[id]
	if !ok {
		return "Unknown_Attribute"
	}
	hddDrive, ssdDrive := rotationRate > 1, rotationRate == 1
	switch {
	case d.hdd && ssdDrive:
		return "Unknown_SSD_Attribute"
	case d.ssd && hddDrive:
		return "Unknown_HDD_Attribute"
	}
	return d.name
}

func raw48(r [6]byte) uint64 {
	return uint64(r[0]) | uint64(r[1])<<8 | uint64(r[2])<<16 | uint64(r[3])<<24 | uint64(r[4])<<32 | uint64(r[5])<<40
}

// FormatRaw renders an attribute's raw bytes the way smartctl prints them
// with its default format for the id.
func FormatRaw(id uint8, r [6]byte) string {
	v := raw48(r)
	w0 := uint16(r[0]) | uint16(r[1])<<8
	w1 := uint16(r[2]) | uint16(r[3])<<8
	w2 := uint16(r[4]) | uint16(r[5])<<8
	switch defaultAttrs[id].format {
	case rawRaw16OptRaw16:
		if w1 != 0 || w2 != 0 {
			return fmt.Sprintf("%d (%d %d)", w0, w2, w1)
		}
		return fmt.Sprint(w0)
	case rawRaw16OptAvg16:
		if w1 != 0 {
			return fmt.Sprintf("%d (Average %d)", w0, w1)
		}
		return fmt.Sprint(w0)
	case rawRaw24OptRaw8:
		if r[3] != 0 || r[4] != 0 || r[5] != 0 {
			return fmt.Sprintf("%d (%d %d %d)", v&0xffffff, r[5], r[4], r[3])
		}
		return fmt.Sprint(v & 0xffffff)
	case rawTempMinMax:
		return formatTemp(r, w0, w1, w2)
	}
	return fmt.Sprint(v)
}

// tempWordClass tells whether a 16-bit word can hold a temperature:
// bit 0: as a signed byte, bit 4: as a signed word; 0 when it cannot.
func tempWordClass(w uint16) int {
	switch {
	case w <= 0x7f:
		return 0x11
	case w <= 0xff:
		return 0x01
	case w >= 0xff80:
		return 0x10
	}
	return 0
}

// tempRange accepts two bytes as a plausible min/max around t (in either order).
func tempRange(t int, a, b byte) (lo, hi int, ok bool) {
	lo, hi = int(int8(a)), int(int8(b))
	if lo > hi {
		lo, hi = hi, lo
	}
	if -60 <= lo && lo <= t && t <= hi && hi <= 120 && !(lo == -1 && hi <= 0) {
		return lo, hi, true
	}
	return 0, 0, false
}

// formatTemp finds where a vendor put the min/max temperatures next to the
// current one. The layouts seen in the wild (raw bytes 5..0):
//
//	00 00 00 00 xx TT   current only
//	00 00 HL LH xx TT   Maxtor, Samsung, Seagate, Toshiba
//	00 00 00 HL LH TT   WDC
//	xx HL xx LH xx TT   Hitachi/HGST, Kingston
//	CC CC HL LH xx TT   WDC with an over-temperature count
//
// and prints them as smartctl does; anything else prints the bytes.
func formatTemp(r [6]byte, w0, w1, w2 uint16) string {
	t := int(int8(r[0]))
	c0 := tempWordClass(w0)
	switch {
	case w2 == 0:
		if w1 == 0 && c0 != 0 {
			return fmt.Sprint(t)
		}
		if c0 != 0 {
			if lo, hi, ok := tempRange(t, r[2], r[3]); ok {
				return fmt.Sprintf("%d (Min/Max %d/%d)", t, lo, hi)
			}
		}
		if r[3] == 0 {
			if lo, hi, ok := tempRange(t, r[1], r[2]); ok {
				return fmt.Sprintf("%d (Min/Max %d/%d)", t, lo, hi)
			}
		}
	case c0 != 0:
		if c0&tempWordClass(w1)&tempWordClass(w2) != 0 {
			if lo, hi, ok := tempRange(t, r[2], r[4]); ok {
				return fmt.Sprintf("%d (Min/Max %d/%d)", t, lo, hi)
			}
		}
		if w2 < 0x7fff {
			if lo, hi, ok := tempRange(t, r[2], r[3]); ok && hi >= 40 {
				return fmt.Sprintf("%d (Min/Max %d/%d #%d)", t, lo, hi, w2)
			}
		}
	}
	return fmt.Sprintf("%d (%d %d %d %d %d)", r[0], r[5], r[4], r[3], r[2], r[1])
}

// Attributes pairs SMART READ DATA with READ THRESHOLDS (by slot, as the
// standard pairs them, or by id when the slot holds another id), names
// every attribute for a drive of the given rotation rate and decodes its raw
// value. th may be nil.
func Attributes(v *SmartValues, th *Thresholds, rotationRate uint16) []Attribute {
	if v == nil {
		return nil
	}
	var out []Attribute
	for i, s := range v.Slots {
		if s.ID == 0 {
			continue
		}
		a := Attribute{
			ID: s.ID, Name: AttributeName(s.ID, rotationRate), Flags: AttrFlags(s.Flags),
			Value: s.Value, Worst: s.Worst, Raw: s.Raw, RawValue: raw48(s.Raw),
			RawString: FormatRaw(s.ID, s.Raw),
		}
		if th != nil {
			a.Threshold, a.HasThreshold = th.find(i, s.ID)
		}
		a.WhenFailed = whenFailed(a)
		out = append(out, a)
	}
	return out
}

// find is the threshold of attribute id, which sits in slot i on a sane
// drive; when that slot holds another id the whole table is searched, as
// smartctl does, because some firmware orders the two tables differently.
func (t *Thresholds) find(i int, id uint8) (uint8, bool) {
	if t.Slots[i].ID == id {
		return t.Slots[i].Threshold, true
	}
	for _, s := range t.Slots {
		if s.ID == id {
			return s.Threshold, true
		}
	}
	return 0, false
}

// whenFailed is smartctl's rule: a zero threshold never fails; the current
// value at or below the threshold is failing now, the worst value there
// failed in the past.
func whenFailed(a Attribute) WhenFailed {
	switch {
	case !a.HasThreshold || a.Threshold == 0:
		return FailedNever
	case a.Value <= a.Threshold:
		return FailedNow
	case a.Worst <= a.Threshold:
		return FailedPast
	}
	return FailedNever
}
