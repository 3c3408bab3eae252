package superblock

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
)

// XFS is an XFS primary superblock (AG 0's sector 0), with the fields
// `xfs_db -r -c sb -c print` prints under the same names, and what the log's
// head says about the last unmount.
//
// Counters (Icount, Ifree, Fdblocks) are the superblock's copy: with
// lazy-count (every v5 filesystem) the kernel writes them only at unmount
// and freeze, so on a mounted filesystem they are stale; the fsys layer asks
// statfs for a mounted one.
type XFS struct {
	Blocksize  uint32
	Dblocks    uint64
	Rblocks    uint64
	Rextents   uint64
	UUID       string // sb_uuid, which blkid reports
	Logstart   uint64 // an fsblock number (agno << agblklog | agbno); 0: external log
	Rootino    uint64
	Rbmino     uint64
	Rsumino    uint64
	Rextsize   uint32
	Agblocks   uint32
	Agcount    uint32
	Rbmblocks  uint32
	Logblocks  uint32
	Versionnum uint16
	Sectsize   uint16
	Inodesize  uint16
	Inopblock  uint16
	Fname      string // the label, up to its first NUL
	Blocklog   uint8
	Sectlog    uint8
	Inodelog   uint8
	Inopblog   uint8
	Agblklog   uint8
	Rextslog   uint8
	Inprogress uint8
	ImaxPct    uint8
	Icount     uint64
	Ifree      uint64
	Fdblocks   uint64
	Frextents  uint64
	Uquotino   uint64
	Gquotino   uint64
	Qflags     uint16
	Flags      uint8
	SharedVN   uint8
	Inoalignmt uint32
	Unit       uint32
	Width      uint32
	Dirblklog  uint8
	Logsectlog uint8
	// Logsectsize is 0 when the log uses 512-byte sectors (xfs_db prints 0 too).
	Logsectsize         uint16
	Logsunit            uint32
	Features2           uint32
	BadFeatures2        uint32
	FeaturesCompat      uint32 // v5 only, as the four below
	FeaturesROCompat    uint32
	FeaturesIncompat    uint32
	FeaturesLogIncompat uint32
	// CRC is the stored crc32c of the superblock sector (v5) as xfs_db
	// prints it (the little-endian bytes read big-endian); ReadXFS has
	// verified it.
	CRC        uint32
	SpinoAlign uint32
	Pquotino   uint64
	LSN        uint64
	MetaUUID   string // v5; all zeros unless the meta_uuid feature is on

	// Log is what the internal log's head says (see XFSLog).
	Log XFSLog
}

// Version bits and feature bits of the XFS superblock, as xfs_format.h
// names them (without the XFS_SB_ prefix).
const (
	xfsMagic = 0x58465342 // "XFSB"

	xfsVersionNumBits = 0x000f
	xfsVersionAttr    = 0x0010
	xfsVersionLogV2   = 0x0400
	xfsVersionBorg    = 0x4000 // ascii-ci

	xfsF2LazySBCount = 0x0002
	xfsF2Attr2       = 0x0008
	xfsF2ProjID32    = 0x0080
	xfsF2FType       = 0x0200 // v4's ftype; v5 has an incompat bit

	xfsROFinobt     = 1 << 0
	xfsRORmapbt     = 1 << 1
	xfsROReflink    = 1 << 2
	xfsROInobtCount = 1 << 3

	xfsIncFType       = 1 << 0
	xfsIncSpinodes    = 1 << 1
	xfsIncMetaUUID    = 1 << 2
	xfsIncBigtime     = 1 << 3
	xfsIncNeedsRepair = 1 << 4
	xfsIncNrext64     = 1 << 5
	xfsIncExchange    = 1 << 6
	xfsIncParent      = 1 << 7
	xfsIncMetadir     = 1 << 8

	xfsCRCOff     = 224
	xfsSBMinBytes = 264 // through sb_meta_uuid
)

