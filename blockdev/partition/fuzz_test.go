package partition

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// noWriteDev fails the fuzz run if anything writes.
type noWriteDev struct {
	*memDev
	t *testing.T
}

func (n noWriteDev) WriteAt(p []byte, off int64) (int, error) {
	n.t.Fatalf("parsing wrote %d bytes at %d", len(p), off)
	return 0, errors.New("no writes")
}

func (n noWriteDev) Sync() error { n.t.Fatal("parsing synced"); return nil }

// smallGPT returns a compact valid GPT image (4 entries, one entries sector).
func smallGPT(t testing.TB, sectors int, label Label) []byte {
	g := geo512(int64(sectors) * 512)
	dev := newMemDev(g.Size)
	d, err := NewDisk(dev, g)
	if err != nil {
		t.Fatal(err)
	}
	var tab *Table
	if label == LabelGPT {
		// Below NewGPT's minimum (128 entries): four entries in one sector.
		tab = &Table{Label: LabelGPT, SectorSize: 512, Sectors: g.Sectors(), DiskGUID: NewGUID(), EntryCount: 4, EntrySize: 128,
			HeaderSize: 92, EntriesLBA: 2, AlternateLBA: g.Sectors() - 1, FirstUsable: 3, LastUsable: g.Sectors() - 3}
		tab.setGeometry(g)
		tab.align = 1
		mustAdd(t, tab, AddSpec{Size: Bytes(2048), Name: "a"})
		mustAdd(t, tab, AddSpec{Size: Bytes(1024), Type: "swap", Attrs: 5})
	} else {
		tab, _ = NewDOS(g)
		tab.align = 1
		mustAdd(t, tab, AddSpec{Size: Bytes(2048)})
		mustAdd(t, tab, AddSpec{Size: Bytes(8192), Type: "extended"})
		mustAdd(t, tab, AddSpec{Size: Bytes(1024), Logical: true})
		mustAdd(t, tab, AddSpec{Size: Bytes(1024), Logical: true})
	}
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, g.Size)
	dev.ReadAt(out, 0)
	return out
}

// FuzzRead feeds arbitrary disks to Read and Verify: no panic, no write,
// and a table that reads and validates writes back to the same table.
// Inputs are disk images of kilobytes, which the fuzzer's default minute of
// minimising per new input spends slowly: run it with -fuzzminimizetime=1s.
func FuzzRead(f *testing.F) {
	f.Add(smallGPT(f, 16, LabelGPT))
	f.Add(smallGPT(f, 40, LabelDOS))
	f.Add(make([]byte, 4096))
	// A dos image whose second EBR lost its signature: a chain read past
	// damage, which must never be written back.
	broken := smallGPT(f, 40, LabelDOS)
	if tab, err := mustDisk(broken).Read(context.Background()); err == nil {
		if l6, ok := tab.Partition(6); ok {
			broken[int(l6.ebr)*512+510] = 0
		}
	}
	f.Add(broken)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4096 || len(data) > 64<<10 {
			return
		}
		size := int64(len(data)) / 512 * 512
		m := newMemDev(size)
		m.WriteAt(data[:size], 0)
		g := geo512(size)
		d, err := NewDisk(noWriteDev{m, t}, g)
		if err != nil {
			return
		}
		ctx := context.Background()
		tab, rerr := d.Read(ctx)
		_, verr := d.Verify(ctx)
		if (rerr == nil) != (verr == nil) {
			t.Fatalf("Read %v but Verify %v", rerr, verr)
		}
		if rerr != nil {
			if !errors.Is(rerr, ErrNoTable) && !errors.Is(rerr, ErrUnreadable) {
				t.Fatalf("unexpected error kind: %v", rerr)
			}
			// Nothing readable is nothing to repair from (noWriteDev
			// fails the run if Repair writes anyway).
			if _, _, err := d.Repair(ctx); err == nil {
				t.Fatalf("Repair of a disk that reads as %v succeeded", rerr)
			}
			return
		}
		_ = tab.Dump("fuzz")
		// A table read past damage (a broken EBR chain) is never written
		// back, edited or not.
		if len(tab.damaged) > 0 {
			if err := d.Write(ctx, tab); err == nil {
				t.Fatal("wrote a table read past a broken chain")
			}
		}
		if tab.Validate() != nil {
			return
		}
		// Round trip on a copy: what validates writes and reads back equal.
		c := m.clone()
		d2, _ := NewDisk(c, g)
		if err := d2.Write(ctx, tab); err != nil {
			return // e.g. a dos table whose EBRs would land outside the disk
		}
		back, err := d2.Read(ctx)
		if err != nil {
			t.Fatalf("wrote a valid table, read back: %v", err)
		}
		a, b := tab.Dump("x"), back.Dump("x")
		if len(a.PartitionTable.Partitions) != len(b.PartitionTable.Partitions) {
			t.Fatalf("round trip changed the partitions:\n%+v\n%+v", a, b)
		}
	})
}

