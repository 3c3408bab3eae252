package partition

import (
	"fmt"
	"strconv"
	"strings"
)

// PartType names a partition type for both labels: the GPT type GUID and the
// MBR system byte that mean the same thing.
type PartType struct {
	Name  string // the sfdisk/sgdisk name, e.g. "Linux filesystem"
	Alias string // the short name accepted by ParseType, e.g. "linux"
	Code  uint16 // sgdisk's hex code, e.g. 0x8300
	GUID  GUID   // GPT type
	MBR   byte   // dos system byte, 0 when the type has no dos equivalent
}

// Well-known GPT partition type GUIDs.
var (
	TypeLinuxFilesystem = mustGUID("0FC63DAF-8483-4772-8E79-3D69D8477DE4")
	TypeEFISystem       = mustGUID("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
	TypeLinuxSwap       = mustGUID("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F")
	TypeLinuxLVM        = mustGUID("E6D6D379-F507-44C2-A23C-238F2A3DF928")
	TypeLinuxRAID       = mustGUID("A19D880F-05FC-4D3B-A006-743F0F84911E")
	TypeBIOSBoot        = mustGUID("21686148-6449-6E6F-744E-656564454649")
	TypeLinuxHome       = mustGUID("933AC7E1-2EB4-4F13-B844-0E14E2AEF915")
	TypeLinuxServerData = mustGUID("3B8F8425-20E0-4F3B-907F-1A25A76F98E8")
	TypeLinuxRootX86_64 = mustGUID("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")
	TypeLinuxXBOOTLDR   = mustGUID("BC13C2FF-59E6-4262-A352-B275FD6F7172")
	TypeLinuxReserved   = mustGUID("8DA63339-0007-60C0-C436-083AC8230908")
	TypeMicrosoftBasic  = mustGUID("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")
	TypeMicrosoftReserv = mustGUID("E3C9E316-0B5C-4DB8-817D-F92DF00215AE")
)

// MBR system bytes this package treats specially.
const (
	MBRTypeEmpty       = 0x00
	MBRTypeExtended    = 0x05
	MBRTypeExtendedLBA = 0x0f
	MBRTypeLinuxExt    = 0x85
	MBRTypeProtective  = 0xee
)

// KnownTypes is the type table, in the order tools usually list them.
var KnownTypes = []PartType{
	{"Linux filesystem", "linux", 0x8300, TypeLinuxFilesystem, 0x83},
	{"EFI System", "efi", 0xef00, TypeEFISystem, 0xef},
	{"Linux swap", "swap", 0x8200, TypeLinuxSwap, 0x82},
	{"Linux LVM", "lvm", 0x8e00, TypeLinuxLVM, 0x8e},
	{"Linux RAID", "raid", 0xfd00, TypeLinuxRAID, 0xfd},
	{"BIOS boot", "bios", 0xef02, TypeBIOSBoot, 0},
	{"Linux home", "home", 0x8302, TypeLinuxHome, 0},
	{"Linux server data", "srv", 0x8306, TypeLinuxServerData, 0},
	{"Linux x86-64 root (/)", "root-x86-64", 0x8304, TypeLinuxRootX86_64, 0},
	{"Linux extended boot", "xbootldr", 0xea00, TypeLinuxXBOOTLDR, 0},
	{"Linux reserved", "linux-reserved", 0x8301, TypeLinuxReserved, 0},
	{"Microsoft basic data", "msdata", 0x0700, TypeMicrosoftBasic, 0x07},
	{"Microsoft reserved", "msreserved", 0x0c01, TypeMicrosoftReserv, 0},
}

// TypeName returns the name of a GPT type GUID, or "" when it is not known.
func TypeName(g GUID) string {
	for _, t := range KnownTypes {
		if t.GUID == g {
			return t.Name
		}
	}
	return ""
}

// ParseType resolves a type for label: a GUID, an alias ("linux", "efi",
// "swap", "lvm", "raid", "bios", "home", ...), a full name, an sgdisk hex code
// ("8300", "ef00") or, for dos, a system byte ("83", "0x83").
func ParseType(label Label, s string) (GUID, byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return GUID{}, 0, fmt.Errorf("%w: empty partition type", ErrInvalidArgument)
	}
	for _, t := range KnownTypes {
		if strings.EqualFold(s, t.Alias) || strings.EqualFold(s, t.Name) {
			if label == LabelDOS && t.MBR == 0 {
				return GUID{}, 0, fmt.Errorf("%w: type %q has no dos equivalent", ErrInvalidArgument, s)
			}
			return t.GUID, t.MBR, nil
		}
	}
	if label == LabelGPT {
		if g, err := ParseGUID(s); err == nil {
			return g, 0, nil
		}
		if len(s) == 4 {
			if v, err := strconv.ParseUint(s, 16, 16); err == nil {
				for _, t := range KnownTypes {
					if t.Code == uint16(v) {
						return t.GUID, t.MBR, nil
					}
				}
			}
		}
		return GUID{}, 0, fmt.Errorf("%w: unknown GPT type %q", ErrInvalidArgument, s)
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 8)
	if err != nil || v == 0 {
		return GUID{}, 0, fmt.Errorf("%w: unknown dos type %q", ErrInvalidArgument, s)
	}
	return GUID{}, byte(v), nil
}

func isExtended(b byte) bool {
	return b == MBRTypeExtended || b == MBRTypeExtendedLBA || b == MBRTypeLinuxExt
}
