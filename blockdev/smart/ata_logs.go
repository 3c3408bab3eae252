package smart

import (
	"encoding/binary"
	"fmt"
)

// SelfTestEntry is one descriptor of the SMART self-test log (log 06h).
type SelfTestEntry struct {
	Type          uint8  // the subcommand that started it (1 short, 2 extended, 3 conveyance, 81h.. captive)
	Status        uint8  // execution status, high nibble of byte 1 (0 = completed without error)
	Remaining     uint8  // percent of the test remaining (low nibble * 10)
	LifetimeHours uint16 // power-on hours when it ended
	Checkpoint    uint8
	FailingLBA    uint32
}

// TypeName is smartctl's name for the test type.
func (e SelfTestEntry) TypeName() string { return selfTestTypeName(e.Type) }

// StatusName is smartctl's description of the execution status.
func (e SelfTestEntry) StatusName() string { return selfTestStatusName(e.Status) }

// Failed reports a test that completed with a failure (status 3..8).
func (e SelfTestEntry) Failed() bool { return e.Status >= 3 && e.Status <= 8 }

// SelfTestLog is the decoded SMART self-test log, newest entry first.
type SelfTestLog struct {
	Revision uint16
	Entries  []SelfTestEntry
}

func selfTestTypeName(t uint8) string {
	switch t {
	case 0:
		return "Offline"
	case 1:
		return "Short offline"
	case 2:
		return "Extended offline"
	case 3:
		return "Conveyance offline"
	case 4:
		return "Selective offline"
	case 0x7f:
		return "Abort offline test"
	case 0x81:
		return "Short captive"
	case 0x82:
		return "Extended captive"
	case 0x83:
		return "Conveyance captive"
	case 0x84:
		return "Selective captive"
	}
	if t >= 0x40 && t <= 0x7e || t >= 0x90 {
		return fmt.Sprintf("Vendor (0x%02x)", t)
	}
	return fmt.Sprintf("Reserved (0x%02x)", t)
}

func selfTestStatusName(s uint8) string {
	switch s {
	case 0:
		return "Completed without error"
	case 1:
		return "Aborted by host"
	case 2:
		return "Interrupted (host reset)"
	case 3:
		return "Fatal or unknown error"
	case 4:
		return "Completed: unknown failure"
	case 5:
		return "Completed: electrical failure"
	case 6:
		return "Completed: servo/seek failure"
	case 7:
		return "Completed: read failure"
	case 8:
		return "Completed: handling damage??"
	case 15:
		return "Self-test routine in progress"
	}
	return fmt.Sprintf("Unknown status (0x%x)", s)
}

// SelfTestExecution decodes the self-test execution status byte of SMART
// READ DATA (byte 363): status nibble and percent remaining.
func SelfTestExecution(b uint8) (status uint8, remainingPercent uint8, name string) {
	return b >> 4, (b & 0xf) * 10, selfTestStatusName(b >> 4)
}

// offlineStatus is smartctl's wording for the off-line data collection
// status (byte 362, bits 6:0) and whether it counts as passed (nil: neither).
func offlineStatus(b uint8) (string, *bool) {
	t, f := true, false
	switch b & 0x7f {
	case 0x00:
		return "was never started", nil
	case 0x02:
		return "was completed without error", &t
	case 0x03:
		return "is in progress", nil
	case 0x04:
		return "was suspended by an interrupting command from host", nil
	case 0x05:
		return "was aborted by an interrupting command from host", nil
	case 0x06:
		return "was aborted by the device with a fatal error", &f
	}
	return fmt.Sprintf("is in a vendor specific state (0x%02x)", b&0x7f), nil
}

// OfflineStatusName describes the off-line data collection status byte (362).
func OfflineStatusName(b uint8) string {
	s, _ := offlineStatus(b)
	if b&0x80 != 0 {
		return s + "; auto off-line data collection enabled"
	}
	return s + "; auto off-line data collection disabled"
}

// selfTestExecString is smartctl's JSON wording for the self-test execution
// status nibble of SMART READ DATA (distinct from the log's wording).
func selfTestExecString(st uint8) string {
	switch st {
	case 0:
		return "completed without error"
	case 1:
		return "was aborted by the host"
	case 2:
		return "was interrupted by the host with a hard or soft reset"
	case 3:
		return "could not complete due to a fatal or unknown error"
	case 4:
		return "completed with error (unknown test element)"
	case 5:
		return "completed with error (electrical test element)"
	case 6:
		return "completed with error (servo/seek test element)"
	case 7:
		return "completed with error (read test element)"
	case 8:
		return "completed with error (handling damage?)"
	case 15:
		return "is in progress"
	}
	return fmt.Sprintf("is in a reserved state (0x%x)", st)
}