// ReadXFS reads the primary XFS superblock at offset 0 and then the head of
// the internal log. It returns ErrNotFound without the XFSB magic and a
// *CorruptError when the geometry is impossible or a v5 checksum fails. A
// log that cannot be read is not an error: XFS.Log says why.
func ReadXFS(r io.ReaderAt, size int64) (*XFS, error) {
	if size < 512 {
		return nil, ErrNotFound
	}
	head := make([]byte, 512)
	if err := xfsReadFull(r, head, 0); err != nil {
		return nil, err
	}
	be := binary.BigEndian
	if be.Uint32(head) != xfsMagic {
		return nil, ErrNotFound
	}
	sect := int64(be.Uint16(head[102:]))
	if sect < 512 || sect > 32768 || sect&(sect-1) != 0 {
		return nil, corrupt("xfs", "sb_sectsize", "%d is not a power of two in 512..32768", sect)
	}
	if sect > size {
		return nil, corrupt("xfs", "sb_sectsize", "device of %d bytes is shorter than one %d-byte sector", size, sect)
	}
	b := head
	if sect > 512 {
		b = make([]byte, sect)
		if err := xfsReadFull(r, b, 0); err != nil {
			return nil, err
		}
	}
	x := xfsDecode(b)
	if err := x.validate(b); err != nil {
		return nil, err
	}
	x.Log = xfsReadLog(r, size, x)
	return x, nil
}

func xfsReadFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("superblock: xfs: read %d bytes at %d: %w", len(b), off, err)
}

func xfsDecode(b []byte) *XFS {
	be := binary.BigEndian
	x := &XFS{
		Blocksize:           be.Uint32(b[4:]),
		Dblocks:             be.Uint64(b[8:]),
		Rblocks:             be.Uint64(b[16:]),
		Rextents:            be.Uint64(b[24:]),
		UUID:                xfsUUID(b[32:48]),
		Logstart:            be.Uint64(b[48:]),
		Rootino:             be.Uint64(b[56:]),
		Rbmino:              be.Uint64(b[64:]),
		Rsumino:             be.Uint64(b[72:]),
		Rextsize:            be.Uint32(b[80:]),
		Agblocks:            be.Uint32(b[84:]),
		Agcount:             be.Uint32(b[88:]),
		Rbmblocks:           be.Uint32(b[92:]),
		Logblocks:           be.Uint32(b[96:]),
		Versionnum:          be.Uint16(b[100:]),
		Sectsize:            be.Uint16(b[102:]),
		Inodesize:           be.Uint16(b[104:]),
		Inopblock:           be.Uint16(b[106:]),
		Fname:               xfsCString(b[108:120]),
		Blocklog:            b[120],
		Sectlog:             b[121],
		Inodelog:            b[122],
		Inopblog:            b[123],
		Agblklog:            b[124],
		Rextslog:            b[125],
		Inprogress:          b[126],
		ImaxPct:             b[127],
		Icount:              be.Uint64(b[128:]),
		Ifree:               be.Uint64(b[136:]),
		Fdblocks:            be.Uint64(b[144:]),
		Frextents:           be.Uint64(b[152:]),
		Uquotino:            be.Uint64(b[160:]),
		Gquotino:            be.Uint64(b[168:]),
		Qflags:              be.Uint16(b[176:]),
		Flags:               b[178],
		SharedVN:            b[179],
		Inoalignmt:          be.Uint32(b[180:]),
		Unit:                be.Uint32(b[184:]),
		Width:               be.Uint32(b[188:]),
		Dirblklog:           b[192],
		Logsectlog:          b[193],
		Logsectsize:         be.Uint16(b[194:]),
		Logsunit:            be.Uint32(b[196:]),
		Features2:           be.Uint32(b[200:]),
		BadFeatures2:        be.Uint32(b[204:]),
		FeaturesCompat:      be.Uint32(b[208:]),
		FeaturesROCompat:    be.Uint32(b[212:]),
		FeaturesIncompat:    be.Uint32(b[216:]),
		FeaturesLogIncompat: be.Uint32(b[220:]),
		// The crc is stored little-endian (the kernel writes
		// cpu_to_le32); xfs_db prints the bytes read big-endian, and so
		// does CRC.
		CRC:        be.Uint32(b[xfsCRCOff:]),
		SpinoAlign: be.Uint32(b[228:]),
		Pquotino:   be.Uint64(b[232:]),
		LSN:        be.Uint64(b[240:]),
		MetaUUID:   xfsUUID(b[248:264]),
	}
	if x.Version() < 5 {
		// v4 has no such fields; whatever bytes are there mean nothing.
		x.FeaturesCompat, x.FeaturesROCompat, x.FeaturesIncompat, x.FeaturesLogIncompat = 0, 0, 0, 0
		x.CRC, x.SpinoAlign, x.Pquotino, x.LSN = 0, 0, 0, 0
		x.MetaUUID = xfsUUID(make([]byte, 16))
	}
	return x
}

