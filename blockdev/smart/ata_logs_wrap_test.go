package smart

import (
	"encoding/binary"
	"testing"
)

// Both logs are rings with a 1-based index of the newest entry. With every
// slot used and the index near the start, the walk must wrap past slot 0 to
// the end of the ring (smartctl: (k + index) % n for k from n-1 down).
func TestLogRingsWrap(t *testing.T) {
	p := make([]byte, 512)
	for i := 0; i < 21; i++ {
		d := p[2+24*i:]
		d[0] = 1
		binary.LittleEndian.PutUint16(d[2:], uint16(100+i)) // hours name the slot
	}
	p[508] = 2 // newest in slot 1
	l, err := ParseSelfTestLog(fixSum(p))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{101, 100, 120, 119, 118}
	if len(l.Entries) != 21 {
		t.Fatalf("%d entries", len(l.Entries))
	}
	for i, h := range want {
		if l.Entries[i].LifetimeHours != h {
			t.Errorf("self-test entry %d from slot hours %d, want %d", i, l.Entries[i].LifetimeHours, h)
		}
	}
	if l.Entries[20].LifetimeHours != 102 {
		t.Errorf("oldest entry hours %d, want 102", l.Entries[20].LifetimeHours)
	}

	e := make([]byte, 512)
	e[0] = 1
	for i := 0; i < 5; i++ {
		d := e[2+90*i:]
		d[60+1] = 0x40
		binary.LittleEndian.PutUint16(d[60+28:], uint16(200+i))
	}
	e[1] = 2
	el, err := ParseErrorLog(fixSum(e))
	if err != nil {
		t.Fatal(err)
	}
	wantE := []uint16{201, 200, 204, 203, 202}
	if len(el.Entries) != 5 {
		t.Fatalf("%d error entries", len(el.Entries))
	}
	for i, h := range wantE {
		if el.Entries[i].LifetimeHours != h {
			t.Errorf("error entry %d hours %d, want %d", i, el.Entries[i].LifetimeHours, h)
		}
	}
}
