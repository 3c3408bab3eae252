package partition

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// GUID is a GPT GUID in its on-disk byte order: the first three fields are
// little-endian, the last two big-endian (UEFI spec, appendix A). Keeping the
// disk order means a GUID read and written back is byte-identical; String and
// ParseGUID convert to and from the text form tools print.
type GUID [16]byte

// String formats g as tools print it (upper case, like sgdisk and sfdisk).
func (g GUID) String() string {
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:4], binary.LittleEndian.Uint32(g[0:4]))
	binary.BigEndian.PutUint16(b[4:6], binary.LittleEndian.Uint16(g[4:6]))
	binary.BigEndian.PutUint16(b[6:8], binary.LittleEndian.Uint16(g[6:8]))
	copy(b[8:], g[8:])
	return strings.ToUpper(uuid.UUID(b).String())
}

// IsZero reports whether g is all zeroes (an unused GPT entry's type).
func (g GUID) IsZero() bool { return g == GUID{} }

// ParseGUID parses the text form (any case, with or without braces).
func ParseGUID(s string) (GUID, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return GUID{}, fmt.Errorf("%w: GUID %q", ErrInvalidArgument, s)
	}
	raw, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(raw) != 16 {
		return GUID{}, fmt.Errorf("%w: GUID %q", ErrInvalidArgument, s)
	}
	return guidFromText([16]byte(raw)), nil
}

func guidFromText(b [16]byte) GUID {
	var g GUID
	binary.LittleEndian.PutUint32(g[0:4], binary.BigEndian.Uint32(b[0:4]))
	binary.LittleEndian.PutUint16(g[4:6], binary.BigEndian.Uint16(b[4:6]))
	binary.LittleEndian.PutUint16(g[6:8], binary.BigEndian.Uint16(b[6:8]))
	copy(g[8:], b[8:])
	return g
}

// NewGUID returns a random (version 4) GUID for a disk or partition.
func NewGUID() GUID {
	return guidFromText([16]byte(uuid.New()))
}

func mustGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err) // only for the literal table below, checked by a test
	}
	return g
}
