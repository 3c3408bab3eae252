package partition

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recDev records every write and sync that reaches the device, in order.
type recDev struct {
	*memDev
	log []logOp
}

type logOp struct {
	sync bool
	off  int64
	data []byte
}

func (r *recDev) WriteAt(p []byte, off int64) (int, error) {
	r.log = append(r.log, logOp{off: off, data: append([]byte(nil), p...)})
	return r.memDev.WriteAt(p, off)
}

func (r *recDev) Sync() error {
	r.log = append(r.log, logOp{sync: true})
	return nil
}

// state is what a reader sees: a dump, or "no table".
func state(t *testing.T, dev *memDev, g Geometry) string {
	t.Helper()
	d, err := NewDisk(dev, g)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := d.Read(context.Background())
	if errors.Is(err, ErrNoTable) {
		return "no table"
	}
	if err != nil {
		return "error: " + err.Error()
	}
	st := fmt.Sprintf("%+v", tab.Dump("d"))
	// A broken EBR chain still reads (up to the break) but is not the old
	// table: count it as a state of its own.
	if tab.Label == LabelDOS {
		if r, err := d.Verify(context.Background()); err == nil && r.Has(ErrBadEBRChain) {
			st += " with a broken EBR chain"
		}
	}
	return st
}

type crashCase struct {
	name        string
	from, to    Label // "" is a blank disk
	subSector   bool  // tear inside sectors too
	deadPrimary bool  // the old table's primary header is damaged (a repair)
	logical     bool  // dos: edit logical partitions in an extended one
}

