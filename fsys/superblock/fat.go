package superblock

import (
	"fmt"
	"io"
	"strings"
)

// FAT is a FAT12/16/32 boot sector (BPB) with what fsck.fat -n -v and
// blkid report about it.
type FAT struct {
	Version           string // FAT12, FAT16, FAT32 (by cluster count, as blkid decides)
	OEM               string
	BytesPerSector    int64
	SectorsPerCluster int64
	ClusterSize       int64
	ReservedSectors   uint32
	NumFATs           uint32
	RootEntries       uint32 // FAT12/16; 0 on FAT32
	TotalSectors      uint64
	FATSectors        uint32 // sectors per FAT
	Media             uint8
	Clusters          uint32 // data clusters
	RootCluster       uint32 // FAT32
	FSInfoSector      uint16 // FAT32
	VolumeID          uint32
	UUID              string // volume id as blkid prints it: XXXX-XXXX
	// Label is the root directory's volume-label entry (what blkid calls
	// LABEL); BootLabel the boot sector's copy (blkid's LABEL_FATBOOT).
	// Both are raw bytes with trailing spaces trimmed; "NO NAME" is empty.
	Label     string
	BootLabel string
	// FreeClusters is FSInfo's count on FAT32 when it is known and
	// plausible, else the count of zero entries in the first FAT.
	FreeClusters uint32
	FreeCounted  bool // FreeClusters came from counting the FAT
	// Dirty: the boot sector's dirty flag or FAT[1]'s clean-shutdown bit
	// clear (FAT16/32) says the volume was not cleanly unmounted.
	Dirty bool
}

const (
	fatTyp     = "vfat"
	fat12Max   = 0xFF4
	fat16Max   = 0xFFF4
	fat32Max   = 0x0FFFFFF6
	fatNoName  = "NO NAME    "
	fatDirEnt  = 32
	fatChunk   = 64 << 10 // FAT is counted through the ReaderAt this much at a time
	fatMaxRoot = 4 << 20  // cap on the root directory bytes searched for the label
)

var fatMagics = []struct {
	off   int
	magic string
}{
	{0x52, "MSWIN"}, {0x52, "FAT32   "}, {0x36, "MSDOS"}, {0x36, "FAT16   "},
	{0x36, "FAT12   "}, {0x36, "FAT     "}, {0, "\xeb"}, {0, "\xe9"}, {0x1fe, "\x55\xaa"},
}

// ReadFAT reads the boot sector, the root directory's label entry, FSInfo
// and (when FSInfo does not know) the FAT itself to count free clusters.
func ReadFAT(r io.ReaderAt, size int64) (*FAT, error) {
	if size >= 0 && size < 512 {
		return nil, ErrNotFound
	}
	b, err := extReadAt(r, size, 0, 512, fatTyp, "boot sector")
	if err != nil {
		return nil, err
	}
	weak := true
	found := false
	for _, m := range fatMagics {
		if string(b[m.off:m.off+len(m.magic)]) == m.magic {
			found, weak = true, len(m.magic) <= 2
			break
		}
	}
	if !found {
		return nil, ErrNotFound
	}
	if weak {
		// Only a jump or the 55AA signature: demand the signature and rule
		// out OS/2's FAT-like headers on JFS and HPFS, as blkid does.
		if b[510] != 0x55 || b[511] != 0xAA || string(b[0x36:0x3e]) == "JFS     " || string(b[0x36:0x3e]) == "HPFS    " {
			return nil, ErrNotFound
		}
	}
	f, err := fatDecode(b)
	if err != nil {
		if weak {
			// A jump byte or 55AA alone (an MBR has it) with an impossible
			// BPB is not FAT at all, as blkid decides, not a damaged one.
			return nil, ErrNotFound
		}
		return nil, err
	}
	if err := fatReadRest(r, size, f); err != nil {
		return nil, err
	}
	return f, nil
}

