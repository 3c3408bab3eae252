package fsys

import "github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"

// Type is a filesystem type by blkid's name.
type Type string

const (
	Ext2  Type = "ext2"
	Ext3  Type = "ext3"
	Ext4  Type = "ext4"
	XFS   Type = "xfs"
	Btrfs Type = "btrfs"
	VFAT  Type = "vfat"
	Swap  Type = "swap"
)

// Types lists every type fsys has a driver for, in a stable order.
var Types = []Type{Ext2, Ext3, Ext4, XFS, Btrfs, VFAT, Swap}

// Valid reports whether fsys has a driver for t.
func (t Type) Valid() bool {
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// IsExt reports whether t is ext2, ext3 or ext4.
func (t Type) IsExt() bool { return t == Ext2 || t == Ext3 || t == Ext4 }

// State is the superblock's consistency state.
type State = superblock.State

// Device is one member of a multi-device filesystem.
type Device = superblock.Device
