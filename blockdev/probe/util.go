package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
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

// utf16Label converts a UTF-16 label to UTF-8 exactly as libblkid does
// (ul_encode_to_utf8, then trailing white space trimmed), for NTFS, exFAT,
// HFS+, F2FS and GPT partition names alike: it stops at a NUL character, drops a trailing odd
// byte, joins surrogate pairs, and encodes a lone surrogate as the
// three-byte sequence of its code point rather than as U+FFFD.
func utf16Label(b []byte, bigEndian bool) string {
	out := make([]byte, 0, len(b)/2*3)
	unit := func(i int) uint32 {
		if bigEndian {
			return uint32(b[i])<<8 | uint32(b[i+1])
		}
		return uint32(b[i+1])<<8 | uint32(b[i])
	}
	for i := 0; i+2 <= len(b); i += 2 {
		c := unit(i)
		if c >= 0xd800 && c <= 0xdbff && i+4 <= len(b) {
			if c2 := unit(i + 2); c2 >= 0xdc00 && c2 <= 0xdfff {
				c = 0x10000 + (c-0xd800)<<10 + (c2 - 0xdc00)
				i += 2
			}
		}
		if c == 0 {
			break
		}
		switch {
		case c < 0x80:
			out = append(out, byte(c))
		case c < 0x800:
			out = append(out, byte(0xc0|c>>6), byte(0x80|c&0x3f))
		case c < 0x10000:
			out = append(out, byte(0xe0|c>>12), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f))
		default:
			out = append(out, byte(0xf0|c>>18), byte(0x80|(c>>12)&0x3f), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f))
		}
	}
	return strings.TrimRight(string(out), " \t\n\r\v\f")
}

// hasAt reports whether b holds magic at off.
func hasAt(b []byte, off int, magic string) bool {
	return off >= 0 && off+len(magic) <= len(b) && string(b[off:off+len(magic)]) == magic
}
