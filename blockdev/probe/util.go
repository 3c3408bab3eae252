package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

// uuidString formats 16 bytes as blkid does: lower case 8-4-4-4-12, and
// nothing at all for the all-zero UUID (blkid treats it as unset).
func uuidString(b []byte) string {
	if len(b) != 16 || isZero(b) {
		return ""
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// guidString formats a GPT GUID, whose first three fields are little endian.
func guidString(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", le.Uint32(b[0:4]), le.Uint16(b[4:6]), le.Uint16(b[6:8]), b[8:10], b[10:16])
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// label mirrors blkid_probe_set_label: the field up to its first NUL, with
// trailing white space removed.
func label(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimRight(string(b), " \t\n\r\v\f")
}

// utf16Label decodes a UTF-16 label (big or little endian) up to its NUL,
// trimming trailing white space as blkid does.
func utf16Label(b []byte, bigEndian bool) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		var c uint16
		if bigEndian {
			c = be.Uint16(b[i:])
		} else {
			c = le.Uint16(b[i:])
		}
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	s := string(utf16.Decode(u))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.TrimRight(s, " \t\n\r\v\f")
}

// hasAt reports whether b holds magic at off.
func hasAt(b []byte, off int, magic string) bool {
	return off >= 0 && off+len(magic) <= len(b) && string(b[off:off+len(magic)]) == magic
}
