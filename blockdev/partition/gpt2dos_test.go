package partition

import (
	"context"
	"strings"
	"testing"
)

// Turning a GPT disk into dos where a new EBR lands on the old backup GPT
// (a small logical partition at the very end of a disk whose size is not a
// whole number of MiB). Erasing the primary GPT first left the damaged
// backup as the only copy once that EBR was written: a crash there read as
// neither table. Every prefix of the write log must read as old or new.
func TestGPTToDOSWithEBROnTheOldBackup(t *testing.T) {
	ctx := context.Background()
	const size = 64<<20 + 16*512 // ends 16 sectors past a MiB boundary
	g := geo512(size)
	old := newMemDev(size)
	d, _ := NewDisk(old, g)
	gpt, err := NewGPT(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, gpt, AddSpec{Size: mustSize(t, "8MiB")})
	mustAdd(t, gpt, AddSpec{Size: mustSize(t, "8MiB")})
	if err := d.Write(ctx, gpt); err != nil {
		t.Fatal(err)
	}

	dos, err := NewDOS(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "8MiB")})
	mustAdd(t, dos, AddSpec{Size: Size{Rest: true}, Type: "extended"})
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "8MiB"), Logical: true})
	last := g.Sectors() - 1
	p6 := mustAdd(t, dos, AddSpec{Start: last - 16, Size: Bytes(8 * 512), Logical: true})
	if p6.ebr < gpt.BackupEntriesLBA() {
		t.Fatalf("layout does not put an EBR on the old backup: EBR at %d, backup entries from %d", p6.ebr, gpt.BackupEntriesLBA())
	}

	t.Logf("%d steps replayed", len(replayOldOrNew(t, old, g, dos)))
}

// A dos partition that reaches the disk's last sector and holds a disk
// image of its own carries that image's backup GPT header there. A dos edit
// must not erase it (it is the partition's data, not a stale table of this
// disk), and Verify must not call it stale.
func TestDOSEditKeepsGPTInsideAPartition(t *testing.T) {
	ctx := context.Background()
	const size = 64 << 20
	g := geo512(size)
	dev := newMemDev(size)
	d, _ := NewDisk(dev, g)
	dos, err := NewDOS(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "8MiB")})
	p2 := mustAdd(t, dos, AddSpec{Size: Size{Rest: true}})
	if err := d.Write(ctx, dos); err != nil {
		t.Fatal(err)
	}
	// The image inside partition 2: a GPT laid out for its size, written
	// at its start, so its backup header is the disk's last sector.
	inner := newMemDev(int64(p2.Size) * 512)
	di, _ := NewDisk(inner, geo512(inner.size))
	it, err := NewGPT(di.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	if err := di.Write(ctx, it); err != nil {
		t.Fatal(err)
	}
	for k, c := range inner.chunks {
		dev.WriteAt(c, int64(p2.Start)*512+k*chunk)
	}
	lastSector := make([]byte, 512)
	dev.ReadAt(lastSector, size-512)
	if string(lastSector[:8]) != gptSignature {
		t.Fatal("setup: no inner backup header at the disk's last sector")
	}
	if rep, err := d.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("Verify: %v %v", rep.Problems, err)
	}
	next := mustRead(t, d).Clone()
	if err := next.SetType(1, "swap"); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	after := make([]byte, 512)
	dev.ReadAt(after, size-512)
	if string(after) != string(lastSector) {
		t.Error("the dos edit erased the backup GPT header inside partition 2")
	}
}

