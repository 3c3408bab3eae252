package safety

import "fmt"

// Table kinds for PartitionTableRanges.
const (
	TableGPT = "gpt"
	TableDOS = "dos"
)

// gptEntriesBytes is the standard GPT entry array: 128 entries of 128 bytes.
const gptEntriesBytes = 128 * 128

// PartitionTableRanges returns the byte ranges a partition-table write
// overwrites, the same ones `sfdisk --backup-pt-sectors` saves (so the
// before-image files carry the same names and sizes): for dos the MBR
// sector; for gpt the protective MBR, the header, the entry array, and at
// the end of the device the backup entry array and backup header.
// Logical (extended) dos partitions keep their EBRs inside the extended
// partition; a caller rewriting them adds those sectors itself.
func PartitionTableRanges(kind string, size, sectorSize int64) ([]Range, error) {
	if sectorSize != 512 && sectorSize != 4096 {
		return nil, fmt.Errorf("%w: sector size %d", ErrInvalid, sectorSize)
	}
	switch kind {
	case TableDOS:
		if size < sectorSize {
			return nil, fmt.Errorf("%w: device of %d bytes holds no table", ErrInvalid, size)
		}
		return []Range{{0, sectorSize}}, nil
	case TableGPT:
		entries := int64(gptEntriesBytes)
		if entries%sectorSize != 0 {
			entries += sectorSize - entries%sectorSize
		}
		if size < 2*(2*sectorSize+entries) || size%sectorSize != 0 {
			return nil, fmt.Errorf("%w: device of %d bytes cannot hold a GPT", ErrInvalid, size)
		}
		return []Range{
			{0, sectorSize},
			{sectorSize, sectorSize},
			{2 * sectorSize, entries},
			{size - sectorSize - entries, entries},
			{size - sectorSize, sectorSize},
		}, nil
	}
	return nil, fmt.Errorf("%w: table kind %q", ErrInvalid, kind)
}
