package partition

import (
	"context"
	"errors"
	"testing"
)

// A table whose Partitions slice is built or changed by hand (the fields are
// exported) must not lose a partition on the way to disk: two partitions
// with one number would be encoded into the same GPT entry, and a dos
// primary numbered past 4 (or a logical below 5) has no slot at all. Each is
// refused before anything is written.
func TestValidateRefusesWhatEncodingWouldDrop(t *testing.T) {
	ctx := context.Background()
	const size = 64 << 20
	for _, c := range []struct {
		name  string
		label Label
		edit  func(t *testing.T, tab *Table)
	}{
		{"gpt duplicate number", LabelGPT, func(t *testing.T, tab *Table) {
			mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			p := mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			i := tab.index(p.Number)
			tab.Partitions[i].Number = 1
		}},
		{"dos primary numbered 5", LabelDOS, func(t *testing.T, tab *Table) {
			mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			p := mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			tab.Partitions[tab.index(p.Number)].Number = 5
			tab.sort()
		}},
		{"dos duplicate primary number", LabelDOS, func(t *testing.T, tab *Table) {
			mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			p := mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			tab.Partitions[tab.index(p.Number)].Number = 1
		}},
		{"dos two extended partitions", LabelDOS, func(t *testing.T, tab *Table) {
			mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB"), Type: "extended"})
			p := mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
			tab.Partitions[tab.index(p.Number)].MBRType = MBRTypeExtended
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dev := newMemDev(size)
			d, err := NewDisk(dev, geo512(size))
			if err != nil {
				t.Fatal(err)
			}
			var tab *Table
			if c.label == LabelGPT {
				tab, err = NewGPT(d.Geometry())
			} else {
				tab, err = NewDOS(d.Geometry())
			}
			if err != nil {
				t.Fatal(err)
			}
			c.edit(t, tab)
			if err := tab.Validate(); !errors.Is(err, ErrInvalidLayout) {
				t.Errorf("Validate: %v, want ErrInvalidLayout", err)
			}
			if err := d.Write(ctx, tab); !errors.Is(err, ErrInvalidLayout) {
				t.Errorf("Write: %v, want ErrInvalidLayout", err)
			}
			if len(dev.chunks) != 0 {
				t.Errorf("%d sectors written for a refused table", len(dev.chunks))
			}
		})
	}
}

// dosWithLogicals writes a dos table with an extended partition and three
// logical partitions to a memDev and returns it with the table.
func dosWithLogicals(t *testing.T, size int64) (*memDev, *Table) {
	t.Helper()
	dev := newMemDev(size)
	d, err := NewDisk(dev, geo512(size))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "4MiB")})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "40MiB"), Type: "extended"})
	for range 3 {
		mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB"), Logical: true})
	}
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	return dev, mustRead(t, d)
}

// A dos table read past a broken EBR chain lacks the partitions after the
// break. Writing it, or any edit of it, would cut them off for good, so the
// write is refused and nothing changes on disk; a fresh NewDOS table is the
// deliberate way to start over.
func TestWriteRefusesTableReadFromBrokenChain(t *testing.T) {
	ctx := context.Background()
	const size = 64 << 20
	dev, tab := dosWithLogicals(t, size)
	l6, _ := tab.Partition(6)
	// Tear the EBR of partition 6: no signature, so the chain stops at 5.
	if _, err := dev.WriteAt([]byte{0, 0}, int64(l6.ebr)*512+510); err != nil {
		t.Fatal(err)
	}
	d, err := NewDisk(dev, geo512(size))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Verify(ctx)
	if err != nil || !rep.Has(ErrBadEBRChain) {
		t.Fatalf("Verify: %v %v, want ErrBadEBRChain", rep.Problems, err)
	}
	cur := mustRead(t, d)
	if _, ok := cur.Partition(7); ok {
		t.Fatal("partition 7 read past the broken EBR")
	}
	before := dev.clone()
	next := cur.Clone()
	mustAdd(t, next, AddSpec{Size: mustSize(t, "4MiB")})
	if err := d.Write(ctx, next); !errors.Is(err, ErrUnsafe) || !errors.Is(err, ErrBadEBRChain) {
		t.Errorf("Write of an edit of a broken chain: %v, want ErrUnsafe and ErrBadEBRChain", err)
	}
	if _, err := d.Plan(ctx, next); !errors.Is(err, ErrUnsafe) {
		t.Errorf("Plan: %v, want ErrUnsafe", err)
	}
	if diffChunks(before, dev) {
		t.Error("a refused write changed the disk")
	}
	// Starting over on purpose is still possible.
	fresh, err := NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Write(ctx, fresh); err != nil {
		t.Errorf("writing a new dos table: %v", err)
	}
}

