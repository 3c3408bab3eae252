package safety

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestPartitionTableRangesMatchSfdisk saves before-images of a table's
// ranges and compares them, name by name and byte by byte, with what
// `sfdisk --backup-pt-sectors` writes for the same image.
func TestPartitionTableRangesMatchSfdisk(t *testing.T) {
	sf := testenv.RequireTool(t, "sfdisk")[0]
	ctx := context.Background()
	for _, kind := range []string{TableGPT, TableDOS} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			img := filepath.Join(dir, "disk.img")
			if err := os.WriteFile(img, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			os.Truncate(img, 64<<20)
			cmd := exec.Command(sf, "-q", img)
			cmd.Stdin = strings.NewReader("label: " + kind + "\nsize=10MiB\n")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sfdisk: %v: %s", err, out)
			}
			bk := filepath.Join(dir, "bk")
			os.Mkdir(bk, 0o700)
			testenv.Run(t, "sfdisk", "-q", "--backup-pt-sectors", "-O", filepath.Join(bk, "sfdisk"), img)
			theirs, _ := filepath.Glob(filepath.Join(bk, "*.bak"))

			rs, err := PartitionTableRanges(kind, 64<<20, 512)
			if err != nil {
				t.Fatal(err)
			}
			id, _ := IdentityOf(ctx, img)
			j := openJ(t, filepath.Join(dir, "state"))
			m, err := j.Begin(ctx, Intent{Op: "partition.write", Target: id, Ranges: rs})
			if err != nil {
				t.Fatal(err)
			}
			m.Cancel(ctx, nil)
			if len(m.Images()) != len(theirs) {
				t.Fatalf("%d images, sfdisk wrote %d: %v", len(m.Images()), len(theirs), theirs)
			}
			for _, im := range m.Images() {
				want, err := os.ReadFile(filepath.Join(bk, filepath.Base(im.File)))
				if err != nil {
					t.Fatalf("sfdisk has no %s: %v", filepath.Base(im.File), err)
				}
				if got := mustRead(t, j.ImagePath(im)); !bytes.Equal(got, want) {
					t.Fatalf("%s differs from sfdisk's", filepath.Base(im.File))
				}
			}
		})
	}
	for _, bad := range []struct {
		kind     string
		size, ss int64
	}{{"bsd", 1 << 20, 512}, {TableGPT, 1 << 20, 1024}, {TableGPT, 4096, 512}, {TableDOS, 100, 512}} {
		if _, err := PartitionTableRanges(bad.kind, bad.size, bad.ss); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v accepted", bad)
		}
	}
	if rs, _ := PartitionTableRanges(TableGPT, 64<<20, 4096); len(rs) != 5 || rs[2].Offset != 8192 || rs[4].Offset != 64<<20-4096 {
		t.Fatalf("4K ranges %v", rs)
	}
}
