package blockdevtest

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestLayoutLikeTheKernel(t *testing.T) {
	tr := Sample(t.TempDir())
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	for link, want := range map[string]string{
		"/sys/block/sda":        "../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda",
		"/sys/dev/block/259:1":  "../../devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p1",
		"/sys/class/block/dm-0": "../../devices/virtual/block/dm-0",
		"/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/device": "../../../0:0:0:0",
		"/sys/devices/virtual/block/md0/slaves/sda2":                                           "../../../../pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2",
	} {
		got, err := os.Readlink(tr.Path(link))
		if err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", link, got, err, want)
		}
		if _, err := os.Stat(tr.Path(link)); err != nil {
			t.Errorf("%s does not resolve: %v", link, err)
		}
	}
	if b, err := os.ReadFile(tr.Path("/proc/self/mountinfo")); err != nil || !contains(string(b), `/srv/my\040data`) {
		t.Errorf("mountinfo does not escape spaces: %q %v", b, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestErrorsAreSticky(t *testing.T) {
	tr := New(t.TempDir())
	tr.AddPartition("sdx", "sdx1", 8, 1, 1, 0, 512)
	tr.Virtio("vda", 0, 0, 1<<20)
	if !errors.Is(tr.Err(), ErrUnknownDevice) {
		t.Fatalf("err = %v", tr.Err())
	}
	if _, err := os.Lstat(tr.Path("/sys/block/vda")); err == nil {
		t.Error("a call after the first error still built something")
	}
	tr2 := New(t.TempDir())
	tr2.Virtio("vda", 0, 0, 1<<20)
	tr2.Virtio("vda", 0, 0, 1<<20)
	if tr2.Err() == nil {
		t.Error("duplicate device accepted")
	}
	if got := letters(0) + letters(25) + letters(26) + letters(701) + letters(702); got != "azaazzaaa" {
		t.Errorf("letters = %q", got)
	}
}
