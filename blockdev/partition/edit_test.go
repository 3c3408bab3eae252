package partition

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Size
		bad  bool
	}{
		{in: "512MiB", want: Size{Bytes: 512 << 20}},
		{in: "2G", want: Size{Bytes: 2 << 30}},
		{in: "1.5GiB", want: Size{Bytes: 3 << 29}},
		{in: "1GB", want: Size{Bytes: 1e9}},
		{in: "4096", want: Size{Bytes: 4096}},
		{in: "100s", want: Size{Bytes: 51200}},
		{in: "25%", want: Size{Percent: 25}},
		{in: "rest", want: Size{Rest: true}},
		{in: "REST", want: Size{Rest: true}},
		{in: "0", bad: true},
		{in: "-1M", bad: true},
		{in: "101%", bad: true},
		{in: "12 parsecs", bad: true},
		{in: "", bad: true},
		{in: "1e400", bad: true},
		{in: "99999999999T", bad: true},
	} {
		got, err := ParseSize(c.in, 512)
		if c.bad {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("ParseSize(%q) = %v, %v; want ErrInvalidArgument", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestTypesRoundTrip(t *testing.T) {
	for _, k := range KnownTypes {
		g, _, err := ParseType(LabelGPT, k.Alias)
		if err != nil || g != k.GUID {
			t.Errorf("%s: %v %v", k.Alias, g, err)
		}
		if g2, err := ParseGUID(k.GUID.String()); err != nil || g2 != k.GUID {
			t.Errorf("%s: GUID text round trip %v %v", k.Alias, g2, err)
		}
		if TypeName(k.GUID) != k.Name {
			t.Errorf("TypeName(%v) = %q", k.GUID, TypeName(k.GUID))
		}
	}
	if g, _, _ := ParseType(LabelGPT, "8300"); g != TypeLinuxFilesystem {
		t.Error("sgdisk code 8300")
	}
	if _, b, _ := ParseType(LabelDOS, "0x8e"); b != 0x8e {
		t.Error("dos 0x8e")
	}
	if _, _, err := ParseType(LabelDOS, "bios"); !errors.Is(err, ErrInvalidArgument) {
		t.Error("BIOS boot has no dos type")
	}
	// The on-disk byte order of the EFI type, from the UEFI spec.
	want := [16]byte{0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b}
	if TypeEFISystem != GUID(want) {
		t.Errorf("EFI type on disk = % x", TypeEFISystem[:])
	}
}

// More than four GPT partitions are plain partitions (numbers 5 and up are
// only special on dos).
func TestGPTManyPartitions(t *testing.T) {
	tab, err := NewGPT(geo512(256 << 20))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	}
	if err := tab.Validate(); err != nil {
		t.Fatal(err)
	}
	// Free: the unaligned head (34-2047, as sgdisk counts it) and the tail.
	if len(tab.Free()) != 2 {
		t.Errorf("free regions %v", tab.Free())
	}
}

func TestAlignmentFollowsPhysicalAndOptimalIO(t *testing.T) {
	for _, c := range []struct {
		g    Geometry
		want uint64 // sectors
	}{
		{Geometry{Size: 1 << 30, SectorSize: 512, PhysicalSectorSize: 512}, 2048},
		{Geometry{Size: 1 << 30, SectorSize: 512, PhysicalSectorSize: 4096}, 2048},
		{Geometry{Size: 1 << 30, SectorSize: 4096, PhysicalSectorSize: 4096}, 256},
		{Geometry{Size: 1 << 30, SectorSize: 512, PhysicalSectorSize: 4096, OptimalIO: 3 << 20}, 6144},
		{Geometry{Size: 1 << 30, SectorSize: 512, PhysicalSectorSize: 512, OptimalIO: 4 << 20}, 8192},
	} {
		tab, err := NewGPT(c.g)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Alignment() != c.want {
			t.Errorf("%+v: alignment %d sectors, want %d", c.g, tab.Alignment(), c.want)
		}
		p := mustAdd(t, tab, AddSpec{Size: Bytes(10 << 20)})
		if p.Start%c.want != 0 {
			t.Errorf("%+v: start %d not aligned", c.g, p.Start)
		}
	}
}

// Best fit: a partition goes into the smallest hole it fits; "rest" takes
// the largest; a given start is rounded up to the alignment.
func TestPlacement(t *testing.T) {
	tab, err := NewGPT(geo512(128 << 20))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	}
	// Free: the unaligned head (34-2047), two 8 MiB holes, the tail.
	if err := tab.Delete(2); err != nil {
		t.Fatal(err)
	}
	if err := tab.Delete(4); err != nil {
		t.Fatal(err)
	}
	free := tab.Free()
	if len(free) != 4 {
		t.Fatalf("free %v", free)
	}
	p := mustAdd(t, tab, AddSpec{Size: Bytes(4 << 20)})
	if p.Start != free[1].Start {
		t.Errorf("best fit put 4 MiB at %d, want the first 8 MiB hole at %d", p.Start, free[1].Start)
	}
	r := mustAdd(t, tab, AddSpec{Size: Size{Rest: true}})
	if r.Start != free[3].Start || r.End() != tab.LastUsable {
		t.Errorf("rest took %d-%d, want the tail hole %d-%d", r.Start, r.End(), free[3].Start, tab.LastUsable)
	}
	if _, err := tab.Add(AddSpec{Size: Bytes(9 << 20)}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("9 MiB into 8 MiB holes: %v, want ErrNoSpace", err)
	}
	q := mustAdd(t, tab, AddSpec{Start: free[2].Start + 1, Size: Bytes(2 << 20)})
	if q.Start%tab.Alignment() != 0 || q.Start < free[2].Start {
		t.Errorf("given start rounded to %d", q.Start)
	}
}

func TestEditsValidate(t *testing.T) {
	tab, err := NewGPT(geo512(64 << 20))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	before := tab.Clone()
	if _, err := tab.Resize(1, Bytes(9<<20)); !errors.Is(err, ErrNoSpace) && !errors.Is(err, ErrInvalidLayout) {
		t.Errorf("growing 1 into 2: %v", err)
	}
	if _, err := tab.Resize(2, Bytes(1<<30)); err == nil {
		t.Error("growing past the end succeeded")
	}
	if err := tab.Delete(9); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete 9: %v", err)
	}
	if err := tab.SetUUID(2, tab.Partitions[0].UUID); !errors.Is(err, ErrInvalidLayout) {
		t.Errorf("duplicate GUID: %v", err)
	}
	if err := tab.SetName(1, "a name that is much longer than thirty-six characters"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("long name: %v", err)
	}
	if len(tab.Partitions) != len(before.Partitions) || tab.Partitions[0].Size != before.Partitions[0].Size || tab.Partitions[1].Size != before.Partitions[1].Size {
		t.Error("a refused edit changed the table")
	}
	// Overlap made by hand is caught by Validate with both numbers.
	bad := tab.Clone()
	bad.Partitions[1].Start = bad.Partitions[0].Start + 1
	var le *LayoutError
	if err := bad.Validate(); !errors.As(err, &le) || !errors.Is(err, ErrOverlap) {
		t.Errorf("overlap: %v", err)
	}
	// 4 KiB physical sectors: a start off the physical grid is refused.
	g := Geometry{Size: 64 << 20, SectorSize: 512, PhysicalSectorSize: 4096}
	tab4, _ := NewGPT(g)
	mustAdd(t, tab4, AddSpec{Size: Bytes(8 << 20)})
	tab4.Partitions[0].Start++
	if err := tab4.Validate(); !errors.Is(err, ErrMisaligned) {
		t.Errorf("misaligned start: %v", err)
	}
}