func fatDecode(b []byte) (*FAT, error) {
	u16 := func(o int) uint32 { return uint32(extLE.Uint16(b[o:])) }
	u32 := func(o int) uint32 { return extLE.Uint32(b[o:]) }
	f := &FAT{
		OEM:               strings.TrimRight(string(b[3:11]), " \x00"),
		BytesPerSector:    int64(u16(11)),
		SectorsPerCluster: int64(b[13]),
		ReservedSectors:   u16(14),
		NumFATs:           uint32(b[16]),
		RootEntries:       u16(17),
		TotalSectors:      uint64(u16(19)),
		Media:             b[21],
		FATSectors:        u16(22),
	}
	if f.TotalSectors == 0 {
		f.TotalSectors = uint64(u32(32))
	}
	fat32 := f.FATSectors == 0
	if fat32 {
		f.FATSectors = u32(36)
	}
	switch {
	case f.NumFATs == 0:
		return nil, corrupt(fatTyp, "BPB_NumFATs", "zero")
	case f.ReservedSectors == 0:
		return nil, corrupt(fatTyp, "BPB_RsvdSecCnt", "zero")
	case f.Media < 0xf8 && f.Media != 0xf0:
		return nil, corrupt(fatTyp, "BPB_Media", "0x%02x", f.Media)
	case f.SectorsPerCluster == 0 || f.SectorsPerCluster&(f.SectorsPerCluster-1) != 0:
		return nil, corrupt(fatTyp, "BPB_SecPerClus", "%d, not a power of two", f.SectorsPerCluster)
	case f.BytesPerSector < 512 || f.BytesPerSector > 4096 || f.BytesPerSector&(f.BytesPerSector-1) != 0:
		return nil, corrupt(fatTyp, "BPB_BytsPerSec", "%d", f.BytesPerSector)
	case fat32 && f.FATSectors == 0:
		return nil, corrupt(fatTyp, "BPB_FATSz32", "zero")
	}
	f.ClusterSize = f.BytesPerSector * f.SectorsPerCluster
	rootSecs := (uint64(f.RootEntries)*fatDirEnt + uint64(f.BytesPerSector) - 1) / uint64(f.BytesPerSector)
	meta := uint64(f.ReservedSectors) + uint64(f.NumFATs)*uint64(f.FATSectors) + rootSecs
	if meta >= f.TotalSectors {
		return nil, corrupt(fatTyp, "BPB_TotSec", "%d sectors, metadata needs %d", f.TotalSectors, meta)
	}
	clusters := (f.TotalSectors - meta) / uint64(f.SectorsPerCluster)
	max := uint64(fat32Max)
	if !fat32 {
		max = fat12Max
		if clusters > fat12Max {
			max = fat16Max
		}
	}
	if clusters > max {
		return nil, corrupt(fatTyp, "clusters", "%d exceeds %d", clusters, max)
	}
	f.Clusters = uint32(clusters)
	// The FAT must hold an entry for every cluster.
	bitsPer := uint64(32)
	switch {
	case fat32:
		f.Version = "FAT32"
	case clusters < fat12Max:
		f.Version, bitsPer = "FAT12", 12
	default:
		f.Version, bitsPer = "FAT16", 16
	}
	if need := ((clusters+2)*bitsPer + 7) / 8; need > uint64(f.FATSectors)*uint64(f.BytesPerSector) {
		return nil, corrupt(fatTyp, "BPB_FATSz", "%d sectors hold fewer than %d entries", f.FATSectors, clusters+2)
	}
	ext := 36 // FAT12/16 extended BPB
	if fat32 {
		ext = 64
		f.RootCluster = u32(44)
		f.FSInfoSector = uint16(u16(48))
	}
	sig := b[ext+2]
	if b[ext+1]&0x01 != 0 {
		f.Dirty = true
	}
	if sig == 0x28 || sig == 0x29 || fat32 {
		f.VolumeID = u32(ext + 3)
		v := b[ext+3 : ext+7]
		f.UUID = fmt.Sprintf("%02X%02X-%02X%02X", v[3], v[2], v[1], v[0])
	}
	if sig == 0x29 {
		f.BootLabel = fatLabel(b[ext+7 : ext+18])
	}
	return f, nil
}

