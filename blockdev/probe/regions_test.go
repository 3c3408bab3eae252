package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMetadataRegions(t *testing.T) {
	const gib = 1 << 30
	// A 1 GiB device: every region fits; the ext and btrfs places beyond the
	// first MiB stand alone, the 256 GiB mirror is past the end.
	got := MetadataRegions(gib)
	want := []Region{
		{0, mib + 64<<10, "first MiB"},
		{2 * mib, 64 << 10, "VMFS filesystem header, LUKS2 secondary header"},
		{4 * mib, 4096, "LUKS2 secondary header (4 MiB)"},
		{8193 * 1024, 1024, "ext superblock backup (1 KiB blocks)"},
		{32 * mib, 2048, "ext superblock backup (2 KiB blocks)"},
		{64 * mib, 4096, "btrfs superblock mirror 1"},
		{128 * mib, 4096, "ext superblock backup (4 KiB blocks)"},
		{gib - pdcFarthestSector*512, 512, "Promise FastTrack metadata copy"},
		{gib - mib - 64<<10, mib + 64<<10, "last MiB and 64 KiB"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("1 GiB (-want +got):\n%s", diff)
	}
	total := int64(0)
	for _, r := range got {
		total += r.Len
	}
	if total > 2*mib+300<<10 {
		t.Errorf("regions of 1 GiB add up to %d bytes, more than the documented 2.2 MiB", total)
	}
	// A device smaller than 2 MiB is one region: the whole device.
	if got := MetadataRegions(1536 << 10); len(got) != 1 || got[0].Off != 0 || got[0].Len != 1536<<10 {
		t.Errorf("1.5 MiB: %+v, want the whole device once", got)
	}
	if got := MetadataRegions(0); got != nil {
		t.Errorf("empty device: %+v", got)
	}
	// Every region lies inside the device and none overlap, for any size.
	for _, size := range []int64{1, 511, 4096, mib, 3 * mib, 64*mib + 100, 300 * gib} {
		end := int64(0)
		for _, r := range MetadataRegions(size) {
			if r.Off < end || r.Len <= 0 || r.Off+r.Len > size {
				t.Errorf("size %d: bad region %+v after end %d", size, r, end)
			}
			end = r.Off + r.Len
		}
	}
}
