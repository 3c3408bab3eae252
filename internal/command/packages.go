package command

// packageTools lists, per Debian 12 package, the tools the project runs from
// it, so a missing tool says what to install. Entries of installed packages
// are checked against dpkg -S by TestDebianPackagesDpkg. Debian 12 details:
// sfdisk and fdisk are in fdisk, not util-linux; losetup, mount and swapon
// are in mount; swaplabel is util-linux; partprobe is parted.
var packageTools = map[string][]string{
	"e2fsprogs": {"mkfs.ext2", "mkfs.ext3", "mkfs.ext4", "mke2fs", "e2fsck", "fsck.ext4", "resize2fs",
		"tune2fs", "dumpe2fs", "e2undo", "e2label", "debugfs"},
	"xfsprogs": {"mkfs.xfs", "xfs_repair", "xfs_admin", "xfs_growfs", "xfs_info", "xfs_db", "xfs_quota",
		"xfs_freeze"},
	"btrfs-progs": {"mkfs.btrfs", "btrfs", "btrfstune"},
	"dosfstools":  {"mkfs.vfat", "mkfs.fat", "fsck.fat", "fsck.vfat", "fatlabel"},
	"util-linux": {"mkswap", "swaplabel", "blkid", "lsblk", "wipefs", "fsfreeze", "blkdiscard", "blockdev",
		"findmnt"},
	"fdisk":                   {"sfdisk", "fdisk"},
	"mount":                   {"losetup", "mount", "umount", "swapon", "swapoff"},
	"lvm2":                    {"lvm"},
	"dmsetup":                 {"dmsetup"},
	"thin-provisioning-tools": {"thin_check", "thin_repair"},
	"zfs-fuse":                {"zpool", "zfs"},
	"gdisk":                   {"sgdisk"},
	"parted":                  {"parted", "partprobe"},
	"smartmontools":           {"smartctl"},
	"quota":                   {"repquota", "setquota"},
}

// debianPackages is packageTools inverted: tool -> package.
var debianPackages = func() map[string]string {
	m := map[string]string{}
	for pkg, tools := range packageTools {
		for _, t := range tools {
			if m[t] != "" {
				panic("command: " + t + " listed in two packages")
			}
			m[t] = pkg
		}
	}
	return m
}()

// DebianPackage returns the Debian package that ships tool (a program name,
// not a path), or "" when the table does not know it.
func DebianPackage(tool string) string { return debianPackages[tool] }
