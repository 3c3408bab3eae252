package probe

import "sort"

// Region is a byte range of a device in which some on-disk format keeps its
// metadata at a fixed place.
type Region struct {
	Off, Len int64
	What     string
}

// Fixed places outside the first and last MiB, from the probers' own offsets.
const (
	mib = 1 << 20
	// Promise FastTrack's farthest metadata copy, in sectors before the end.
	pdcFarthestSector = 3087
	// UDF's anchor 256 blocks before the last block, with 4 KiB blocks.
	udfFarAnchor = 257 * 4096
)

// MetadataRegions lists where a device of size bytes can hold metadata that
// some format puts at a fixed place, merged and clipped to the device:
//
//   - the first MiB: every superblock read from the start (filesystems up to
//     btrfs at 64 KiB, reiserfs, jfs, gfs2, ZFS labels 0 and 1, UDF's
//     recognition sequence and anchor with blocks up to 2 KiB), partition
//     tables' primary copies, LVM, LUKS, bcache, md 1.1/1.2 headers;
//   - the last MiB and 64 KiB: hardware-RAID member metadata (DDF, Intel,
//     LSI, VIA, Silicon Image, NVIDIA, Adaptec, JMicron, HighPoint, most of
//     Promise's copies), md 0.90 and 1.0, DRBD, ZFS labels 2 and 3, the GPT
//     backup, nilfs2's backup superblock and UDF's closing anchors;
//   - a few places beyond: the VMFS volume and filesystem headers at 1 and
//     2 MiB (with UDF's anchor for 4 KiB blocks at 1 MiB, and LUKS2's
//     secondary headers at 2 and 4 MiB), the farthest
//     Promise copy, ext2/3/4's first backup superblock for 1, 2 and 4 KiB
//     blocks, and btrfs's superblock mirrors at 64 MiB and 256 GiB.
//
// Safety's emptiness check reads these (about 2.2 MiB) and calls a device
// with nonzero bytes there, and no recognised signature, not empty.
func MetadataRegions(size int64) []Region {
	if size <= 0 {
		return nil
	}
	rs := []Region{
		{0, mib, "first MiB"},
		{size - mib - 64<<10, mib + 64<<10, "last MiB and 64 KiB"},
		{mib, 64 << 10, "VMFS volume header, UDF anchor (4 KiB blocks)"},
		{2 * mib, 64 << 10, "VMFS filesystem header, LUKS2 secondary header"},
		{4 * mib, 4096, "LUKS2 secondary header (4 MiB)"},
		{size - pdcFarthestSector*512, 512, "Promise FastTrack metadata copy"},
		{size - udfFarAnchor, 4096, "UDF anchor 256 blocks before the end"},
		{8193 * 1024, 1024, "ext superblock backup (1 KiB blocks)"},
		{16384 * 2048, 2048, "ext superblock backup (2 KiB blocks)"},
		{32768 * 4096, 4096, "ext superblock backup (4 KiB blocks)"},
		{64 * mib, 4096, "btrfs superblock mirror 1"},
		{256 << 30, 4096, "btrfs superblock mirror 2"},
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Off < 0 {
			r.Len += r.Off
			r.Off = 0
		}
		if r.Off+r.Len > size {
			r.Len = size - r.Off
		}
		if r.Len > 0 {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Off < out[j].Off })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && r.Off <= merged[n-1].Off+merged[n-1].Len {
			last := &merged[n-1]
			if end := r.Off + r.Len; end > last.Off+last.Len {
				last.Len = end - last.Off
			}
			continue
		}
		merged = append(merged, r)
	}
	return merged
}