// An extended partition that reaches past the end of a disk that shrank is
// a broken chain Verify reports, not a read error that hides every other
// finding.
func TestVerifyDOSChainPastShrunkDisk(t *testing.T) {
	const size = 64 << 20
	dev, tab := dosWithLogicals(t, size)
	l7, _ := tab.Partition(7)
	small := dev.clone()
	small.size = int64(l7.ebr) * 512 // the disk now ends just before the last EBR
	d, err := NewDisk(small, geo512(small.size))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.Has(ErrBadEBRChain) || !rep.Has(ErrDiskShrank) {
		t.Errorf("Verify: %v, want ErrBadEBRChain and ErrDiskShrank", rep.Problems)
	}
}

func diffChunks(a, b *memDev) bool {
	if len(a.chunks) != len(b.chunks) {
		return true
	}
	for k, v := range a.chunks {
		w, ok := b.chunks[k]
		if !ok || string(v) != string(w) {
			return true
		}
	}
	return false
}

// A primary entries LBA near the top of uint64 wrapped the overlap check
// (EntriesLBA + sectors < FirstUsable) and passed validation; the write then
// failed half way, after the backup copy was already rewritten.
func TestValidateRefusesEntriesLBAThatWraps(t *testing.T) {
	const size = 16 << 20
	dev := newMemDev(size)
	d, err := NewDisk(dev, geo512(size))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	tab.EntriesLBA = ^uint64(0) - 10
	if err := tab.Validate(); !errors.Is(err, ErrEntriesOverlapUsable) {
		t.Errorf("Validate: %v, want ErrEntriesOverlapUsable", err)
	}
	if err := d.Write(context.Background(), tab); err == nil || len(dev.chunks) != 0 {
		t.Errorf("Write: %v, %d sectors written", err, len(dev.chunks))
	}
}

// resized returns a copy of dev that is size bytes long (a disk that grew
// or shrank; what was past a shrunk end is gone).
func resized(dev *memDev, size int64) *memDev {
	c := dev.clone()
	c.size = size
	for k := range c.chunks {
		if (k+1)*chunk > size {
			delete(c.chunks, k)
		}
	}
	return c
}

// A disk grows, Repair moves the backup to the new end, an edit follows,
// then the disk shrinks back and the primary is damaged. The backup at the
// old end must not bring the pre-edit table back: moving the backup erases
// the old one once the new primary no longer points at it.
func TestMovedBackupDoesNotComeBack(t *testing.T) {
	ctx := context.Background()
	const small, big = 32 << 20, 48 << 20
	dev := newMemDev(small)
	d, _ := NewDisk(dev, geo512(small))
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "8MiB")})
	if err := d.Write(ctx, tab); err != nil {
		t.Fatal(err)
	}
	grown := resized(dev, big)
	dg, _ := NewDisk(grown, geo512(big))
	if _, _, err := dg.Repair(ctx); err != nil {
		t.Fatal(err)
	}
	next := mustRead(t, dg)
	if err := next.Delete(2); err != nil {
		t.Fatal(err)
	}
	if err := dg.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	back := resized(grown, small)
	back.WriteAt([]byte{0xff, 0xee}, 512+60) // the primary header's CRC no longer checks
	db, _ := NewDisk(back, geo512(small))
	got, err := db.Read(ctx)
	if err == nil {
		if _, ok := got.Partition(2); ok {
			t.Fatalf("the backup left at the old end brought deleted partition 2 back (read from %v)", got.Source)
		}
	}
	if !errors.Is(err, ErrUnreadable) {
		t.Errorf("Read: %v, want ErrUnreadable (no intact copy on this disk)", err)
	}
}
