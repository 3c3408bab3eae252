package probe

// Result is what a probe finds on one device or image: the values of
// `blkid -p -o export` under Go names. A field blkid would not print is empty
// (or zero with its presence flag false).
type Result struct {
	// Superblock of a filesystem or container (empty when none).
	Type    string // TYPE: ext4, xfs, btrfs, swap, vfat, LVM2_member, crypto_LUKS, iso9660, squashfs...
	Usage   string // USAGE as blkid -p reports it: filesystem, other, crypto, raid
	Version string // VERSION where blkid prints one
	UUID    string // UUID
	UUIDSub string // UUID_SUB (btrfs device uuid)
	Label   string // LABEL
	// BlockSize and similar blkid extras are deliberately not carried.

	// Partition table found on the device itself (empty when none).
	PTType string // PTTYPE: gpt or dos
	PTUUID string // PTUUID

	// Partition entry that describes this device in its parent's table
	// (only for partitions; HasPartEntry false otherwise).
	HasPartEntry    bool
	PartEntryScheme string // PART_ENTRY_SCHEME: gpt or dos
	PartEntryUUID   string // PART_ENTRY_UUID
	PartEntryName   string // PART_ENTRY_NAME (GPT only)
	PartEntryType   string // PART_ENTRY_TYPE: GUID for gpt, 0xNN for dos
	PartEntryNumber int    // PART_ENTRY_NUMBER
	PartEntryOffset uint64 // PART_ENTRY_OFFSET, in 512-byte sectors
	PartEntrySize   uint64 // PART_ENTRY_SIZE, in 512-byte sectors
	PartEntryDisk   string // PART_ENTRY_DISK, maj:min of the whole disk
	PartEntryFlags  uint64 // PART_ENTRY_FLAGS: GPT attributes or dos boot flag 0x80; blkid prints it when nonzero

	// Ambiguous lists every signature type found when more than one
	// conflicting one was (blkid reports "ambivalent result"). Type is empty then.
	Ambiguous []string
}

// Empty reports whether nothing at all was found: no superblock, no table and
// no ambiguity. A partition entry in the parent does not make a device non-empty.
func (r *Result) Empty() bool {
	return r.Type == "" && r.PTType == "" && len(r.Ambiguous) == 0
}
