package fsys

import (
	"errors"
	"strings"
	"testing"
)

func TestMakeOptionsValidate(t *testing.T) {
	uuid := "6b1c7d4e-2f0a-4c1e-9d3b-5a7e8f901234"
	cases := []struct {
		t    Type
		o    MakeOptions
		ok   bool
		name string
	}{
		{Ext4, MakeOptions{}, true, "zero"},
		{Ext4, MakeOptions{Label: strings.Repeat("a", 16), UUID: uuid, BlockSize: 1024, Features: []string{"^has_journal", "bigalloc", "64bit", "metadata_csum"}}, true, "ext all"},
		{Ext4, MakeOptions{Label: strings.Repeat("a", 17)}, false, "ext label 17"},
		{Ext2, MakeOptions{BlockSize: 65536}, true, "ext 64k"},
		{Ext3, MakeOptions{BlockSize: 512}, false, "ext 512"},
		{Ext4, MakeOptions{BlockSize: 3000}, false, "ext not pow2"},
		{Ext4, MakeOptions{SectorSize: 4096}, false, "ext sector size"},
		{Ext4, MakeOptions{Features: []string{"reflink"}}, false, "ext unknown feature"},
		{Ext4, MakeOptions{Features: []string{"bigalloc", "^bigalloc"}}, false, "ext feature twice"},
		{Ext4, MakeOptions{ExtUndoFile: "/tmp/u"}, true, "ext undo"},
		{XFS, MakeOptions{ExtUndoFile: "/tmp/u"}, false, "xfs undo"},
		{Ext4, MakeOptions{UUID: "not-a-uuid"}, false, "ext bad uuid"},
		{Ext4, MakeOptions{PageSize: 4096}, false, "ext page size"},
		{XFS, MakeOptions{Label: strings.Repeat("x", 12), UUID: uuid, BlockSize: 4096, SectorSize: 4096, Features: []string{"crc=1", "reflink", "^bigtime", "sparse=0", "ftype=1"}}, true, "xfs all"},
		{XFS, MakeOptions{Label: strings.Repeat("x", 13)}, false, "xfs label 13"},
		{XFS, MakeOptions{Label: "-L"}, false, "xfs label dash"},
		{XFS, MakeOptions{BlockSize: 1024, SectorSize: 4096}, false, "xfs sector over block"},
		{XFS, MakeOptions{Features: []string{"crc=2"}}, false, "xfs crc=2"},
		{XFS, MakeOptions{Features: []string{"^crc=1"}}, false, "xfs ^ and ="},
		{XFS, MakeOptions{Features: []string{"bigalloc"}}, false, "xfs ext feature"},
		{Btrfs, MakeOptions{Label: strings.Repeat("b", 255), UUID: uuid, BlockSize: 16384, SectorSize: 4096, Features: []string{"no-holes", "^free-space-tree"}}, true, "btrfs all"},
		{Btrfs, MakeOptions{Label: strings.Repeat("b", 256)}, false, "btrfs label 256"},
		{Btrfs, MakeOptions{BlockSize: 4096, SectorSize: 8192}, false, "btrfs node under sector"},
		{VFAT, MakeOptions{Label: "EFI SYSTEM", UUID: "1A2B-3C4D", BlockSize: 4096, SectorSize: 512, Features: []string{"fat32"}}, true, "vfat all"},
		{VFAT, MakeOptions{UUID: "1a2b3c4d"}, true, "vfat id plain"},
		{VFAT, MakeOptions{UUID: uuid}, false, "vfat full uuid"},
		{VFAT, MakeOptions{Label: "TWELVE CHARS"}, false, "vfat label 12"},
		{VFAT, MakeOptions{Label: "A/B"}, false, "vfat slash"},
		{VFAT, MakeOptions{Label: " LEAD"}, false, "vfat leading space"},
		{VFAT, MakeOptions{Label: "caf\u00e9"}, false, "vfat non ascii"},
		{VFAT, MakeOptions{Features: []string{"fat16", "fat32"}}, false, "vfat two sizes"},
		{VFAT, MakeOptions{BlockSize: 512 * 256}, false, "vfat cluster 256 sectors"},
		{Swap, MakeOptions{Label: strings.Repeat("s", 15), UUID: uuid, PageSize: 65536}, true, "swap all"},
		{Swap, MakeOptions{Label: strings.Repeat("s", 16)}, false, "swap label 16 (mkswap cuts the 16th byte)"},
		{Swap, MakeOptions{PageSize: 2048}, false, "swap page 2k"},
		{Swap, MakeOptions{BlockSize: 4096}, false, "swap block size"},
		{Swap, MakeOptions{Features: []string{"x"}}, false, "swap feature"},
		{Ext4, MakeOptions{Label: "a\nb"}, false, "newline"},
		{Type("zfs"), MakeOptions{}, false, "unknown type"},
	}
	for _, c := range cases {
		err := c.o.Validate(c.t)
		if (err == nil) != c.ok {
			t.Errorf("%s: Validate(%s) = %v, want ok=%v", c.name, c.t, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", c.name, err)
		}
	}
}

func TestParseFeature(t *testing.T) {
	cases := []struct {
		t    Type
		s    string
		want Feature
	}{
		{Ext4, "^has_journal", Feature{Name: "has_journal"}},
		{Ext4, "bigalloc", Feature{Name: "bigalloc", Enable: true}},
		{XFS, "crc=0", Feature{Name: "crc", Section: "m"}},
		{XFS, "reflink", Feature{Name: "reflink", Enable: true, Section: "m"}},
		{XFS, "sparse=1", Feature{Name: "sparse", Enable: true, Section: "i"}},
		{XFS, "^ftype", Feature{Name: "ftype", Section: "n"}},
		{Btrfs, "^no-holes", Feature{Name: "no-holes"}},
		{VFAT, "fat12", Feature{Name: "fat12", Enable: true}},
	}
	for _, c := range cases {
		got, err := ParseFeature(c.t, c.s)
		if err != nil || got != c.want {
			t.Errorf("ParseFeature(%s, %q) = %+v, %v; want %+v", c.t, c.s, got, err, c.want)
		}
	}
	if _, err := ParseFeature(VFAT, "^fat32"); !errors.Is(err, ErrInvalid) {
		t.Errorf("^fat32: %v", err)
	}
}

func TestFatVolumeID(t *testing.T) {
	for in, want := range map[string]string{"1A2B-3C4D": "1a2b3c4d", "deadBEEF": "deadbeef"} {
		if got, err := fatVolumeID(in); err != nil || got != want {
			t.Errorf("fatVolumeID(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "1A2B3C4", "1A2B-3C4G", "1A2B_3C4D", "123456789"} {
		if _, err := fatVolumeID(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("fatVolumeID(%q): %v", in, err)
		}
	}
}