// The reverse: a dos disk whose last EBR sits where the new backup GPT goes.
// Writing the backup before the protective MBR broke the old chain while
// the dos MBR still decided what the disk holds: a crash there read as a
// broken dos table. Every prefix must read as old or new.
func TestDOSToGPTWithOldEBROnTheNewBackup(t *testing.T) {
	ctx := context.Background()
	const size = 64<<20 + 16*512
	g := geo512(size)
	old := newMemDev(size)
	d, _ := NewDisk(old, g)
	dos, err := NewDOS(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "8MiB")})
	mustAdd(t, dos, AddSpec{Size: Size{Rest: true}, Type: "extended"})
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "8MiB"), Logical: true})
	p6 := mustAdd(t, dos, AddSpec{Start: g.Sectors() - 17, Size: Bytes(8 * 512), Logical: true})
	if err := d.Write(ctx, dos); err != nil {
		t.Fatal(err)
	}
	gpt, err := NewGPT(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, gpt, AddSpec{Size: mustSize(t, "8MiB")})
	if p6.ebr < gpt.BackupEntriesLBA() {
		t.Fatalf("layout does not put an EBR on the new backup: EBR at %d, backup entries from %d", p6.ebr, gpt.BackupEntriesLBA())
	}
	replayOldOrNew(t, old, g, gpt)
}

// replayOldOrNew writes tab over old through a recorder and checks that
// every prefix of the write log, and each write torn in half by sectors,
// reads as the old or the new table. It returns the steps' names.
func replayOldOrNew(t *testing.T, old *memDev, g Geometry, tab *Table) []string {
	t.Helper()
	oldState := state(t, old, g)
	rec := &recDev{memDev: old.clone()}
	dw, _ := NewDisk(rec, g)
	var names []string
	steps, err := dw.Plan(context.Background(), tab)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		names = append(names, s.What)
	}
	if err := dw.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	newState := state(t, rec.memDev, g)
	cur := old.clone()
	for _, op := range rec.log {
		if op.sync {
			continue
		}
		if got := state(t, cur.clone(), g); got != oldState && got != newState {
			t.Fatalf("steps %v: neither old nor new:\n%s", names, got)
		}
		if n := len(op.data) / g.SectorSize; n > 1 {
			torn := cur.clone()
			torn.WriteAt(op.data[:n/2*g.SectorSize], op.off)
			if got := state(t, torn, g); got != oldState && got != newState {
				t.Fatalf("steps %v, torn write at %d: neither old nor new:\n%s", names, op.off, got)
			}
		}
		cur.WriteAt(op.data, op.off)
	}
	if got := state(t, cur, g); got != newState {
		t.Fatalf("after all writes: %s", got)
	}
	return names
}

// The same with the old chain at the start of the disk, where the new
// primary entries go (an extended partition at LBA 2, as no aligning tool
// would make but the format allows), and a stale primary GPT header at LBA
// 1 that must not win once the protective MBR is written.
func TestDOSToGPTWithOldEBROnTheNewPrimary(t *testing.T) {
	const size = 64 << 20
	g := geo512(size)
	old := newMemDev(size)
	d, _ := NewDisk(old, g)
	stale, err := NewGPT(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, stale, AddSpec{Size: mustSize(t, "4MiB")})
	if err := d.Write(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	dos, err := NewDOS(g)
	if err != nil {
		t.Fatal(err)
	}
	dos.align = 1
	mustAdd(t, dos, AddSpec{Start: 2, Size: mustSize(t, "16MiB"), Type: "extended"})
	mustAdd(t, dos, AddSpec{Start: 2, Size: mustSize(t, "4MiB"), Logical: true})
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "8MiB")})
	// Write the dos MBR and chain only, keeping the stale GPT behind it.
	steps, err := d.Plan(context.Background(), dos)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if !strings.HasPrefix(s.What, "erase") {
			old.WriteAt(s.Data, s.Offset)
		}
	}
	if tab := mustRead(t, d); tab.Label != LabelDOS || len(tab.Partitions) != 3 {
		t.Fatalf("setup: %+v", tab.Dump("d"))
	}
	gpt, err := NewGPT(g)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, gpt, AddSpec{Size: mustSize(t, "8MiB")})
	if s1, _ := d.readSector(1); string(s1[:8]) != gptSignature {
		t.Fatalf("setup: no stale primary header at LBA 1: %q", s1[:8])
	}
	names := replayOldOrNew(t, old, g, gpt)
	t.Logf("steps: %v", names)
}
