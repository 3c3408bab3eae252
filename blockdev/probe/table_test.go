package probe

import (
	"bytes"
	"context"
	"hash/crc32"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ptTable reads img's table with the given logical sector size.
func ptTable(t *testing.T, img []byte, ssz int) *Table {
	t.Helper()
	tab, err := ReadTable(context.Background(), bytes.NewReader(img), int64(len(img)), ssz)
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	return tab
}

// ptFuzz fuzzes the table dispatcher on whole-device prefixes (the rest of
// a 64 MiB device reads as zeros), with 512- and 4096-byte sectors: no
// panic, no error on in-memory data, and entries that make sense.
func ptFuzz(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, sszLog uint8) {
		ssz := int64(512)
		if sszLog&1 != 0 {
			ssz = 4096
		}
		for _, size := range []int64{64 << 20, int64(len(data))} {
			s := fuzzSource(t, data, 0, size)
			tab, err := probeTable(s, ssz)
			if err != nil {
				t.Fatalf("in-memory table: %v", err)
			}
			if tab == nil {
				continue
			}
			for _, e := range tab.Entries {
				if e.Number < 1 || e.Type == "" || (tab.Type == "" && e.Scheme == "") {
					t.Fatalf("bad entry %+v in %+v", e, tab)
				}
			}
		}
	})
}

// ptDOSWith is a dos disk whose partition 1 (type typ, at sector start,
// size sectors long) holds inner at its first byte.
func ptDOSWith(size int, typ byte, start, sectors uint64, inner []byte) []byte {
	img := synthMBR(size, 0x1234abcd, []synthPart{{start, sectors, typ, false}}, nil)
	copy(img[start*512:], inner)
	return img
}

func TestTableOrder(t *testing.T) {
	const mib = 1 << 20
	dos := synthMBR(8*mib, 0x0a0b0c0d, []synthPart{{2048, 2048, 0x83, false}}, nil)
	cases := []struct {
		name string
		img  []byte
		typ  string
	}{
		{"dos", dos, "dos"},
		// AIX, sgi and sun come before dos even where sector 0 is also a
		// valid MBR.
		{"aix over dos", append([]byte(aixMagic), dos[4:]...), "aix"},
		{"sgi over dos", func() []byte {
			b := synthSGI(8*mib, []sgiTestPart{{63, 100, 0x83}})
			copy(b[446:], dos[446:512])
			sgiFixSum(b)
			return b
		}(), "sgi"},
		{"sun over dos", func() []byte {
			b := synthSunLabel(8*mib, 1, 1, true, []sunTestPart{{1, 100, 0x83, 0}})
			copy(b[446:508], dos[446:508])
			// The sun checksum word is the dos signature: a word of the
			// label text balances the XOR.
			b[510], b[511] = 0x55, 0xaa
			be.PutUint16(b[126:], 0)
			var x uint16
			for i := 0; i < 512; i += 2 {
				x ^= be.Uint16(b[i:])
			}
			be.PutUint16(b[126:], x)
			return b
		}(), "sun"},
		// dos is before atari, which has no magic: a root sector that is
		// also a valid MBR is dos.
		{"dos over atari", func() []byte {
			b := synthAtari(8*mib, [4]atariTestPart{{1, "GEM", 2, 100}}, nil)
			b[510], b[511] = 0x55, 0xaa
			return b
		}(), "dos"},
	}
	for _, tc := range cases {
		if got := ptTable(t, tc.img, 512); got == nil || got.Type != tc.typ {
			t.Errorf("%s: %+v, want %s", tc.name, got, tc.typ)
		}
		if r := probeBytes(t, tc.img); r.PTType != tc.typ {
			t.Errorf("%s: probe PTType %q, want %s", tc.name, r.PTType, tc.typ)
		}
	}
	// An AIX disk lists no partitions.
	if got := ptTable(t, cases[1].img, 512); len(got.Entries) != 0 || got.ID != "" {
		t.Errorf("aix: %+v", got)
	}
}