// fatLabel trims an 11-byte label's trailing spaces; NO NAME is no label.
func fatLabel(b []byte) string {
	if string(b) == fatNoName {
		return ""
	}
	return strings.TrimRight(string(b), " ")
}

func (f *FAT) sectorOff(sec uint64) int64 { return int64(sec) * f.BytesPerSector }

func (f *FAT) dataStart() uint64 {
	rootSecs := (uint64(f.RootEntries)*fatDirEnt + uint64(f.BytesPerSector) - 1) / uint64(f.BytesPerSector)
	return uint64(f.ReservedSectors) + uint64(f.NumFATs)*uint64(f.FATSectors) + rootSecs
}

// fatReadRest reads the label entry, FSInfo, FAT[1]'s dirty bit and the
// free count.
func fatReadRest(r io.ReaderAt, size int64, f *FAT) error {
	fatOff := f.sectorOff(uint64(f.ReservedSectors))
	entry := func(c uint32) (uint32, error) { return fatEntry(r, size, f, fatOff, c) }
	if f.Version == "FAT32" {
		if err := fatRootLabel32(r, size, f, entry); err != nil {
			return err
		}
	} else {
		rootOff := f.sectorOff(uint64(f.ReservedSectors) + uint64(f.NumFATs)*uint64(f.FATSectors))
		n := min(int64(f.RootEntries)*fatDirEnt, fatMaxRoot)
		if _, _, err := fatScanLabel(r, size, f, rootOff, n); err != nil {
			return err
		}
	}
	// FAT[1]: on FAT16 bit 15, on FAT32 bit 27, is set when the volume was
	// cleanly unmounted; FAT12 has no such bit.
	if f.Version != "FAT12" {
		e1, err := entry(1)
		if err != nil {
			return err
		}
		if (f.Version == "FAT16" && e1&0x8000 == 0) || (f.Version == "FAT32" && e1&0x08000000 == 0) {
			f.Dirty = true
		}
	}
	if f.Version == "FAT32" && f.FSInfoSector != 0 && f.FSInfoSector != 0xFFFF {
		fi, err := extReadAt(r, size, f.sectorOff(uint64(f.FSInfoSector)), 512, fatTyp, "FSInfo")
		if err != nil {
			return err
		}
		if extLE.Uint32(fi[0:]) == 0x41615252 && extLE.Uint32(fi[484:]) == 0x61417272 {
			if free := extLE.Uint32(fi[488:]); free != 0xFFFFFFFF && free <= f.Clusters {
				f.FreeClusters = free
				return nil
			}
		}
	}
	return fatCountFree(r, size, f, fatOff)
}

// fatEntry reads one entry of the first FAT.
func fatEntry(r io.ReaderAt, size int64, f *FAT, fatOff int64, c uint32) (uint32, error) {
	switch f.Version {
	case "FAT12":
		b, err := extReadAt(r, size, fatOff+int64(c)*3/2, 2, fatTyp, "FAT")
		if err != nil {
			return 0, err
		}
		v := uint32(extLE.Uint16(b))
		if c&1 == 1 {
			return v >> 4, nil
		}
		return v & 0xFFF, nil
	case "FAT16":
		b, err := extReadAt(r, size, fatOff+int64(c)*2, 2, fatTyp, "FAT")
		if err != nil {
			return 0, err
		}
		return uint32(extLE.Uint16(b)), nil
	default:
		b, err := extReadAt(r, size, fatOff+int64(c)*4, 4, fatTyp, "FAT")
		if err != nil {
			return 0, err
		}
		return extLE.Uint32(b), nil // the caller masks the top nibble where it matters
	}
}

