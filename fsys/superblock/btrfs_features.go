package superblock

import "strconv"

// btrfs feature bits and their names (btrfs-progs' lowercase feature
// names, as mkfs.btrfs -O and /sys/fs/btrfs/features spell them).
type btrfsFeature struct {
	bit  uint64
	name string
}

var btrfsCompatRONames = []btrfsFeature{
	{1 << 0, "free_space_tree"},
	{1 << 1, "free_space_tree_valid"},
	{1 << 2, "verity"},
	{1 << 3, "block_group_tree"},
}

var btrfsIncompatNames = []btrfsFeature{
	{1 << 0, "mixed_backref"},
	{1 << 1, "default_subvol"},
	{1 << 2, "mixed_groups"},
	{1 << 3, "compress_lzo"},
	{1 << 4, "compress_zstd"},
	{1 << 5, "big_metadata"},
	{1 << 6, "extended_iref"},
	{1 << 7, "raid56"},
	{1 << 8, "skinny_metadata"},
	{1 << 9, "no_holes"},
	{1 << 10, "metadata_uuid"},
	{1 << 11, "raid1c34"},
	{1 << 12, "zoned"},
	{1 << 13, "extent_tree_v2"},
	{1 << 14, "raid_stripe_tree"},
	{1 << 16, "simple_quota"},
}

// Features names the compat_ro and incompat bits that are set (compat has
// none defined), compat_ro first; an unknown bit is "compat_ro_bit_N" or
// "incompat_bit_N" so nothing set is hidden.
func (x *Btrfs) Features() []string {
	var out []string
	add := func(flags uint64, names []btrfsFeature, prefix string) {
		known := uint64(0)
		for _, f := range names {
			known |= f.bit
			if flags&f.bit != 0 {
				out = append(out, f.name)
			}
		}
		for i := 0; i < 64; i++ {
			if rest := flags &^ known; rest&(1<<i) != 0 {
				out = append(out, prefix+"_bit_"+btrfsItoa(i))
			}
		}
	}
	add(x.CompatFlags, nil, "compat")
	add(x.CompatROFlags, btrfsCompatRONames, "compat_ro")
	add(x.IncompatFlags, btrfsIncompatNames, "incompat")
	return out
}

func btrfsItoa(i int) string { return strconv.Itoa(i) }