func TestDOSEdits(t *testing.T) {
	tab, err := NewDOS(geo512(128 << 20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Add(AddSpec{Size: Bytes(1 << 20), Logical: true}); !errors.Is(err, ErrInvalidLayout) {
		t.Errorf("logical without extended: %v", err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(40 << 20), Type: "extended"})
	a := mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20), Logical: true})
	b := mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20), Logical: true})
	if a.Number != 5 || b.Number != 6 || !a.Logical() {
		t.Errorf("logical numbers %d %d", a.Number, b.Number)
	}
	if err := tab.Delete(1); !errors.Is(err, ErrInvalidLayout) {
		t.Errorf("deleting a non-empty extended: %v", err)
	}
	if err := tab.Delete(5); err != nil {
		t.Fatal(err)
	}
	if p, ok := tab.Partition(5); !ok || p.Start != b.Start {
		t.Errorf("logical 6 not renumbered to 5: %+v", tab.Partitions)
	}
	if _, err := tab.Add(AddSpec{Size: Bytes(1 << 20), Name: "x"}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("name on dos: %v", err)
	}
	for i := 0; i < 3; i++ {
		mustAdd(t, tab, AddSpec{Size: Bytes(4 << 20)})
	}
	if _, err := tab.Add(AddSpec{Size: Bytes(4 << 20)}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("fifth primary: %v", err)
	}
}

// An image of a 4 KiB-sector disk opened as 512 is unreadable, and the error
// says which sector size would read it.
func TestSectorSizeHint(t *testing.T) {
	img := image(t, 32<<20)
	d4 := openT(t, img, WithSectorSize(4096))
	tab, err := NewGPT(d4.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(4 << 20)})
	if err := d4.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	_, err = openT(t, img).Read(context.Background())
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "4096-byte sectors") {
		t.Errorf("4K image read as 512: %v", err)
	}
}