// randomLogical builds a dos table with an extended partition holding a few
// logical partitions.
func randomLogical(t *testing.T, r *rand.Rand, g Geometry) *Table {
	t.Helper()
	tab, err := NewDOS(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Add(AddSpec{Size: Bytes(1 << 20)}); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Add(AddSpec{Size: Size{Percent: 80}, Type: "extended"}); err != nil {
		t.Fatal(err)
	}
	for range 1 + r.IntN(5) {
		if _, err := tab.Add(AddSpec{Size: Bytes(uint64(1+r.IntN(3)) << 20), Logical: true}); err != nil && !errors.Is(err, ErrNoSpace) {
			t.Fatal(err)
		}
	}
	return tab
}

// mutateLogical adds, deletes or resizes one logical partition, changing
// nothing in the MBR.
func mutateLogical(t *testing.T, r *rand.Rand, tab *Table) *Table {
	t.Helper()
	n := tab.Clone()
	var logical []int
	for _, p := range n.Partitions {
		if p.Logical() {
			logical = append(logical, p.Number)
		}
	}
	switch k := r.IntN(3); {
	case k == 0 && len(logical) > 0:
		if err := n.Delete(logical[r.IntN(len(logical))]); err != nil {
			t.Fatal(err)
		}
		return n
	case k == 1 && len(logical) > 0:
		num := logical[r.IntN(len(logical))]
		p, _ := n.Partition(num)
		if _, err := n.Resize(num, Bytes(uint64(1+r.IntN(4))<<19)); err == nil {
			if q, _ := n.Partition(num); q.Size != p.Size {
				return n
			}
		}
		n = tab.Clone()
	}
	if _, err := n.Add(AddSpec{Size: Bytes(1 << 20), Logical: true}); err == nil {
		return n
	}
	if err := n.Delete(logical[0]); err != nil {
		t.Fatal(err)
	}
	return n
}

// randomTable builds a random valid table of label on g.
func randomTable(t *testing.T, r *rand.Rand, label Label, g Geometry) *Table {
	t.Helper()
	var tab *Table
	var err error
	if label == LabelGPT {
		tab, err = NewGPT(g)
		if err == nil && r.IntN(3) == 0 {
			// Bigger entries and another count, as the spec allows.
			tab.EntrySize = 128 << r.IntN(3)
			tab.EntryCount = uint32(16384 / int(tab.EntrySize) * (1 + r.IntN(2)))
			es := tab.entriesSectors()
			tab.FirstUsable = 2 + es
			tab.LastUsable = tab.AlternateLBA - es - 1
		}
	} else {
		tab, err = NewDOS(g)
	}
	if err != nil {
		t.Fatal(err)
	}
	for range r.IntN(6) {
		size := Size{Bytes: uint64(1+r.IntN(8)) << 20}
		if r.IntN(5) == 0 {
			size = Size{Percent: float64(1 + r.IntN(30))}
		}
		spec := AddSpec{Size: size, Type: []string{"linux", "swap", "lvm", "raid", "efi"}[r.IntN(5)]}
		if label == LabelGPT {
			spec.Name = fmt.Sprintf("p%d", r.IntN(1000))
			spec.Attrs = uint64(r.IntN(8))
		}
		if _, err := tab.Add(spec); err != nil && !errors.Is(err, ErrNoSpace) && !errors.Is(err, ErrInvalidArgument) {
			t.Fatal(err)
		}
	}
	return tab
}

// mutate makes a random edit of a copy of tab.
func mutate(t *testing.T, r *rand.Rand, tab *Table) *Table {
	t.Helper()
	n := tab.Clone()
	switch k := r.IntN(4); {
	case k == 0 && len(n.Partitions) > 0:
		if err := n.Delete(n.Partitions[r.IntN(len(n.Partitions))].Number); err != nil {
			t.Fatal(err)
		}
	case k == 1 && len(n.Partitions) > 0:
		p := n.Partitions[r.IntN(len(n.Partitions))]
		_, _ = n.Resize(p.Number, Size{Bytes: uint64(1+r.IntN(4)) << 20})
	case k == 2 && len(n.Partitions) > 0 && n.Label == LabelGPT:
		_ = n.SetName(n.Partitions[0].Number, fmt.Sprintf("renamed %d", r.IntN(100)))
		n.DiskGUID = NewGUID()
	default:
		_, _ = n.Add(AddSpec{Size: Size{Bytes: 1 << 20}})
	}
	if n.Label == LabelGPT {
		// Make sure the new table differs from the old one somewhere.
		n.DiskGUID = NewGUID()
	} else {
		n.DiskID++
	}
	return n
}

// Every prefix of the write log of Write, with the write at the crash point
// torn (a random subset of its sectors, and a partial sector where the case
// allows), reads as exactly the old or exactly the new table.
func TestCrashEveryPrefixIsOldOrNew(t *testing.T) {
	layouts := 2000
	if testing.Short() {
		layouts = 100
	}
	cases := []crashCase{
		{"blank to gpt", "", LabelGPT, true, false, false},
		{"gpt to gpt", LabelGPT, LabelGPT, true, false, false},
		{"dos to gpt", LabelDOS, LabelGPT, true, false, false},
		{"gpt with a dead primary to gpt", LabelGPT, LabelGPT, true, true, false},
		// A dos MBR is one sector: atomic on a disk that writes whole
		// sectors, but a sub-sector tear could mix two entry arrays.
		{"gpt to dos", LabelGPT, LabelDOS, false, false, false},
		{"dos to dos", LabelDOS, LabelDOS, false, false, false},
		// Logical partitions: one EBR (or the head) is the switch; the
		// others are rewritten with the bytes they already hold or are not
		// yet linked. Readers ignore the link's size field, as the kernel does.
		{"dos logical edit", LabelDOS, LabelDOS, false, false, true},
	}
	r := rand.New(rand.NewPCG(1, 2))
	prefixes := 0
	for i := range layouts {
		c := cases[i%len(cases)]
		ss := 512
		if r.IntN(4) == 0 {
			ss = 4096
		}
		size := int64(8+r.IntN(56)) << 20
		g := Geometry{Size: size, SectorSize: ss, PhysicalSectorSize: ss}
		old := newMemDev(size)
		oldState := "no table"
		var oldTab *Table
		if c.from != "" {
			if c.logical {
				oldTab = randomLogical(t, r, g)
			} else {
				oldTab = randomTable(t, r, c.from, g)
			}
			d, _ := NewDisk(old, g)
			if err := d.Write(context.Background(), oldTab); err != nil {
				t.Fatalf("%s: old write: %v", c.name, err)
			}
			if c.deadPrimary {
				old.WriteAt([]byte{0xff, 0xee}, int64(ss)+60)
			}
			oldState = state(t, old, g)
		}
		var newTab *Table
		if c.logical {
			newTab = mutateLogical(t, r, oldTab)
		} else if oldTab != nil && oldTab.Label == c.to {
			newTab = mutate(t, r, oldTab)
		} else {
			newTab = randomTable(t, r, c.to, g)
		}
		rec := &recDev{memDev: old.clone()}
		d, _ := NewDisk(rec, g)
		if err := d.Write(context.Background(), newTab); err != nil {
			t.Fatalf("%s: new write: %v", c.name, err)
		}
		newState := state(t, rec.memDev, g)
		if newState == oldState {
			t.Fatalf("%s: edit changed nothing", c.name)
		}
		var writes []logOp
		for j, op := range rec.log {
			if op.sync {
				continue
			}
			// Every write is followed by a sync before the next write.
			if j+1 >= len(rec.log) || !rec.log[j+1].sync {
				t.Fatalf("%s: write %d at %d not followed by a sync", c.name, len(writes), op.off)
			}
			writes = append(writes, op)
		}
		check := func(dev *memDev, what string) {
			prefixes++
			got := state(t, dev, g)
			if got != oldState && got != newState {
				t.Fatalf("%s layout %d, %s: mixed state\nold: %s\nnew: %s\ngot: %s\n%s", c.name, i, what, oldState, newState, got,
					cmp.Diff(oldState, got))
			}
		}
		cur := old.clone()
		for k, w := range writes {
			check(cur.clone(), fmt.Sprintf("after %d writes", k))
			nsec := len(w.data) / ss
			// Torn: a random subset of the write's sectors reached the disk.
			for range 3 {
				torn := cur.clone()
				for s := range nsec {
					if r.IntN(2) == 0 {
						torn.WriteAt(w.data[s*ss:(s+1)*ss], w.off+int64(s*ss))
					}
				}
				check(torn, fmt.Sprintf("write %d torn by sectors", k))
			}
			// Sector 0 switches a dos disk to GPT (the dos MBR wins until
			// the protective MBR replaces it), so, like a dos MBR, it is
			// assumed to be written whole.
			if c.subSector && !(c.from == LabelDOS && w.off == 0) {
				torn := cur.clone()
				cut := r.IntN(len(w.data))
				torn.WriteAt(w.data[:cut], w.off)
				check(torn, fmt.Sprintf("write %d torn at byte %d", k, cut))
			}
			cur.WriteAt(w.data, w.off)
		}
		check(cur, "after all writes")
	}
	t.Logf("%d layouts, %d crash states checked", layouts, prefixes)
}

// The checker above must be able to fail: writing the primary header before
// the backup (the order a naive writer uses) leaves a state that is neither
// old nor new after a crash, and the same replay finds it.
func TestCrashCheckerCatchesPrimaryFirst(t *testing.T) {
	g := geo512(32 << 20)
	dev := newMemDev(g.Size)
	d, _ := NewDisk(dev, g)
	oldTab, _ := NewGPT(g)
	mustAdd(t, oldTab, AddSpec{Size: Bytes(4 << 20)})
	if err := d.Write(context.Background(), oldTab); err != nil {
		t.Fatal(err)
	}
	oldState := state(t, dev, g)
	newTab := oldTab.Clone()
	mustAdd(t, newTab, AddSpec{Size: Bytes(4 << 20), Name: "new"})
	steps, err := d.Plan(context.Background(), newTab)
	if err != nil {
		t.Fatal(err)
	}
	// Naive order: primary entries, then backup entries, then the headers.
	naive := []Step{steps[2], steps[0], steps[3], steps[1], steps[4]}
	cur := dev.clone()
	mixed := false
	final := dev.clone()
	for _, s := range naive {
		final.WriteAt(s.Data, s.Offset)
	}
	newState := state(t, final, g)
	for _, s := range naive {
		cur.WriteAt(s.Data, s.Offset)
		if got := state(t, cur, g); got != oldState && got != newState {
			mixed = true
		}
	}
	if !mixed {
		t.Fatal("a primary-first write never produced a mixed or unreadable state; the crash checker would not notice a wrong order")
	}
}
