package smart

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// NVMeIdentity is the part of Identify Controller (CNS 01h) this package reports.
type NVMeIdentity struct {
	VendorID          uint16 // PCI vendor id
	SubsystemVendorID uint16
	Serial            string
	Model             string
	Firmware          string
	OUI               uint32 // IEEE OUI, as smartctl prints it (byte 73 least significant)
	ControllerID      uint16
	Version           uint32 // VER: major << 16 | minor << 8 | tertiary
	OACS              uint16
	// ErrorLogEntries is ELPE+1, the number of entries the error log holds.
	ErrorLogEntries   int
	LogPageAttributes uint8
	WarningTempK      uint16 // WCTEMP, 0 when not reported
	CriticalTempK     uint16 // CCTEMP
	TotalCapacity     Uint128
	UnallocCapacity   Uint128
	Namespaces        uint32
}

// VersionString is "major.minor" or "major.minor.tertiary" ("" when VER is 0).
func (c *NVMeIdentity) VersionString() string {
	if c.Version == 0 {
		return ""
	}
	maj, min, ter := c.Version>>16, (c.Version>>8)&0xff, c.Version&0xff
	if ter != 0 {
		return fmt.Sprintf("%d.%d.%d", maj, min, ter)
	}
	return fmt.Sprintf("%d.%d", maj, min)
}

// SelfTestSupported is OACS bit 4 (Device Self-test).
func (c *NVMeIdentity) SelfTestSupported() bool { return c.OACS&(1<<4) != 0 }

func nvmeString(b []byte) string { return strings.TrimRight(string(b), " \x00") }

// ParseNVMeIdentify decodes a 4096-byte Identify Controller structure.
func ParseNVMeIdentify(b []byte) (*NVMeIdentity, error) {
	if len(b) != 4096 {
		return nil, malformed("Identify Controller", "%d bytes, want 4096", len(b))
	}
	le16 := func(o int) uint16 { return binary.LittleEndian.Uint16(b[o:]) }
	return &NVMeIdentity{
		VendorID:          le16(0),
		SubsystemVendorID: le16(2),
		Serial:            nvmeString(b[4:24]),
		Model:             nvmeString(b[24:64]),
		Firmware:          nvmeString(b[64:72]),
		OUI:               uint32(b[73]) | uint32(b[74])<<8 | uint32(b[75])<<16,
		ControllerID:      le16(78),
		Version:           binary.LittleEndian.Uint32(b[80:]),
		OACS:              le16(256),
		LogPageAttributes: b[261],
		ErrorLogEntries:   int(b[262]) + 1,
		WarningTempK:      le16(266),
		CriticalTempK:     le16(268),
		TotalCapacity:     le128(b[280:]),
		UnallocCapacity:   le128(b[296:]),
		Namespaces:        binary.LittleEndian.Uint32(b[516:]),
	}, nil
}

// NVMeNamespace is the part of Identify Namespace (CNS 00h) used for capacity.
type NVMeNamespace struct {
	ID        uint32
	Size      uint64 // NSZE, in logical blocks
	Capacity  uint64 // NCAP
	Used      uint64 // NUSE
	BlockSize uint32 // 2^LBADS of the formatted LBA format
}

// ParseNVMeNamespace decodes a 4096-byte Identify Namespace structure.
func ParseNVMeNamespace(nsid uint32, b []byte) (*NVMeNamespace, error) {
	if len(b) != 4096 {
		return nil, malformed("Identify Namespace", "%d bytes, want 4096", len(b))
	}
	ns := &NVMeNamespace{
		ID:       nsid,
		Size:     binary.LittleEndian.Uint64(b[0:]),
		Capacity: binary.LittleEndian.Uint64(b[8:]),
		Used:     binary.LittleEndian.Uint64(b[16:]),
	}
	// FLBAS bits 3:0 (and 6:5 as the upper bits since NVMe 2.0) pick the format.
	f := int(b[26]&0xf) | int(b[26]>>5&0x3)<<4
	lbads := b[128+4*f+2]
	if lbads < 9 || lbads > 31 {
		return nil, malformed("Identify Namespace", "LBA data size 2^%d", lbads)
	}
	ns.BlockSize = 1 << lbads
	return ns, nil
}

// Bytes is the namespace size in bytes.
func (ns *NVMeNamespace) Bytes() uint64 { return ns.Size * uint64(ns.BlockSize) }

// Critical warning bits of the SMART / Health log.
const (
	WarnSpare          = 1 << 0 // available spare below threshold
	WarnTemperature    = 1 << 1 // temperature over or under a threshold
	WarnReliability    = 1 << 2 // NVM subsystem reliability degraded
	WarnReadOnly       = 1 << 3 // media placed in read-only mode
	WarnVolatileBackup = 1 << 4 // volatile memory backup device failed
	WarnPMRReadOnly    = 1 << 5 // persistent memory region read-only
)

// NVMeHealth is the SMART / Health Information log page (02h), every field.
type NVMeHealth struct {
	CriticalWarning       uint8
	TemperatureK          uint16 // composite temperature in Kelvin
	AvailableSpare        uint8  // percent
	SpareThreshold        uint8  // percent
	PercentageUsed        uint8  // may exceed 100
	EnduranceGroupWarning uint8
	DataUnitsRead         Uint128 // thousands of 512-byte units
	DataUnitsWritten      Uint128
	HostReads             Uint128
	HostWrites            Uint128
	BusyTimeMinutes       Uint128
	PowerCycles           Uint128
	PowerOnHours          Uint128
	UnsafeShutdowns       Uint128
	MediaErrors           Uint128
	ErrorLogEntries       Uint128
	WarningTempMinutes    uint32
	CriticalTempMinutes   uint32
	SensorsK              [8]uint16 // 0 = not implemented
	ThermalTransitions    [2]uint32 // thermal management temperature 1 and 2 transition counts
	ThermalTimeSeconds    [2]uint32
}