func FuzzParseGPTHeader(f *testing.F) {
	img := smallGPT(f, 16, LabelGPT)
	f.Add(img[512:1024], uint64(1))
	f.Add(img[len(img)-512:], uint64(15))
	f.Fuzz(func(t *testing.T, sector []byte, lba uint64) {
		h, fault, _ := parseGPTHeader(sector, lba)
		if fault != headerOK {
			return
		}
		if int(h.HeaderSize) > len(sector) || h.EntrySize < 128 || h.EntryCount == 0 {
			t.Fatalf("accepted a bad header: %+v", h)
		}
		// What parses re-encodes to the same header bytes.
		tab := &Table{SectorSize: len(sector), HeaderSize: h.HeaderSize, DiskGUID: h.DiskGUID, FirstUsable: h.FirstUsable,
			LastUsable: h.LastUsable, EntryCount: h.EntryCount, EntrySize: h.EntrySize, EntriesLBA: h.EntriesLBA,
			AlternateLBA: h.AlternateLBA, headerExtra: h.extra}
		if lba != 1 {
			return
		}
		out := encodeGPTHeader(tab, h.EntriesCRC, false)
		if !bytes.Equal(out[:h.HeaderSize], sector[:h.HeaderSize]) {
			t.Fatalf("re-encoded header differs")
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"512MiB", "2G", "25%", "rest", "100s", "1.5GiB", "0", "1e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseSize(s, 512)
		if err != nil {
			return
		}
		n := 0
		if v.Rest {
			n++
		}
		if v.Percent > 0 {
			n++
		}
		if v.Bytes > 0 {
			n++
		}
		if n != 1 {
			t.Fatalf("ParseSize(%q) = %+v", s, v)
		}
	})
}

func FuzzParseTypeAndGUID(f *testing.F) {
	for _, s := range []string{"linux", "efi", "8300", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}", "83", "0xfd", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if g, err := ParseGUID(s); err == nil {
			if g2, err := ParseGUID(g.String()); err != nil || g2 != g {
				t.Fatalf("GUID %q round trip %v %v", s, g2, err)
			}
		}
		_, _, _ = ParseType(LabelGPT, s)
		_, _, _ = ParseType(LabelDOS, s)
		if a, err := ParseAttrs(s); err == nil {
			if b, err := ParseAttrs(AttrString(a)); err != nil || (a&^(0xffff<<48|7)) == 0 && b != a {
				t.Fatalf("attrs %q: %x -> %q -> %x %v", s, a, AttrString(a), b, err)
			}
		}
	})
}

// mustDisk wraps an image held in memory (for building seeds).
func mustDisk(img []byte) *Disk {
	m := newMemDev(int64(len(img)))
	m.WriteAt(img, 0)
	d, _ := NewDisk(m, geo512(int64(len(img))))
	return d
}
