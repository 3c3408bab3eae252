package smart

import (
	"encoding/binary"
	"errors"
	"testing"
)

// Words 82-84 are only meaningful when word 83 bits 15:14 are 01b. When they
// are not, SMART support is unknown (smartctl: "Ambiguous") and smartctl
// goes on to ask the drive; reporting ErrNotSupported would turn "unknown"
// into "no" for old drives that do have SMART.
func TestSMARTSupportAmbiguous(t *testing.T) {
	page := func(w82, w83, w85, w87 uint16) *Identity {
		p := make([]byte, 512)
		binary.LittleEndian.PutUint16(p[2*82:], w82)
		binary.LittleEndian.PutUint16(p[2*83:], w83)
		binary.LittleEndian.PutUint16(p[2*85:], w85)
		binary.LittleEndian.PutUint16(p[2*87:], w87)
		id, err := ParseIdentify(p)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, c := range []struct {
		name               string
		w82, w83, w85, w87 uint16
		want               error
	}{
		{"supported and enabled", 1, 0x4000, 1, 0x4000, nil},
		{"not supported", 0, 0x4000, 0, 0x4000, ErrNotSupported},
		{"supported, disabled", 1, 0x4000, 0, 0x4000, ErrDisabled},
		{"words 82-84 invalid", 0, 0, 0, 0, nil},
		{"words 82-84 invalid, 85-87 say disabled", 0, 0, 0, 0x4000, ErrDisabled},
	} {
		id := page(c.w82, c.w83, c.w85, c.w87)
		err := checkSMARTUsable("sdx", id)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