// KelvinToCelsius converts as smartctl does (integer, 273 offset).
func KelvinToCelsius(k uint16) int { return int(k) - 273 }

// TemperatureC is the composite temperature in Celsius.
func (h *NVMeHealth) TemperatureC() int { return KelvinToCelsius(h.TemperatureK) }

// SensorsC lists the implemented sensors in Celsius, sensor i at index i-1;
// unimplemented sensors are absent from the map.
func (h *NVMeHealth) SensorsC() map[int]int {
	m := map[int]int{}
	for i, k := range h.SensorsK {
		if k != 0 {
			m[i+1] = KelvinToCelsius(k)
		}
	}
	return m
}

// CriticalWarnings names the set critical warning bits.
func (h *NVMeHealth) CriticalWarnings() []string {
	names := []string{"available spare below threshold", "temperature threshold exceeded",
		"reliability degraded", "media read-only", "volatile memory backup failed",
		"persistent memory region read-only", "reserved bit 6", "reserved bit 7"}
	var out []string
	for i, n := range names {
		if h.CriticalWarning&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// ParseNVMeHealth decodes the 512-byte SMART / Health Information log page.
// The page has no checksum; a wrong length is ErrMalformed.
func ParseNVMeHealth(b []byte) (*NVMeHealth, error) {
	if len(b) != 512 {
		return nil, malformed("SMART / Health log", "%d bytes, want 512", len(b))
	}
	h := &NVMeHealth{
		CriticalWarning:       b[0],
		TemperatureK:          binary.LittleEndian.Uint16(b[1:]),
		AvailableSpare:        b[3],
		SpareThreshold:        b[4],
		PercentageUsed:        b[5],
		EnduranceGroupWarning: b[6],
		DataUnitsRead:         le128(b[32:]),
		DataUnitsWritten:      le128(b[48:]),
		HostReads:             le128(b[64:]),
		HostWrites:            le128(b[80:]),
		BusyTimeMinutes:       le128(b[96:]),
		PowerCycles:           le128(b[112:]),
		PowerOnHours:          le128(b[128:]),
		UnsafeShutdowns:       le128(b[144:]),
		MediaErrors:           le128(b[160:]),
		ErrorLogEntries:       le128(b[176:]),
		WarningTempMinutes:    binary.LittleEndian.Uint32(b[192:]),
		CriticalTempMinutes:   binary.LittleEndian.Uint32(b[196:]),
	}
	for i := range h.SensorsK {
		h.SensorsK[i] = binary.LittleEndian.Uint16(b[200+2*i:])
	}
	for i := 0; i < 2; i++ {
		h.ThermalTransitions[i] = binary.LittleEndian.Uint32(b[216+4*i:])
		h.ThermalTimeSeconds[i] = binary.LittleEndian.Uint32(b[224+4*i:])
	}
	return h, nil
}

// NVMeErrorEntry is one 64-byte Error Information log entry (log 01h).
type NVMeErrorEntry struct {
	ErrorCount      uint64
	SQID            uint16
	CommandID       uint16
	Status          uint16 // status field without the phase tag
	ParamLocation   uint16
	LBA             uint64
	NSID            uint32
	VendorLogPage   uint8
	TransportType   uint8
	CommandSpecific uint64
	TransportInfo   uint16
}

// ParseNVMeErrorLog decodes a whole number of 64-byte error entries and
// returns the used ones (error count nonzero), in log order (newest first).
func ParseNVMeErrorLog(b []byte) ([]NVMeErrorEntry, error) {
	if len(b) == 0 || len(b)%64 != 0 {
		return nil, malformed("Error Information log", "%d bytes, not a multiple of 64", len(b))
	}
	out := []NVMeErrorEntry{}
	for p := 0; p < len(b); p += 64 {
		d := b[p : p+64]
		e := NVMeErrorEntry{
			ErrorCount:      binary.LittleEndian.Uint64(d[0:]),
			SQID:            binary.LittleEndian.Uint16(d[8:]),
			CommandID:       binary.LittleEndian.Uint16(d[10:]),
			Status:          binary.LittleEndian.Uint16(d[12:]) >> 1,
			ParamLocation:   binary.LittleEndian.Uint16(d[14:]),
			LBA:             binary.LittleEndian.Uint64(d[16:]),
			NSID:            binary.LittleEndian.Uint32(d[24:]),
			VendorLogPage:   d[28],
			TransportType:   d[29],
			CommandSpecific: binary.LittleEndian.Uint64(d[32:]),
			TransportInfo:   binary.LittleEndian.Uint16(d[40:]),
		}
		if e.ErrorCount == 0 {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// NVMeData is what an NVMe controller told us.
type NVMeData struct {
	Identity  *NVMeIdentity
	Namespace *NVMeNamespace // nil when the device node is not a namespace
	Health    *NVMeHealth
	ErrorLog  []NVMeErrorEntry
	// Problems are failures of optional reads (namespace, error log).
	Problems []error
}
