package partition

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// damage is one way a GPT disk goes wrong, applied to a good image.
type damage struct {
	name string
	// apply damages the image at path (a 64 MiB GPT with partitions 1-3
	// and free space at the end).
	apply func(t *testing.T, path string, tab *Table)
	// want are the problem kinds our Verify must report.
	want []error
	// sgdiskSilent: sgdisk -v reports no problem here although the disk is
	// damaged; the comment at the case says which side is right.
	sgdiskSilent bool
	repairable   bool
}

// rehdr edits a header at lba with f and fixes its CRC, so only the edit is wrong.
func rehdr(t *testing.T, path string, lba int64, f func(h []byte)) {
	h := testenv.ReadFileAt(t, path, lba*512, 512)
	f(h)
	binary.LittleEndian.PutUint32(h[16:20], 0)
	binary.LittleEndian.PutUint32(h[16:20], crc32.ChecksumIEEE(h[:92]))
	testenv.PatchFile(t, path, lba*512, h)
}

// writeRaw writes tab without validation (to build invalid layouts).
func writeRaw(t *testing.T, path string, tab *Table) {
	t.Helper()
	d := openT(t, path)
	steps, err := d.plan(context.Background(), tab, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.apply(steps, nil); err != nil {
		t.Fatal(err)
	}
}

func damages() []damage {
	const last = 64<<20/512 - 1
	return []damage{
		{name: "primary header CRC", want: []error{ErrPrimaryHeaderCRC}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, 512+60, []byte{0xff}) }},
		{name: "primary entries CRC", want: []error{ErrPrimaryEntriesCRC}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, 1024+56, []byte{'X'}) }},
		{name: "backup header CRC", want: []error{ErrBackupHeaderCRC}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, last*512+60, []byte{0xff}) }},
		{name: "backup entries CRC", want: []error{ErrBackupEntriesCRC}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, (last-32)*512+56, []byte{'X'}) }},
		{name: "backup header gone", want: []error{ErrBackupHeaderInvalid}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, last*512, make([]byte, 512)) }},
		{name: "primary header gone", want: []error{ErrPrimaryHeaderInvalid}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, 512, make([]byte, 512)) }},
		{name: "disk grew", want: []error{ErrDiskGrew, ErrBackupNotAtEnd}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) {
				if err := os.Truncate(p, 64<<20+1<<20); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "disk shrank", want: []error{ErrDiskShrank}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) {
				if err := os.Truncate(p, 64<<20-1<<20); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "backup differs from primary", want: []error{ErrBackupMismatch}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { rehdr(t, p, last, func(h []byte) { h[60] ^= 0xff }) }},
		{name: "overlapping partitions", want: []error{ErrOverlap},
			apply: func(t *testing.T, p string, tab *Table) {
				bad := tab.Clone()
				bad.Partitions[1].Start = bad.Partitions[0].Start + 8
				writeRaw(t, p, bad)
			}},
		{name: "partition past last usable", want: []error{ErrOutsideUsable},
			apply: func(t *testing.T, p string, tab *Table) {
				bad := tab.Clone()
				bad.Partitions[2].Size = bad.LastUsable - bad.Partitions[2].Start + 100
				writeRaw(t, p, bad)
			}},
		{name: "entries overlap usable area", want: []error{ErrEntriesOverlapUsable},
			apply: func(t *testing.T, p string, tab *Table) {
				bad := tab.Clone()
				bad.FirstUsable = 20
				writeRaw(t, p, bad)
			}},
		{name: "protective MBR missing", want: []error{ErrProtectiveMBRMissing}, repairable: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, 0, make([]byte, 512)) }},
		// sgdisk -v only checks that a 0xEE entry exists; the spec says it
		// covers the disk (or 0xFFFFFFFF sectors). We report the wrong size.
		{name: "protective MBR wrong size", want: []error{ErrProtectiveMBRWrong}, repairable: true, sgdiskSilent: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.PatchFile(t, p, 446+12, []byte{0x10, 0, 0, 0}) }},
		// A hybrid MBR is legal to sgdisk (it makes them); we report it
		// because editing the GPT leaves the dos entries stale.
		{name: "hybrid MBR", want: []error{ErrHybridMBR}, sgdiskSilent: true,
			apply: func(t *testing.T, p string, _ *Table) { testenv.Run(t, "sgdisk", "-h", "1", p) }},
	}
}

func goodImage(t *testing.T) (string, *Table) {
	img := image(t, 64<<20)
	d := openT(t, img)
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20), Type: "efi", Name: "esp"})
	mustAdd(t, tab, AddSpec{Size: Bytes(16 << 20), Type: "linux", Name: "root"})
	mustAdd(t, tab, AddSpec{Size: Bytes(16 << 20), Type: "swap"})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	d.Close()
	return img, tab
}

func sgdiskProblems(t *testing.T, path string) (bool, string) {
	out, err := testenv.RunErr("sgdisk", "-v", path)
	s := string(out)
	if err != nil {
		s += err.Error()
	}
	// sgdisk -v says "No problems found" after warning about a damaged
	// copy it recovered from; the warning counts as finding the problem.
	bad := !strings.Contains(s, "No problems found") || strings.Contains(s, "corrupt") || strings.Contains(s, "Warning!")
	return bad, s
}

// Every damaged image: our Verify reports the problem (and whatever else
// sgdisk -v reports something about, we report something too); Repair fixes
// what a good copy can fix, after which sgdisk -v is clean.
func TestDamageCorpusAgainstSgdisk(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	for _, c := range damages() {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			img, tab := goodImage(t)
			c.apply(t, img, tab)
			sgBad, sgOut := sgdiskProblems(t, img)
			d := openT(t, img)
			rep, err := d.Verify(context.Background())
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			for _, k := range c.want {
				if !rep.Has(k) {
					t.Errorf("Verify missed %v; got %v", k, rep.Problems)
				}
			}
			if sgBad == c.sgdiskSilent {
				t.Errorf("sgdisk -v found problems=%v, expected %v:\n%s", sgBad, !c.sgdiskSilent, sgOut)
			}
			if sgBad && rep.OK() {
				t.Errorf("sgdisk -v finds problems we do not:\n%s", sgOut)
			}
			_, _, err = d.Repair(context.Background())
			if !c.repairable {
				if err == nil {
					t.Fatalf("Repair fixed %s, which no copy can fix", c.name)
				}
				return
			}
			if err != nil {
				t.Fatalf("Repair: %v", err)
			}
			if rep, err := d.Verify(context.Background()); err != nil || !rep.OK() {
				t.Errorf("after Repair: %v %v", rep.Problems, err)
			}
			sgdiskClean(t, img)
			// The partitions survived the repair.
			back := mustRead(t, d)
			if len(back.Partitions) != len(tab.Partitions) {
				t.Errorf("repair lost partitions: %+v", back.Partitions)
			}
		})
	}
}

func TestNoTableVersusUnreadable(t *testing.T) {
	img := image(t, 8<<20)
	d := openT(t, img)
	if _, err := d.Read(context.Background()); err != ErrNoTable {
		t.Errorf("blank disk: %v, want ErrNoTable", err)
	}
	img2, _ := goodImage(t)
	testenv.PatchFile(t, img2, 512+60, []byte{0xff})
	testenv.PatchFile(t, img2, (64<<20/512-1)*512+60, []byte{0xff})
	d2 := openT(t, img2)
	if _, err := d2.Read(context.Background()); !errorsIs(err, ErrUnreadable) || errorsIs(err, ErrNoTable) {
		t.Errorf("both copies damaged: %v, want ErrUnreadable", err)
	}
}