// fatScanLabel looks for the volume-label entry in n bytes of directory at
// off, as blkid does: stop at the end marker, skip deleted and long-name
// entries and any entry with a cluster, take the first volume-id entry.
func fatScanLabel(r io.ReaderAt, size int64, f *FAT, off, n int64) (found, done bool, err error) {
	for n > 0 {
		step := min(n, fatChunk)
		b, err := extReadAt(r, size, off, int(step), fatTyp, "root directory")
		if err != nil {
			return false, true, err
		}
		for i := 0; i+fatDirEnt <= len(b); i += fatDirEnt {
			e := b[i : i+fatDirEnt]
			switch {
			case e[0] == 0:
				return false, true, nil
			case e[0] == 0xE5, e[20] != 0 || e[21] != 0 || e[26] != 0 || e[27] != 0, e[11]&0x3F == 0x0F:
				continue
			case e[11]&(0x08|0x10) == 0x08:
				name := append([]byte(nil), e[:11]...)
				if name[0] == 0x05 {
					name[0] = 0xE5
				}
				f.Label = fatLabel(name)
				return true, true, nil
			}
		}
		off += step
		n -= step
	}
	return false, false, nil
}

// fatRootLabel32 follows the FAT32 root directory's cluster chain (at most
// 100 clusters, blkid's limit) looking for the label entry.
func fatRootLabel32(r io.ReaderAt, size int64, f *FAT, entry func(uint32) (uint32, error)) error {
	next := f.RootCluster
	for loop := 0; next >= 2 && next < f.Clusters+2 && loop < 99; loop++ {
		off := f.sectorOff(f.dataStart() + uint64(next-2)*uint64(f.SectorsPerCluster))
		found, done, err := fatScanLabel(r, size, f, off, f.ClusterSize)
		if err != nil || found || done {
			return err
		}
		e, err := entry(next)
		if err != nil {
			return err
		}
		next = e & 0x0FFFFFFF
	}
	return nil
}

// fatCountFree counts zero entries for clusters 2..Clusters+1 in the first
// FAT, reading it in bounded chunks.
func fatCountFree(r io.ReaderAt, size int64, f *FAT, fatOff int64) error {
	f.FreeCounted = true
	var bits int64 = 32
	switch f.Version {
	case "FAT12":
		bits = 12
	case "FAT16":
		bits = 16
	}
	total := int64(f.Clusters) + 2
	// Chunks hold a whole number of entries: 2 FAT12 entries are 3 bytes.
	per := int64(fatChunk / 12 * 8) // entries per chunk, a multiple of 2 and of 8
	var free uint32
	for first := int64(0); first < total; first += per {
		n := min(per, total-first)
		nbytes := (n*bits + 7) / 8
		b, err := extReadAt(r, size, fatOff+first*bits/8, int(nbytes), fatTyp, "FAT")
		if err != nil {
			return err
		}
		for i := int64(0); i < n; i++ {
			c := first + i
			if c < 2 {
				continue
			}
			var v uint32
			switch bits {
			case 12:
				o := i * 3 / 2
				w := uint32(b[o])
				if o+1 < int64(len(b)) {
					w |= uint32(b[o+1]) << 8
				}
				if i&1 == 1 {
					v = w >> 4
				} else {
					v = w & 0xFFF
				}
			case 16:
				v = uint32(extLE.Uint16(b[i*2:]))
			default:
				v = extLE.Uint32(b[i*4:]) & 0x0FFFFFFF
			}
			if v == 0 {
				free++
			}
		}
	}
	f.FreeClusters = free
	return nil
}

// Super is the common view. The label is the root directory's, or the boot
// sector's when the root directory has none.
func (f *FAT) Super() Super {
	st := StateClean
	if f.Dirty {
		st = StateNotClean
	}
	label := f.Label
	if label == "" {
		label = f.BootLabel
	}
	return Super{
		Type:       fatTyp,
		Version:    f.Version,
		UUID:       f.UUID,
		Label:      label,
		BlockSize:  f.ClusterSize,
		SectorSize: f.BytesPerSector,
		SizeBytes:  int64(f.Clusters) * f.ClusterSize,
		FreeBytes:  int64(f.FreeClusters) * f.ClusterSize,
		State:      st,
	}
}
