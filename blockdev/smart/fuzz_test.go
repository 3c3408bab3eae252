package smart

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// page512 turns fuzz input into a 512-byte page; when fix is set the last
// byte is made the checksum so the fuzzer reaches past checksum rejection.
func page512(b []byte, fix bool) []byte {
	p := make([]byte, 512)
	copy(p, b)
	if fix {
		var s byte
		for _, c := range p[:511] {
			s += c
		}
		p[511] = -s
	}
	return p
}

func seedPages(f *testing.F, tag string) {
	names, _ := filepath.Glob("testdata/*.bin")
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		r, err := ParseAtasmartBlob(b)
		if err != nil || r == nil {
			f.Fatal(err)
		}
		for p := 0; p+8 <= len(b); {
			n := int(b[p+4])<<24 | int(b[p+5])<<16 | int(b[p+6])<<8 | int(b[p+7])
			if string(b[p:p+4]) == tag {
				f.Add(b[p+8:p+8+n], false)
			}
			p += 8 + n
		}
	}
}

func FuzzParseIdentify(f *testing.F) {
	seedPages(f, "IDFY")
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if id, err := ParseIdentify(page512(b, fix)); err == nil {
			if id.LogicalSectorSize < 512 || id.PhysicalSectorSize < id.LogicalSectorSize {
				t.Fatalf("sector sizes %d/%d", id.LogicalSectorSize, id.PhysicalSectorSize)
			}
			_ = id.Capacity()
			_ = id.ATAVersion()
		}
		_, _ = ParseIdentify(b)
	})
}

func FuzzParseSmartValues(f *testing.F) {
	seedPages(f, "SMDT")
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		v, err := ParseSmartValues(page512(b, fix))
		if fix && err != nil {
			t.Fatalf("checksummed page rejected: %v", err)
		}
		if err == nil {
			for _, a := range Attributes(v, nil, 1) {
				if a.RawString == "" || a.Name == "" {
					t.Fatalf("attribute %d has empty text", a.ID)
				}
			}
		}
	})
}

func FuzzParseThresholds(f *testing.F) {
	seedPages(f, "SMTH")
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if _, err := ParseThresholds(page512(b, fix)); fix && err != nil {
			t.Fatalf("checksummed page rejected: %v", err)
		}
	})
}

func FuzzParseSelfTestLog(f *testing.F) {
	p := make([]byte, 512)
	p[0], p[2], p[3], p[508] = 1, 1, 0x00, 1
	f.Add(p, true)
	f.Add([]byte{1, 0, 0x82, 0x79, 0x10, 0x00}, true)
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if l, err := ParseSelfTestLog(page512(b, fix)); err == nil && len(l.Entries) > 21 {
			t.Fatalf("%d entries", len(l.Entries))
		}
	})
}

func FuzzParseErrorLog(f *testing.F) {
	p := make([]byte, 512)
	p[0], p[1], p[2+60+1], p[452] = 1, 1, 0x40, 1
	f.Add(p, true)
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if l, err := ParseErrorLog(page512(b, fix)); err == nil && len(l.Entries) > 5 {
			t.Fatalf("%d entries", len(l.Entries))
		}
	})
}

func FuzzParseAtasmartBlob(f *testing.F) {
	names, _ := filepath.Glob("testdata/*.bin")
	for _, n := range names {
		b, _ := os.ReadFile(n)
		f.Add(b)
	}
	f.Add([]byte("IDFY\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReplay(b)
		if err == nil && r.ATA == nil && r.NVMe == nil {
			t.Fatal("report with no data")
		}
		if err == nil {
			if _, err := MarshalSmartctlJSON(r); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			// The text rendering and the verdict see the same hostile
			// values; neither may panic.
			if err := WriteText(io.Discard, r); err != nil {
				t.Fatalf("text: %v", err)
			}
			_ = Health(r, r)
		}
	})
}
