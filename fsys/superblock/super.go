package superblock

// State is what the superblock says about consistency, most severe first
// when several apply.
type State string

const (
	// StateClean: cleanly unmounted (or mounted, with nothing recorded against it).
	StateClean State = "clean"
	// StateNotClean: not cleanly unmounted and no journal or log to replay
	// (ext2 without a journal, FAT's dirty bit): a check is due.
	StateNotClean State = "not_clean"
	// StateNeedsRecovery: the journal (ext3/4) or log (xfs, btrfs log tree)
	// must be replayed, which a mount or the repair tool does.
	StateNeedsRecovery State = "needs_recovery"
	// StateErrors: the filesystem recorded errors (ext's s_state error bit
	// or s_error_count, btrfs's error flag).
	StateErrors State = "errors"
)

// Device is one member of a multi-device filesystem (btrfs).
type Device struct {
	ID         uint64 `json:"devid"`
	UUID       string `json:"dev_uuid,omitempty"`
	Path       string `json:"path,omitempty"` // set by fsys from the kernel (BTRFS_IOC_DEV_INFO), never by a reader
	TotalBytes int64  `json:"total_bytes"`
	UsedBytes  int64  `json:"used_bytes"`
}

// Super is the common view of a superblock.
type Super struct {
	Type    string `json:"type"`              // blkid's name: ext2, ext3, ext4, xfs, btrfs, vfat, swap
	Version string `json:"version,omitempty"` // blkid's VERSION where it has one (FAT12/16/32, 1.0 for ext4, swap's 1)
	UUID    string `json:"uuid,omitempty"`    // as blkid prints it (FAT: XXXX-XXXX)
	Label   string `json:"label,omitempty"`
	// BlockSize is the allocation unit (ext/xfs block, btrfs sectorsize,
	// FAT cluster, the swap page).
	BlockSize int64 `json:"block_size"`
	// SectorSize is the device sector size the filesystem was made for,
	// where it records one (xfs sectsize, FAT bytes per sector).
	SectorSize int64 `json:"sector_size,omitempty"`
	// SizeBytes is the filesystem's own size: blocks times block size
	// (btrfs: total_bytes over all devices; swap: the last page plus one).
	SizeBytes int64 `json:"size_bytes"`
	// FreeBytes is free space as the superblock records it; for FAT, which
	// keeps it only in FSInfo (FAT32) or not at all, the reader counts the
	// FAT. Swap reports zero.
	FreeBytes  int64    `json:"free_bytes"`
	Inodes     uint64   `json:"inodes,omitempty"`
	FreeInodes uint64   `json:"free_inodes,omitempty"`
	Features   []string `json:"features,omitempty"` // the tool's names (dumpe2fs's feature list, xfs_info's flags)
	State      State    `json:"state"`
	// Devices lists a btrfs filesystem's members as far as this device's
	// superblock knows them (its own dev_item; the rest come from the
	// kernel by ioctl when mounted). DevID is the device this superblock
	// was read from; NumDevices the filesystem's count.
	Devices    []Device `json:"devices,omitempty"`
	DevID      uint64   `json:"devid,omitempty"`
	NumDevices uint64   `json:"num_devices,omitempty"`
}
