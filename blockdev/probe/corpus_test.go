package probe

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// util-linux's own blkid test images (scripts/util-linux-tests.sh fetches them
// from Debian's util-linux source package): real filesystems, RAID member
// metadata, containers and partition tables that no one here made. Every
// image must get blkid -p's answer, on the image file (as util-linux's own
// test suite probes them) and attached as a loop device.

func corpusName(img string) string {
	return filepath.Base(filepath.Dir(img)) + "/" + strings.TrimSuffix(filepath.Base(img), ".img")
}

func TestCorpusFiles(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	for _, img := range testenv.BlkidCorpus(t) {
		t.Run(corpusName(img), func(t *testing.T) {
			compareWithBlkid(t, img)
		})
	}
}

func TestCorpusLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "blkid", "losetup")
	for _, img := range testenv.BlkidCorpus(t) {
		t.Run(corpusName(img), func(t *testing.T) {
			dev := testenv.LoopFileReadOnly(t, img)
			compareWithBlkid(t, dev)
		})
	}
}