// validate checks what the kernel's xfs_validate_sb_common checks about the
// geometry, enough that the sizes we report and the log offsets we compute
// are meaningful.
func (x *XFS) validate(b []byte) error {
	v := x.Version()
	if v != 4 && v != 5 {
		return corrupt("xfs", "sb_versionnum", "version %d, not 4 or 5", v)
	}
	if v == 5 {
		want := bits.ReverseBytes32(xfsSBChecksum(b))
		if want != x.CRC {
			return corrupt("xfs", "sb_crc", "stored %#x, computed %#x", x.CRC, want)
		}
	}
	if !xfsPow2In(uint64(x.Blocksize), 512, 65536) || 1<<x.Blocklog != x.Blocksize {
		return corrupt("xfs", "sb_blocksize", "%d (blocklog %d)", x.Blocksize, x.Blocklog)
	}
	if 1<<x.Sectlog != uint32(x.Sectsize) || uint32(x.Sectsize) > x.Blocksize {
		return corrupt("xfs", "sb_sectsize", "%d (sectlog %d, blocksize %d)", x.Sectsize, x.Sectlog, x.Blocksize)
	}
	if !xfsPow2In(uint64(x.Inodesize), 256, 2048) || 1<<x.Inodelog != uint32(x.Inodesize) ||
		uint32(x.Inodesize) > x.Blocksize || uint32(x.Inopblock) != x.Blocksize/uint32(x.Inodesize) {
		return corrupt("xfs", "sb_inodesize", "%d (inodelog %d, inopblock %d, blocksize %d)",
			x.Inodesize, x.Inodelog, x.Inopblock, x.Blocksize)
	}
	if x.Agcount == 0 || x.Agblocks < 64 || x.Agblklog > 31 || uint64(x.Agblocks) > 1<<x.Agblklog {
		return corrupt("xfs", "sb_agblocks", "agcount %d, agblocks %d, agblklog %d", x.Agcount, x.Agblocks, x.Agblklog)
	}
	full := uint64(x.Agcount) * uint64(x.Agblocks)
	if x.Dblocks == 0 || x.Dblocks > full || x.Dblocks <= full-uint64(x.Agblocks) {
		return corrupt("xfs", "sb_dblocks", "%d blocks do not fill %d AGs of %d", x.Dblocks, x.Agcount, x.Agblocks)
	}
	if x.Dblocks > (1<<63-1)>>x.Blocklog {
		return corrupt("xfs", "sb_dblocks", "%d blocks of %d bytes overflow", x.Dblocks, x.Blocksize)
	}
	if x.ImaxPct > 100 {
		return corrupt("xfs", "sb_imax_pct", "%d%%", x.ImaxPct)
	}
	return nil
}

// xfsSBChecksum is crc32c over the superblock sector with sb_crc taken as
// zero, which is how xfs_update_cksum computes it.
func xfsSBChecksum(b []byte) uint32 {
	tab := crc32.MakeTable(crc32.Castagnoli)
	var zero [4]byte
	c := crc32.Update(0, tab, b[:xfsCRCOff])
	c = crc32.Update(c, tab, zero[:])
	return crc32.Update(c, tab, b[xfsCRCOff+4:])
}

// Version is the superblock version, 4 or 5 (5: metadata checksums).
func (x *XFS) Version() int { return int(x.Versionnum & xfsVersionNumBits) }

// XFSFlag is one of xfs_info's "name=value" settings.
type XFSFlag struct {
	Name  string
	Value int
}

