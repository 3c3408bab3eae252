package sgio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sense keys (SPC-4 table 27) this module acts on.
const (
	KeyNoSense        = 0x0
	KeyRecoveredError = 0x1
	KeyNotReady       = 0x2
	KeyMediumError    = 0x3
	KeyHardwareError  = 0x4
	KeyIllegalRequest = 0x5
	KeyUnitAttention  = 0x6
	KeyAbortedCommand = 0xb
)

var keyNames = [16]string{
	"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR", "HARDWARE ERROR",
	"ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC",
	"COPY ABORTED", "ABORTED COMMAND", "RESERVED (0xc)", "VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED",
}

// KeyName is the SPC name of a sense key.
func KeyName(key uint8) string { return keyNames[key&0xf] }

// Sense decoding errors.
var (
	ErrShortSense   = errors.New("sgio: sense data too short")
	ErrUnknownSense = errors.New("sgio: unknown sense response code")
)

// ATAStatus is the ATA register set a SAT layer returns for ATA PASS-THROUGH
// with CK_COND set or on error (SAT-3 ATA Status Return descriptor, or the
// fixed-format equivalent).
type ATAStatus struct {
	Extend bool
	Error  uint8
	Status uint8
	Device uint8
	Count  uint16
	LBA    uint64 // 48 bits; fixed-format sense carries only bits 23:0
	// Truncated is set when fixed-format sense said the upper count or LBA
	// bytes were nonzero but had no room to carry them.
	Truncated bool
}

// LBAMid is LBA bits 15:8, the old "cylinder low" register.
func (a ATAStatus) LBAMid() uint8 { return uint8(a.LBA >> 8) }

// LBAHigh is LBA bits 23:16, the old "cylinder high" register.
func (a ATAStatus) LBAHigh() uint8 { return uint8(a.LBA >> 16) }

// Sense is decoded SCSI sense data in either format.
type Sense struct {
	ResponseCode uint8 // 0x70..0x73
	Descriptor   bool  // descriptor format (0x72/0x73) rather than fixed
	Deferred     bool  // 0x71/0x73
	Key          uint8
	ASC, ASCQ    uint8
	Info         uint64
	InfoValid    bool
	ATA          *ATAStatus // nil when the sense carries no ATA registers
}

// ATAPassThroughInfo reports ASC/ASCQ 00/1D, "ATA pass through information available".
func (s Sense) ATAPassThroughInfo() bool { return s.ASC == 0x00 && s.ASCQ == 0x1d }

func (s Sense) String() string {
	return fmt.Sprintf("%s (key 0x%x), ASC/ASCQ 0x%02x/0x%02x", KeyName(s.Key), s.Key, s.ASC, s.ASCQ)
}

// ParseSense decodes fixed or descriptor sense data. It never panics on
// short or inconsistent input: fields past the end read as absent.
func ParseSense(b []byte) (Sense, error) {
	if len(b) < 1 {
		return Sense{}, ErrShortSense
	}
	var s Sense
	s.ResponseCode = b[0] & 0x7f
	switch s.ResponseCode {
	case 0x70, 0x71:
		s.Deferred = s.ResponseCode == 0x71
		if len(b) < 3 {
			return s, fmt.Errorf("%w: %d bytes of fixed sense", ErrShortSense, len(b))
		}
		s.Key = b[2] & 0xf
		end := len(b)
		if len(b) >= 8 {
			if n := 8 + int(b[7]); n < end {
				end = n
			}
		}
		b = b[:end]
		if len(b) >= 7 {
			s.Info = uint64(binary.BigEndian.Uint32(b[3:7]))
			s.InfoValid = b[0]&0x80 != 0
		}
		if len(b) >= 14 {
			s.ASC, s.ASCQ = b[12], b[13]
		}
		if s.ATAPassThroughInfo() && len(b) >= 12 {
			// SAT-3 fixed format: INFORMATION holds error, status, device,
			// count(7:0); COMMAND-SPECIFIC INFORMATION holds the flags and
			// LBA(7:0), LBA(15:8), LBA(23:16).
			s.ATA = &ATAStatus{
				Error:     b[3],
				Status:    b[4],
				Device:    b[5],
				Count:     uint16(b[6]),
				Extend:    b[8]&0x80 != 0,
				Truncated: b[8]&0x60 != 0,
				LBA:       uint64(b[9]) | uint64(b[10])<<8 | uint64(b[11])<<16,
			}
		}
	case 0x72, 0x73:
		s.Descriptor = true
		s.Deferred = s.ResponseCode == 0x73
		if len(b) < 4 {
			return s, fmt.Errorf("%w: %d bytes of descriptor sense", ErrShortSense, len(b))
		}
		s.Key = b[1] & 0xf
		s.ASC, s.ASCQ = b[2], b[3]
		if len(b) < 8 {
			return s, nil
		}
		end := 8 + int(b[7])
		if end > len(b) {
			end = len(b)
		}
		for p := 8; p+2 <= end; {
			typ, n := b[p], int(b[p+1])
			d := b[p:min(p+2+n, end)]
			switch typ {
			case 0x00: // information
				if len(d) >= 12 {
					s.Info = binary.BigEndian.Uint64(d[4:12])
					s.InfoValid = d[2]&0x80 != 0
				}
			case 0x09: // ATA Status Return
				if len(d) >= 14 {
					s.ATA = &ATAStatus{
						Extend: d[2]&1 != 0,
						Error:  d[3],
						Count:  uint16(d[4])<<8 | uint16(d[5]),
						LBA: uint64(d[7]) | uint64(d[9])<<8 | uint64(d[11])<<16 |
							uint64(d[6])<<24 | uint64(d[8])<<32 | uint64(d[10])<<40,
						Device: d[12],
						Status: d[13],
					}
				}
			}
			p += 2 + n
		}
	default:
		return s, fmt.Errorf("%w: 0x%02x", ErrUnknownSense, s.ResponseCode)
	}
	return s, nil
}

// SenseError is a command that ended in CHECK CONDITION, with its decoded sense.
type SenseError struct {
	Status uint8
	Sense  Sense
}

func (e *SenseError) Error() string {
	return fmt.Sprintf("sgio: check condition: %s", e.Sense)
}

// Is makes errors.Is(err, ErrCheckCondition) true.
func (e *SenseError) Is(target error) bool { return target == ErrCheckCondition }

// InvalidCommand reports sense that means the target does not implement the
// command or a field of it (ILLEGAL REQUEST with invalid opcode 20/00 or
// invalid field in CDB 24/00): the device does not speak this protocol.
func (s Sense) InvalidCommand() bool {
	return s.Key == KeyIllegalRequest && (s.ASC == 0x20 || s.ASC == 0x24)
}