// ParseSelfTestLog decodes the 512-byte SMART self-test log. Its 21
// descriptors form a ring; byte 508 indexes the newest (1-based, 0 = empty).
func ParseSelfTestLog(b []byte) (*SelfTestLog, error) {
	const page = "SMART self-test log"
	if len(b) != 512 {
		return nil, malformed(page, "%d bytes, want 512", len(b))
	}
	if err := checksum(page, b); err != nil {
		return nil, err
	}
	l := &SelfTestLog{Revision: binary.LittleEndian.Uint16(b)}
	idx := int(b[508])
	if idx == 0 {
		return l, nil
	}
	if idx > 21 {
		return nil, malformed(page, "index %d out of range 1..21", idx)
	}
	for n := 0; n < 21; n++ {
		i := ((idx - 1 - n) + 21) % 21
		d := b[2+24*i : 2+24*i+24]
		if allZero(d) {
			continue
		}
		l.Entries = append(l.Entries, SelfTestEntry{
			Type:          d[0],
			Status:        d[1] >> 4,
			Remaining:     (d[1] & 0xf) * 10,
			LifetimeHours: binary.LittleEndian.Uint16(d[2:]),
			Checkpoint:    d[4],
			FailingLBA:    binary.LittleEndian.Uint32(d[5:]),
		})
	}
	return l, nil
}

// ErrorCommand is one of the commands that led to a logged error.
type ErrorCommand struct {
	DeviceControl, Features, Count, LBALow, LBAMid, LBAHigh, Device, Command uint8
	TimestampMs                                                              uint32 // since power-on
}

// ErrorEntry is one entry of the summary SMART error log.
type ErrorEntry struct {
	// Commands are the commands before the error, oldest first; the last
	// one is the command that failed.
	Commands                                              []ErrorCommand
	Error, Count, LBALow, LBAMid, LBAHigh, Device, Status uint8
	State                                                 uint8
	LifetimeHours                                         uint16
}

// ErrorLog is the decoded summary SMART error log (log 01h), newest entry first.
type ErrorLog struct {
	Version uint8
	// Count is the device's total error count, which may exceed the five
	// entries the summary log keeps.
	Count   uint16
	Entries []ErrorEntry
}

// ParseErrorLog decodes the 512-byte summary SMART error log: five 90-byte
// entries in a ring indexed by byte 1 (1-based, 0 = no entries).
func ParseErrorLog(b []byte) (*ErrorLog, error) {
	const page = "SMART summary error log"
	if len(b) != 512 {
		return nil, malformed(page, "%d bytes, want 512", len(b))
	}
	if err := checksum(page, b); err != nil {
		return nil, err
	}
	l := &ErrorLog{Version: b[0], Count: binary.LittleEndian.Uint16(b[452:])}
	idx := int(b[1])
	if idx == 0 {
		return l, nil
	}
	if idx > 5 {
		return nil, malformed(page, "index %d out of range 1..5", idx)
	}
	for n := 0; n < 5; n++ {
		i := ((idx - 1 - n) + 5) % 5
		d := b[2+90*i : 2+90*i+90]
		if allZero(d) {
			continue
		}
		var e ErrorEntry
		for c := 0; c < 5; c++ {
			cd := d[12*c : 12*c+12]
			if allZero(cd) {
				continue
			}
			e.Commands = append(e.Commands, ErrorCommand{
				DeviceControl: cd[0], Features: cd[1], Count: cd[2], LBALow: cd[3], LBAMid: cd[4],
				LBAHigh: cd[5], Device: cd[6], Command: cd[7], TimestampMs: binary.LittleEndian.Uint32(cd[8:]),
			})
		}
		ed := d[60:90]
		e.Error, e.Count, e.LBALow, e.LBAMid, e.LBAHigh, e.Device, e.Status = ed[1], ed[2], ed[3], ed[4], ed[5], ed[6], ed[7]
		e.State = ed[27]
		e.LifetimeHours = binary.LittleEndian.Uint16(ed[28:])
		l.Entries = append(l.Entries, e)
	}
	return l, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
