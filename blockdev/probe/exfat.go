package probe

import "fmt"

const (
	exfatMagic         = "EXFAT   " // file system name, 3 bytes into the boot sector
	exfatFirstCluster  = 2
	exfatLastCluster   = 0xffffff6
	exfatEntrySize     = 32
	exfatEntryEOD      = 0x00
	exfatEntryLabel    = 0x83
	exfatMaxEntries    = 10000 // blkid's bound on the root-directory walk
	exfatDirWindow     = 4096  // directory bytes fetched per read
	exfatLabelMaxBytes = 22    // 11 UTF-16 units
)

// exfatSB holds the boot-sector fields the label search needs.
type exfatSB struct {
	blockBits, bpcBits uint8
	fatStart           uint32 // in blocks
	heapStart          uint32 // first data block
	rootCluster        uint32
}

// clusterSize is the cluster size as blkid computes it: 32-bit shifts whose
// count the CPU takes modulo 32, so absurd shift fields give 0 (rejected)
// or a wrapped size rather than an overflow.
func (e *exfatSB) clusterSize() uint32 {
	return (uint32(1) << (e.blockBits & 31)) << (e.bpcBits & 31)
}

func (e *exfatSB) clusterOffset(cluster uint32) uint64 {
	block := uint64(e.heapStart) + uint64(cluster-exfatFirstCluster)<<(e.bpcBits&63)
	return block << (e.blockBits & 63)
}

// probeExFAT checks blkid's only conditions (the name and a non-zero
// cluster size), then looks for the volume-label entry in the root
// directory. UUID is the volume serial as XXXX-XXXX, VERSION major.minor.
func probeExFAT(s *source) (*sb, error) {
	b := s.headAt(0, 0x71) // through allocated_percent
	if b == nil || !hasAt(b, 3, exfatMagic) {
		return nil, nil
	}
	e := &exfatSB{
		fatStart:    le.Uint32(b[0x50:]),
		heapStart:   le.Uint32(b[0x58:]),
		rootCluster: le.Uint32(b[0x60:]),
		blockBits:   b[0x6c],
		bpcBits:     b[0x6d],
	}
	if e.clusterSize() == 0 {
		return nil, nil
	}
	r := &sb{version: itoa(uint32(b[0x69])) + "." + itoa(uint32(b[0x68]))}
	ent, err := exfatFindLabel(s, e)
	if err != nil && err != errBudget {
		return nil, err
	}
	if ent != nil {
		n := int(ent[1]) * 2
		if n > exfatLabelMaxBytes {
			n = exfatLabelMaxBytes
		}
		r.label = utf16Label(ent[2:2+n], false)
	}
	if serial := b[0x64:0x68]; !isZero(serial) {
		r.uuid = fmt.Sprintf("%02X%02X-%02X%02X", serial[3], serial[2], serial[1], serial[0])
	}
	return r, nil
}

// exfatFindLabel walks the root directory's entries, following the FAT at
// each cluster boundary, up to the end-of-directory entry. blkid reads one
// 32-byte entry at a time; the walk here reads a window of entries at once
// (never past the cluster or the device) and answers the same.
func exfatFindLabel(s *source, e *exfatSB) ([]byte, error) {
	csize := uint64(e.clusterSize())
	cluster := e.rootCluster
	off := e.clusterOffset(cluster)
	var win []byte
	var winOff uint64
	var fat vfatFATWindow
	for i := 0; i < exfatMaxEntries; i++ {
		if win == nil || off < winOff || off+exfatEntrySize > winOff+uint64(len(win)) {
			var err error
			if win, winOff, err = exfatWindow(s, off, csize); win == nil {
				return nil, err
			}
		}
		ent := win[off-winOff : off-winOff+exfatEntrySize]
		switch ent[0] {
		case exfatEntryEOD:
			return nil, nil
		case exfatEntryLabel:
			return ent, nil
		}
		off += exfatEntrySize
		if off%csize == 0 {
			next, err := exfatNextCluster(s, e, &fat, cluster)
			if err != nil {
				return nil, err
			}
			if next < exfatFirstCluster || next > exfatLastCluster {
				return nil, nil
			}
			cluster = next
			off = e.clusterOffset(cluster)
		}
	}
	return nil, nil
}

// exfatWindow reads up to exfatDirWindow bytes of directory from off,
// stopping at the end of the cluster and of the device; nil when not even
// one entry lies inside the device.
func exfatWindow(s *source, off, csize uint64) ([]byte, uint64, error) {
	size := uint64(s.size)
	if off > size || size-off < exfatEntrySize {
		return nil, 0, nil
	}
	n := uint64(exfatDirWindow)
	if left := csize - off%csize; left < n {
		n = left
	}
	if size-off < n {
		n = size - off
	}
	n -= n % exfatEntrySize
	if n < exfatEntrySize {
		n = exfatEntrySize
	}
	b, err := ntfsAt(s, off, int(n))
	return b, off, err
}

// exfatNextCluster reads the cluster's FAT entry; 0 (no next cluster) when
// the entry lies outside the device, as blkid treats it. A window of the
// FAT is kept, as for FAT32, since a directory's clusters are usually
// neighbours.
func exfatNextCluster(s *source, e *exfatSB, fat *vfatFATWindow, cluster uint32) (uint32, error) {
	off := uint64(e.fatStart)<<(e.blockBits&63) + uint64(cluster)*4
	next, ok, err := fat.entry(s, off, 4)
	if !ok {
		return 0, err
	}
	return next, nil
}