func TestTablePMBR(t *testing.T) {
	img := synthGPT(8<<20, gptDisk, nil)
	img[512+40]++
	img[len(img)-512+40]++
	want := &Table{Type: "PMBR"}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// A null disk GUID gives no PTUUID.
	null := synthGPT(8<<20, make([]byte, 16), nil)
	if got := ptTable(t, null, 512); got.Type != "gpt" || got.ID != "" {
		t.Errorf("null GUID: %+v", got)
	}
	// The protective MBR's magic needs the whole first KiB, as in blkid.
	if got := ptTable(t, img[:1000], 512); got != nil {
		t.Errorf("1000 bytes: %+v", got)
	}
}

func TestTableDOSStepsAside(t *testing.T) {
	fat := synthFAT16(8<<20, "BOOT", "")
	if got := ptTable(t, fat, 512); got != nil {
		t.Errorf("FAT boot sector read as a table: %+v", got)
	}
	// The dos magic, like blkid's, needs the whole first KiB.
	dos := synthMBR(8<<20, 1, []synthPart{{1, 1, 0x83, false}}, nil)
	if got := ptTable(t, dos[:1023], 512); got != nil {
		t.Errorf("1023 bytes: %+v", got)
	}
	if got := ptTable(t, dos[:1024], 512); got == nil || got.Type != "dos" {
		t.Errorf("1024 bytes: %+v", got)
	}
}

