package safety

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestCorpusRefusesFormat attaches every image of util-linux's blkid test
// corpus (filesystems, RAID members, containers, partition tables that no
// one here made; scripts/util-linux-tests.sh fetches them) as a loop device and
// asks preflight whether it may be formatted, as examples/preflight --op
// format --min-size 1 does. Not one may be allowed, and a zeroed device of
// the same size must be.
func TestCorpusRefusesFormat(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "losetup", "cp")
	imgs := testenv.BlkidCorpus(t)
	byCode := map[Code]int{}
	for _, img := range imgs {
		name := filepath.Base(filepath.Dir(img)) + "/" + strings.TrimSuffix(filepath.Base(img), ".img")
		t.Run(name, func(t *testing.T) {
			// A private sparse copy: the cache stays untouched, and a
			// read-only loop device would be refused for that alone.
			cp := filepath.Join(t.TempDir(), filepath.Base(img))
			testenv.Run(t, "cp", "--sparse=always", img, cp)
			fi, err := os.Stat(cp)
			if err != nil {
				t.Fatal(err)
			}
			dev := testenv.LoopFile(t, cp)
			r := check(t, dev, OpFormat, WithMinSize(1))
			if r.Allowed {
				t.Fatalf("formatting %s is allowed: %s", name, r)
			}
			emptiness := []Code{CodeNotEmpty, CodeUnrecognizedData, CodeLVMMember, CodeMDMember}
			codes := r.Codes()
			if !slices.ContainsFunc(codes, func(c Code) bool { return slices.Contains(emptiness, c) }) {
				t.Fatalf("refused, but not for what it holds: %v", codes)
			}
			for _, c := range codes {
				byCode[c]++
			}
			// Firmware RAID and md members are array members: wiping or
			// resizing them breaks an array, so they say so by code.
			if strings.HasSuffix(name, "-raid") || strings.HasSuffix(name, "/mdraid") {
				if !r.Has(CodeMDMember) {
					t.Fatalf("a RAID member image without %s: %v", CodeMDMember, codes)
				}
			}
			zero := testenv.Loop(t, fi.Size())
			if r := check(t, zero, OpFormat, WithMinSize(1)); !r.Allowed {
				t.Fatalf("a zeroed device of the same size (%d bytes) is refused: %s", fi.Size(), r)
			}
		})
	}
	t.Logf("%d images refused; codes: %v", len(imgs), byCode)
}