// InfoFlags returns the feature settings xfs_info prints, with its names
// and values, in its order (attr is 0, 1 or 2; the rest 0 or 1). Flags that
// newer xfsprogs print and older ones do not (exchange, parent, metadir)
// are included so a caller can compare with any version.
func (x *XFS) InfoFlags() []XFSFlag {
	b := func(ok bool) int {
		if ok {
			return 1
		}
		return 0
	}
	v5 := x.Version() == 5
	ro, inc := x.FeaturesROCompat, x.FeaturesIncompat
	attr := 0
	switch {
	case x.Features2&xfsF2Attr2 != 0:
		attr = 2
	case x.Versionnum&xfsVersionAttr != 0:
		attr = 1
	}
	return []XFSFlag{
		{"attr", attr},
		{"projid32bit", b(x.Features2&xfsF2ProjID32 != 0)},
		{"crc", b(v5)},
		{"finobt", b(ro&xfsROFinobt != 0)},
		{"sparse", b(inc&xfsIncSpinodes != 0)},
		{"rmapbt", b(ro&xfsRORmapbt != 0)},
		{"reflink", b(ro&xfsROReflink != 0)},
		{"bigtime", b(inc&xfsIncBigtime != 0)},
		{"inobtcount", b(ro&xfsROInobtCount != 0)},
		{"nrext64", b(inc&xfsIncNrext64 != 0)},
		{"exchange", b(inc&xfsIncExchange != 0)},
		{"metadir", b(inc&xfsIncMetadir != 0)},
		{"ascii-ci", b(x.Versionnum&xfsVersionBorg != 0)},
		{"ftype", b(inc&xfsIncFType != 0 || x.Features2&xfsF2FType != 0)},
		{"parent", b(inc&xfsIncParent != 0)},
		{"lazy-count", b(x.Features2&xfsF2LazySBCount != 0)},
	}
}

// LogVersion is xfs_info's log "version=": 2 with the LOGV2 bit, else 1.
func (x *XFS) LogVersion() int {
	if x.Versionnum&xfsVersionLogV2 != 0 {
		return 2
	}
	return 1
}

// NeedsRepair reports the needsrepair incompat bit: xfs_repair must run
// before the kernel mounts it.
func (x *XFS) NeedsRepair() bool { return x.FeaturesIncompat&xfsIncNeedsRepair != 0 }

// Super is the common view. Features are the names of xfs_info's flags
// that are on ("crc", "finobt", "reflink", "ftype", "lazy-count", ...;
// attr=2 is "attr2", attr=1 "attr"), plus "meta_uuid" and "needsrepair"
// when set. Version is the superblock version ("4", "5"): blkid reports no
// VERSION for xfs. Inodes and FreeInodes are sb_icount and sb_ifree: XFS
// allocates inodes dynamically, so these are the allocated inodes and the
// free ones among them, not a fixed table. State is needs_recovery when
// the log's last record is not an unmount record, not_clean when mkfs did
// not finish (sb_inprogress) or needsrepair is set, clean otherwise
// (including an external log, which is not read).
func (x *XFS) Super() Super {
	var feats []string
	for _, f := range x.InfoFlags() {
		switch {
		case f.Value == 0:
		case f.Name == "attr" && f.Value == 2:
			feats = append(feats, "attr2")
		default:
			feats = append(feats, f.Name)
		}
	}
	if x.FeaturesIncompat&xfsIncMetaUUID != 0 {
		feats = append(feats, "meta_uuid")
	}
	if x.NeedsRepair() {
		feats = append(feats, "needsrepair")
	}
	st := StateClean
	switch {
	case x.Log.State == XFSLogDirty:
		st = StateNeedsRecovery
	case x.Inprogress != 0 || x.NeedsRepair():
		st = StateNotClean
	}
	bs := int64(x.Blocksize)
	return Super{
		Type:       "xfs",
		Version:    fmt.Sprint(x.Version()),
		UUID:       x.UUID,
		Label:      x.Fname,
		BlockSize:  bs,
		SectorSize: int64(x.Sectsize),
		SizeBytes:  int64(x.Dblocks) * bs,
		FreeBytes:  xfsMulClamp(x.Fdblocks, bs),
		Inodes:     x.Icount,
		FreeInodes: x.Ifree,
		Features:   feats,
		State:      st,
	}
}

// xfsMulClamp multiplies a counter from disk by the block size without
// overflowing (a stale or damaged fdblocks can be anything).
func xfsMulClamp(n uint64, bs int64) int64 {
	if bs <= 0 || n > uint64(1<<63-1)/uint64(bs) {
		return 1<<63 - 1
	}
	return int64(n) * bs
}
