package smart

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readBlob(t testing.TB, name string) *Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseAtasmartBlob(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// Every real-drive capture parses, with valid checksums and sane identity.
func TestAllBlobsParse(t *testing.T) {
	names, _ := filepath.Glob("testdata/*.bin")
	if len(names) < 13 {
		t.Fatalf("only %d blobs in testdata", len(names))
	}
	for _, p := range names {
		r := readBlob(t, filepath.Base(p))
		d := r.ATA
		if d.Identity.Model == "" || d.Identity.Serial == "" || d.Identity.Firmware == "" {
			t.Errorf("%s: empty identity strings %+v", p, d.Identity)
		}
		if !d.Identity.ChecksumPresent {
			t.Errorf("%s: IDENTIFY checksum signature missing", p)
		}
		if len(d.Attributes) == 0 || d.Identity.Sectors == 0 {
			t.Errorf("%s: %d attributes, %d sectors", p, len(d.Attributes), d.Identity.Sectors)
		}
		for _, a := range d.Attributes {
			if a.Name == "" || a.RawString == "" {
				t.Errorf("%s: attribute %d unnamed or unformatted", p, a.ID)
			}
		}
	}
}

// Decoded values checked against the raw bytes, worked out by hand:
// raw bytes are little-endian; word0 = raw[1]<<8|raw[0] and so on.
func TestBlobValuesByHand(t *testing.T) {
	type attr struct {
		id     uint8
		value  uint64
		str    string
		failed WhenFailed
		thresh uint8
	}
	for _, c := range []struct {
		file, model, serial, fw string
		bytes                   uint64
		rpm                     uint16
		status                  Status
		temp                    int
		hours                   uint64
		attrs                   []attr
	}{
		{
			// 9: 07 92 -> 0x9207; 194: 22 00 0c 00 30 00 -> t=0x22, words 0x0c, 0x30 in range.
			file: "TOSHIBA_THNSNH128GBST.bin", model: "TOSHIBA THNSNH128GBST", serial: "53HS111PTE4Y", fw: "HTRAN101",
			bytes: 250069680 * 512, rpm: 1, status: StatusPassed, temp: 34, hours: 37383,
			attrs: []attr{{9, 0x9207, "37383", "", 0}, {194, 0x0030000c0022, "34 (Min/Max 12/48)", "", 20}, {5, 0, "0", "", 50}},
		},
		{
			// 3: 33 01 38 01 -> 307 (Average 312); 5: 2b 00 2b 00 -> 43 (0 43);
			// 190: 1e 00 22 1a -> 30 with 0x22/0x1a as max/min in bytes 2,3;
			// 194: 1e 00 13 00 25 00 -> 30 with 0x13/0x25 in bytes 2,4.
			file: "Hitachi_HDS721010CLA632.bin", model: "Hitachi HDS721010CLA632", serial: "JP2940J82ZYLXV", fw: "JP4OA41A",
			bytes: 1953525168 * 512, rpm: 7200, status: StatusPassed, temp: 30, hours: 0x1f77,
			attrs: []attr{
				{3, 0x000601380133, "307 (Average 312)", "", 24}, {5, 0x2b002b, "43 (0 43)", "", 5},
				{190, 0x1a22001e, "30 (Min/Max 26/34)", "", 0}, {194, 0x00250013001e, "30 (Min/Max 19/37)", "", 0},
				{197, 1, "1", "", 0},
			},
		},
		{
			// 5: value 118 <= threshold 140: failing now; the blob's SMST is 0 (bad).
			// 197: f9 ff -> 0xfff9.
			file: "WDC_WD20EARS-00MVWB0.bin", model: "WDC WD20EARS-00MVWB0", serial: "WD-WMAZA0075739", fw: "50.0AB50",
			bytes: 3907029168 * 512, status: StatusFailed, temp: 44, hours: 0x1a1c,
			attrs: []attr{{5, 0x28f, "655", FailedNow, 140}, {197, 0xfff9, "65529", "", 0}, {198, 46, "46", "", 0}},
		},
		{
			// 5: value 77 > 63 but worst 1 <= 63: failed in the past. 28-bit capacity only.
			file: "Maxtor_6Y120P0.bin", model: "Maxtor 6Y120P0", serial: "Y3NJWLDE", fw: "YAR41BW0",
			bytes: 240121728 * 512, status: StatusPassed, temp: 36, hours: 0x70c6,
			attrs: []attr{{5, 0x6f7, "1783", FailedPast, 63}, {194, 0x24, "36", "", 0}},
		},
		{
			// 197: 3c 2e cf 10 -> 0x10cf2e3c.
			file: "SAMSUNG_HS122JC.bin", model: "SAMSUNG HS122JC", serial: "S18GJ16Q308351", fw: "GQ100-01",
			bytes: 234441648 * 512, status: StatusPassed, temp: 31, hours: 0x0dcd,
			attrs: []attr{{197, 0x10cf2e3c, "282013244", "", 0}, {198, 0x01668f8c, "23498636", "", 0}},
		},
		{
			// No 48-bit feature set: words 60-61 = 39070080 sectors.
			file: "IBM_IC25N020ATCS04-0.bin", model: "IC25N020ATCS04-0", serial: "CSH206D9D8M7KF", fw: "CA2OA71A",
			bytes: 39070080 * 512, status: StatusPassed, temp: 35, hours: 0x195f,
			attrs: []attr{{5, 0x40016, "22 (0 4)", "", 5}, {194, 0x39000e0023, "35 (Min/Max 14/57)", "", 0}},
		},
	} {
		t.Run(c.file, func(t *testing.T) {
			d := readBlob(t, c.file).ATA
			id := d.Identity
			if id.Model != c.model || id.Serial != c.serial || id.Firmware != c.fw {
				t.Errorf("identity %q %q %q", id.Model, id.Serial, id.Firmware)
			}
			if id.Capacity() != c.bytes || id.RotationRate != c.rpm {
				t.Errorf("capacity %d rpm %d, want %d %d", id.Capacity(), id.RotationRate, c.bytes, c.rpm)
			}
			if d.Status != c.status {
				t.Errorf("status %v, want %v", d.Status, c.status)
			}
			if tc, ok := d.Temperature(); !ok || tc != c.temp {
				t.Errorf("temperature %d %v, want %d", tc, ok, c.temp)
			}
			if h, ok := d.PowerOnHours(); !ok || h != c.hours {
				t.Errorf("power-on hours %d, want %d", h, c.hours)
			}
			for _, w := range c.attrs {
				a, ok := d.Attribute(w.id)
				if !ok {
					t.Errorf("attribute %d missing", w.id)
					continue
				}
				if a.RawValue != w.value || a.RawString != w.str || a.WhenFailed != w.failed || a.Threshold != w.thresh {
					t.Errorf("attribute %d: raw %#x %q failed %q thresh %d; want %#x %q %q %d",
						w.id, a.RawValue, a.RawString, a.WhenFailed, a.Threshold, w.value, w.str, w.failed, w.thresh)
				}
			}
		})
	}
}

func TestSmartValuesStatusBytes(t *testing.T) {
	v := readBlob(t, "Hitachi_HDS721010CLA632.bin").ATA.Values
	st, rem, name := SelfTestExecution(v.SelfTestStatus)
	if st > 15 || rem > 150 || name == "" {
		t.Fatalf("self-test status %d %d %q", st, rem, name)
	}
	if OfflineStatusName(v.OfflineStatus) == "" {
		t.Fatal("no offline status text")
	}
	if v.ShortTestMinutes == 0 || v.ExtendedTestMinutes == 0 {
		t.Errorf("polling times %d %d", v.ShortTestMinutes, v.ExtendedTestMinutes)
	}
}

func TestChecksumErrors(t *testing.T) {
	b, err := os.ReadFile("testdata/TOSHIBA_THNSNH128GBST.bin")
	if err != nil {
		t.Fatal(err)
	}
	// Sections: IDFY at 8, SMST at 528, SMDT at 540, SMTH at 1060.
	for _, c := range []struct {
		off  int
		page string
	}{{8 + 100, "IDENTIFY DEVICE"}, {540 + 100, "SMART READ DATA"}, {1060 + 100, "SMART READ THRESHOLDS"}} {
		bad := append([]byte(nil), b...)
		bad[c.off]++
		_, err := ParseAtasmartBlob(bad)
		var ce *ChecksumError
		if !errors.Is(err, ErrChecksum) || !errors.As(err, &ce) || ce.Page != c.page || ce.Sum != 1 {
			t.Errorf("corrupt %s: %v", c.page, err)
		}
	}
}

func TestBlobMalformed(t *testing.T) {
	b, _ := os.ReadFile("testdata/TOSHIBA_THNSNH128GBST.bin")
	for name, bad := range map[string][]byte{
		"truncated header": b[:4],
		"overrun":          b[:100],
		"no IDFY":          b[528:],
		"repeated section": append(append([]byte(nil), b...), b[:520]...),
		"short SMST":       append(append([]byte(nil), b[:528]...), 'S', 'M', 'S', 'T', 0, 0, 0, 1, 1),
		"short IDFY":       {'I', 'D', 'F', 'Y', 0, 0, 0, 2, 1, 2},
	} {
		if _, err := ParseAtasmartBlob(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseReplay([]byte("hello")); !errors.Is(err, ErrMalformed) {
		t.Errorf("replay of junk: %v", err)
	}
}

func TestFlagsString(t *testing.T) {
	for f, want := range map[AttrFlags]string{0x0a: "-O-R-- ", 0x05: "P-S--- ", 0x33: "PO--CK ", 0x3f: "POSRCK ", 0x100: "------+"} {
		if got := f.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint16(f), got, want)
		}
	}
}

func TestAttributeNames(t *testing.T) {
	for _, c := range []struct {
		id   uint8
		rpm  uint16
		want string
	}{
		{9, 0, "Power_On_Hours"}, {7, 1, "Unknown_SSD_Attribute"}, {7, 7200, "Seek_Error_Rate"},
		{177, 7200, "Unknown_HDD_Attribute"}, {177, 1, "Wear_Leveling_Count"}, {177, 0, "Wear_Leveling_Count"},
		{100, 1, "Unknown_Attribute"},
	} {
		if got := AttributeName(c.id, c.rpm); got != c.want {
			t.Errorf("AttributeName(%d, %d) = %q, want %q", c.id, c.rpm, got, c.want)
		}
	}
}

func TestFormatTempLayouts(t *testing.T) {
	for _, c := range []struct {
		raw  [6]byte
		want string
	}{
		{[6]byte{0x1e}, "30"},
		{[6]byte{0x20, 0, 0x10, 0x30, 0, 0}, "32 (Min/Max 16/48)"},           // 00 00 HL LH xx TT
		{[6]byte{0x20, 0x30, 0x10, 0, 0, 0}, "32 (Min/Max 16/48)"},           // 00 00 00 HL LH TT
		{[6]byte{0x20, 0, 0x10, 0, 0x30, 0}, "32 (Min/Max 16/48)"},           // xx HL xx LH xx TT
		{[6]byte{0x20, 0, 0x10, 0x30, 0x05, 0}, "32 (Min/Max 16/48 #5)"},     // CC CC HL LH xx TT
		{[6]byte{0x20, 0, 0x90, 0x91, 0x92, 0x93}, "32 (147 146 145 144 0)"}, // nothing plausible
		{[6]byte{0xfb, 0xff}, "-5"},
	} {
		if got := FormatRaw(194, c.raw); got != c.want {
			t.Errorf("% x: %q, want %q", c.raw, got, c.want)
		}
	}
	if got := FormatRaw(9, [6]byte{1, 0, 0, 2, 0, 3}); got != "1 (3 0 2)" {
		t.Errorf("raw24(raw8): %q", got)
	}
	if got := FormatRaw(3, [6]byte{1, 0, 0, 0, 5, 0}); got != "1" {
		t.Errorf("raw16(avg16) with only word 2 set: %q", got)
	}
	if !strings.HasPrefix(FormatRaw(1, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), "281474976710655") {
		t.Error("raw48 max")
	}
}
