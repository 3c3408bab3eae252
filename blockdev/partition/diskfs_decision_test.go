package partition

import (
	"context"
	"os"
	"testing"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// These tests are the evidence for owning the format code rather than using
// github.com/diskfs/go-diskfs (doc.go, "Why not go-diskfs"). Each asserts
// the go-diskfs behaviour we found, so an upgrade that changes it fails
// here and the decision can be revisited.

type orderFile struct {
	*os.File
	offsets []int64
}

func (o *orderFile) WriteAt(p []byte, off int64) (int, error) {
	o.offsets = append(o.offsets, off)
	return o.File.WriteAt(p, off)
}

// go-diskfs writes the protective MBR first, before either GPT copy; the
// issue's order (and ours) writes it last, after both copies are durable.
func TestDiskfsWritesProtectiveMBRFirst(t *testing.T) {
	img := image(t, 16<<20)
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	of := &orderFile{File: f}
	tab := &gpt.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, ProtectiveMBR: true,
		Partitions: []*gpt.Partition{{Index: 1, Start: 2048, End: 4095, Type: gpt.LinuxFilesystem}}}
	if err := tab.Write(of, 16<<20); err != nil {
		t.Fatal(err)
	}
	if len(of.offsets) == 0 || of.offsets[0] >= 512 {
		t.Fatalf("go-diskfs write offsets %v: expected the MBR (sector 0) first", of.offsets)
	}
	// Ours: sector 0 is the last write.
	d := openT(t, img)
	ours, _ := NewGPT(d.Geometry())
	steps, err := d.Plan(context.Background(), ours)
	if err != nil {
		t.Fatal(err)
	}
	if last := steps[len(steps)-1]; last.Offset != 0 {
		t.Errorf("our last write is %s at %d", last.What, last.Offset)
	}
}

// go-diskfs writes overlapping partitions without complaint; Validate
// refuses them before anything is written.
func TestDiskfsAcceptsOverlap(t *testing.T) {
	img := image(t, 16<<20)
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab := &gpt.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, ProtectiveMBR: true,
		Partitions: []*gpt.Partition{
			{Index: 1, Start: 2048, End: 8191, Type: gpt.LinuxFilesystem},
			{Index: 2, Start: 4096, End: 10239, Type: gpt.LinuxFilesystem},
		}}
	if err := tab.Write(f, 16<<20); err != nil {
		t.Fatalf("go-diskfs now refuses overlap (%v): revisit the decision", err)
	}
	d := openT(t, img)
	r, err := d.Verify(context.Background())
	if err != nil || !r.Has(ErrOverlap) {
		t.Errorf("our Verify of go-diskfs's table: %v %v, want ErrOverlap", r.Problems, err)
	}
}

// go-diskfs's MBR reader returns the four primary slots only: logical
// partitions in the extended partition's EBR chain are not read.
func TestDiskfsMBRMissesLogicalPartitions(t *testing.T) {
	testenv.RequireTool(t, "sfdisk")
	img := image(t, 64<<20)
	script := "label: dos\nstart=2048, size=8192, type=83\nstart=10240, size=40960, type=5\nstart=12288, size=8192, type=83\nstart=22528, size=8192, type=82\n"
	if _, err := runStdin("sfdisk", script, "-q", img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := mbr.Read(f, 512, 512)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range tab.Partitions {
		if p.Type != mbr.Empty {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("go-diskfs read %d partitions; expected 2 (primary + extended, no logicals)", n)
	}
	ours := mustRead(t, openT(t, img))
	if len(ours.Partitions) != 4 {
		t.Errorf("we read %d partitions, want 4", len(ours.Partitions))
	}
}