// TestTableNestedNumbering: nested tables are numbered after the logical
// partitions and carry their own scheme.
func TestTableNestedNumbering(t *testing.T) {
	const mib = 1 << 20
	img := synthMBR(64*mib, 0xabcdef01,
		[]synthPart{{2048, 8192, 0xa9, false}, {16384, 20000, 0x05, false}},
		[]synthPart{{18432, 1000, 0x83, false}, {20480, 1000, 0x83, false}})
	copy(img[2048*512:], synthBSDLabel(512, []bsdTestPart{{2048, 8192, 7}, {2048, 4096, 7}, {6144, 4096, 1}}))
	want := &Table{Type: "dos", ID: "abcdef01", Entries: []Entry{
		{Number: 1, Start: 2048, Size: 8192, Type: "0xa9", UUID: "abcdef01-01"},
		{Number: 2, Start: 16384, Size: 20000, Type: "0x5", UUID: "abcdef01-02"},
		{Number: 5, Start: 18432, Size: 1000, Type: "0x83", UUID: "abcdef01-05"},
		{Number: 6, Start: 20480, Size: 1000, Type: "0x83", UUID: "abcdef01-06"},
		// The first BSD partition is the slice itself: skipped.
		{Number: 7, Start: 2048, Size: 4096, Type: "0x7", Scheme: "netbsd"},
		{Number: 8, Start: 6144, Size: 4096, Type: "0x1", Scheme: "netbsd"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// On a device of floppy size, nested tables are not looked for.
	small := ptDOSWith(1440*1024, 0xa5, 64, 1000, synthBSDLabel(512, []bsdTestPart{{100, 10, 7}}))
	if got := ptTable(t, small, 512); len(got.Entries) != 1 {
		t.Errorf("tiny: %+v", got.Entries)
	}
}

// TestTableNestedOverflow: a partition that may hold a nested table but
// runs past the device makes blkid's partition list fail whole, while
// blkid -p still names the dos table.
func TestTableNestedOverflow(t *testing.T) {
	img := synthMBR(4<<20, 0x11, []synthPart{{2048, 100, 0x83, false}, {4096, 10000, 0x82, false}}, nil)
	want := &Table{Type: "dos", ID: "00000011"}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	// The same overflow on a type with no nested table lists as usual.
	img[446+16+4] = 0x83
	if got := ptTable(t, img, 512); len(got.Entries) != 2 {
		t.Errorf("0x83 past the end: %+v", got)
	}
}

// TestTableBareBSD: blkid -p never names a BSD label, but lists it.
func TestTableBareBSD(t *testing.T) {
	img := make([]byte, 8<<20)
	copy(img, synthBSDLabel(512, []bsdTestPart{{0, 16384, 0}, {16, 8000, 7}, {8016, 8000, 1}}))
	want := &Table{Entries: []Entry{
		{Number: 1, Start: 16, Size: 8000, Type: "0x7", Scheme: "bsd"},
		{Number: 2, Start: 8016, Size: 8000, Type: "0x1", Scheme: "bsd"},
	}}
	if diff := cmp.Diff(want, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "" || !r.Empty() {
		t.Errorf("probe: %+v", r)
	}
	// A partition of that disk gets the bsd scheme from its entry.
	tab := ptTable(t, img, 512)
	r := probeBytes(t, img[16*512:8016*512], WithParentTable(tab, "7:0", 16, 8000))
	if r.PartEntryScheme != "bsd" || r.PartEntryNumber != 1 || r.PartEntryType != "0x7" {
		t.Errorf("partition: %+v", r)
	}
	// A BSD label beside a table blkid -p does name: Type from that one,
	// entries from the first the list accepts (bsd is before atari).
	copy(img[atariHDSizeOff:], synthAtari(8<<20, [4]atariTestPart{{1, "GEM", 2, 100}}, nil)[atariHDSizeOff:510])
	if got := ptTable(t, img, 512); got.Type != "atari" || len(got.Entries) != 2 || got.Entries[0].Scheme != "bsd" {
		t.Errorf("bsd and atari: %+v", got)
	}
}

func TestTableReadsStayInHead(t *testing.T) {
	// Every table whose structures lie in the first 68 KiB costs only the
	// head read, whichever prober answers.
	for name, img := range map[string][]byte{
		"sgi":   synthSGI(8<<20, []sgiTestPart{{63, 100, 0x83}}),
		"sun":   synthSunLabel(8<<20, 1, 1, true, []sunTestPart{{1, 100, 0x83, 0}}),
		"atari": synthAtari(8<<20, [4]atariTestPart{{1, "GEM", 2, 100}}, nil),
		"empty": make([]byte, 8<<20),
	} {
		cr := &countingReader{r: bytes.NewReader(img)}
		if _, err := ReadTable(context.Background(), cr, int64(len(img)), 512); err != nil {
			t.Fatal(err)
		}
		if cr.n != 1 {
			t.Errorf("%s: %d reads", name, cr.n)
		}
	}
}

// TestDifferentialGPTLargeTable: sgdisk can write 8192 entries; blkid reads
// them (it caps the array only below 4 GiB), and so do we.
func TestDifferentialGPTLargeTable(t *testing.T) {
	img := sparseImage(t, "gpt8192.img", 64<<20)
	runStdin(t, "", "sgdisk", "--resize-table=8192", "-n1:0:+1M", img)
	if got := compareWithBlkid(t, img); got.PTType != "gpt" {
		t.Fatalf("got %+v", got)
	}
}

// TestGPTHeaderRules: blkid refuses a header inside its own usable range
// (only the primary can be: the backup sits past the last usable LBA) and
// entries of any size but 128.
func TestGPTHeaderRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		patch func(h []byte)
		lbas  func(n int64) []int64
	}{
		{"header in usable range", func(h []byte) { le.PutUint64(h[40:], 0) }, func(n int64) []int64 { return []int64{1} }},
		{"256-byte entries", func(h []byte) { le.PutUint32(h[84:], 256); le.PutUint32(h[80:], 64) }, func(n int64) []int64 { return []int64{1, n - 1} }},
	} {
		img := synthGPT(8<<20, gptDisk, []synthGPTPart{{gptLinuxType, testUUID, 2048, 4095, "data", 0}})
		n := int64(len(img)) / 512
		for _, lba := range tc.lbas(n) {
			h := img[lba*512 : lba*512+512]
			tc.patch(h)
			le.PutUint32(h[16:], 0)
			le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
		}
		if len(tc.lbas(n)) == 1 {
			copy(img[(n-1)*512:], "NOT PART") // no backup to fall back to
		}
		if got := probeBytes(t, img); got.PTType == "gpt" {
			t.Errorf("%s: still gpt", tc.name)
		}
		compareWithBlkid(t, writeImage(t, "gpt.img", img))
	}
}
