package probe

import (
	"bytes"
	"fmt"
	"math"
)

// UDF (ECMA-167 with the OSTA profile) as blkid 2.38 finds it: a Volume
// Recognition Sequence at 32 KiB naming NSR02 or NSR03, an Anchor Volume
// Descriptor Pointer at block 256 (or 512, for unclosed write-once media)
// whose recorded location proves the block size, and the Volume Descriptor
// Sequence it points to. blkid 2.38 does not look for the anchors at the
// last block or at last-256; neither do we, so a volume whose only anchors
// are at the end is not UDF to blkid and not to us.

const (
	udfVRSOff = 0x8000
	// udfDescLen is how much of a descriptor blkid reads: the 16-byte tag
	// and the largest body it decodes (the Logical Volume Descriptor up to
	// its integrity sequence extent). The LVID's extent must be at least
	// this long before blkid looks at it.
	udfDescLen = 440
	// udfLVIDIULen is the part of the LVID's implementation use that holds
	// the minimum read and write revisions.
	udfLVIDIULen = 46

	udfTagPVD  = 1
	udfTagAVDP = 2
	udfTagIUVD = 4
	udfTagLVD  = 6
	udfTagTD   = 8
	udfTagLVID = 9
)

// udfVRSIDs are the descriptor identifiers that may open or continue a
// Volume Recognition Sequence; blkid's magic is any of them at 32 KiB + 1,
// and its scan walks past all of them looking for NSR02/NSR03.
var udfVRSIDs = []string{"BEA01", "BOOT2", "CD001", "CDW02", "NSR02", "NSR03", "TEA01"}

// udfSectorSize is the block size blkid tries first: the logical sector
// size of a block device (Path asks BLKSSZGET, WithSectorSize overrides),
// 512 for anything else, image files included. It matters: on a 4096-byte-sector device blkid scans the VRS
// 4096 bytes apart first, which on a small ISO 9660 + UDF bridge image
// lands on the NSR, wants an anchor at 1 MiB past the end and gives up on
// UDF, so blkid reports such a device as iso9660.
func udfSectorSize(s *source) uint64 { return uint64(s.sectorSize) }

// udfReader remembers what it read, as blkid's buffer cache does: the
// block-size search reads the same anchor offsets for several candidate
// sizes, and the LVID's implementation use lies inside the descriptor just
// read, so neither should spend the probe's read budget twice.
type udfReader struct {
	s    *source
	memo []udfRead
}

type udfRead struct {
	off uint64
	b   []byte
}

// at returns n bytes at off, nil when they lie outside the device (blkid
// then gives up on UDF altogether), or the source's error.
func (r *udfReader) at(off uint64, n int) ([]byte, error) {
	if off > math.MaxInt64-uint64(n) {
		return nil, nil
	}
	for _, m := range r.memo {
		if off >= m.off && off+uint64(n) <= m.off+uint64(len(m.b)) {
			return m.b[off-m.off : off-m.off+uint64(n)], nil
		}
	}
	b, err := r.s.at(int64(off), n)
	if err != nil || b == nil {
		return nil, err
	}
	r.memo = append(r.memo, udfRead{off, b})
	return b, nil
}

// udfEncoding is the character set of a CS0 d-string, from its compression
// id: 8 is one byte per character (Latin-1), 16 is UTF-16 big endian.
type udfEncoding int

const (
	udfEncNone udfEncoding = iota
	udfEncLatin1
	udfEncUTF16BE
)

func udfCIDEncoding(cid byte) udfEncoding {
	switch cid {
	case 8:
		return udfEncLatin1
	case 16:
		return udfEncUTF16BE
	}
	return udfEncNone
}

// udfEncodeUTF8 converts src to UTF-8 the way util-linux's ul_encode_to_utf8
// does, which blkid uses for every UDF and Joliet string: it stops at the
// first NUL character, pairs surrogates only when both halves are there
// (a lone half is encoded as its own three bytes, not replaced), drops an
// odd trailing byte of UTF-16, and stops before a character that would not
// fit, with its NUL, in destLen bytes.
func udfEncodeUTF8(enc udfEncoding, src []byte, destLen int) []byte {
	out := make([]byte, 0, len(src)*2)
	for i := 0; i < len(src); i++ {
		var c uint32
		switch enc {
		case udfEncLatin1:
			c = uint32(src[i])
		case udfEncUTF16BE:
			if i+2 > len(src) {
				return out
			}
			c = uint32(src[i])<<8 | uint32(src[i+1])
			i++
			if c >= 0xd800 && c <= 0xdbff && i+2 < len(src) {
				c2 := uint32(src[i+1])<<8 | uint32(src[i+2])
				if c2 >= 0xdc00 && c2 <= 0xdfff {
					c = 0x10000 + (c-0xd800)<<10 + (c2 - 0xdc00)
					i += 2
				}
			}
		default:
			return nil
		}
		j := len(out)
		switch {
		case c == 0:
			return out
		case c < 0x80:
			if j+1 >= destLen {
				return out
			}
			out = append(out, byte(c))
		case c < 0x800:
			if j+2 >= destLen {
				return out
			}
			out = append(out, byte(0xc0|c>>6), byte(0x80|c&0x3f))
		case c < 0x10000:
			if j+3 >= destLen {
				return out
			}
			out = append(out, byte(0xe0|c>>12), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f))
		default:
			if j+4 >= destLen {
				return out
			}
			out = append(out, byte(0xf0|c>>18), byte(0x80|(c>>12)&0x3f), byte(0x80|(c>>6)&0x3f), byte(0x80|c&0x3f))
		}
	}
	return out
}

// udfUTF8Label is blkid_probe_set_utf8label: the string converted to UTF-8
// and its trailing white space removed.
func udfUTF8Label(enc udfEncoding, src []byte) string {
	return label(udfEncodeUTF8(enc, src, len(src)*3+1))
}

// udfDString returns the characters of a CS0 d-string field (its last byte
// is the used length, counting the compression id) and their encoding.
func udfDString(f []byte) ([]byte, udfEncoding) {
	n := int(f[len(f)-1])
	if n > 0 {
		n--
	}
	if n > len(f)-2 {
		n = len(f) - 2
	}
	return f[1 : 1+n], udfCIDEncoding(f[0])
}

// udfIsCS0 reports whether a charspec is OSTA Compressed Unicode, which is
// what makes blkid trust the d-strings of a descriptor.
func udfIsCS0(cs []byte) bool {
	return cs[0] == 0 && udfCStrEq(cs[1:64], "OSTA Compressed Unicode")
}

// udfCStrEq is strncmp(field, want, len(field)) == 0 for a NUL-free want:
// the field must hold want and then end (a NUL, or the field's end).
func udfCStrEq(field []byte, want string) bool {
	if len(field) < len(want) || string(field[:len(want)]) != want {
		return false
	}
	return len(field) == len(want) || field[len(want)] == 0
}

// udfUUID derives blkid's UUID from the Volume Set Identifier, whose first
// 16 characters should be unique, the first 8 a hex time stamp: the first
// 16 bytes of its UTF-8 form, lower-cased when all are hex digits; when only
// the first 8 are, those lower-cased and the next 4 bytes in hex; otherwise
// the first 8 bytes in hex.
func udfUUID(volset []byte) string {
	c, enc := udfDString(volset)
	if enc == udfEncNone {
		return ""
	}
	u := udfEncodeUTF8(enc, c, 17)
	if len(u) < 8 {
		return ""
	}
	var buf [16]byte
	copy(buf[:], u)
	hex := 16
	for i, ch := range buf {
		if !udfIsXDigit(ch) {
			hex = i
			break
		}
	}
	switch {
	case hex < 8:
		return fmt.Sprintf("%x", buf[:8])
	case hex < 16:
		return string(bytes.ToLower(buf[:8])) + fmt.Sprintf("%x", buf[8:12])
	}
	return string(bytes.ToLower(buf[:]))
}

func udfIsXDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// udfFindAnchor runs blkid's block-size search in the session that starts
// at sOff: for each candidate size that divides sOff, a VRS with an NSR
// descriptor (VSDs are 2048 bytes apart, or a block apart for blocks larger
// than that), then an AVDP at the session's block 256 or 512 that records
// that block. It returns the block size and the anchor, or nil when there
// is none or a read fell outside the device, which ends blkid's search.
func udfFindAnchor(r *udfReader, ssz, sOff uint64) (uint64, []byte, error) {
	sizes := [...]uint64{ssz, 512, 1024, 2048, 4096}
	// In the first session the 2048-byte VRS is the same for every block
	// size up to 2048, so blkid scans it once: -1 not yet, 0 no NSR, 1 NSR.
	vrs2048 := -1
	for i, bs := range sizes {
		if i > 0 && bs == ssz || sOff%bs != 0 {
			continue
		}
		vsdLen := bs
		if vsdLen < 2048 {
			vsdLen = 2048
		}
		once := sOff == 0 && vsdLen == 2048
		var nsr bool
		if once && vrs2048 >= 0 {
			nsr = vrs2048 == 1
		} else {
			var ok bool
			var err error
			nsr, ok, err = udfScanVRS(r, sOff, vsdLen)
			if err != nil || !ok {
				return 0, nil, err
			}
			if once {
				vrs2048 = 0
				if nsr {
					vrs2048 = 1
				}
			}
		}
		if !nsr {
			continue
		}
		for _, blk := range [...]uint64{256, 512} {
			vd, err := r.at(sOff+blk*bs, udfDescLen)
			if err != nil || vd == nil {
				return 0, nil, err
			}
			if uint64(le.Uint32(vd[12:])) == sOff/bs+blk && le.Uint16(vd[0:]) == udfTagAVDP {
				return bs, vd, nil
			}
		}
	}
	return 0, nil, nil
}

// udfScanVRS looks for NSR02/NSR03 among the first 64 VSDs, stopping at an
// empty one or one that belongs to no VRS. ok is false when a VSD lies
// outside the device.
func udfScanVRS(r *udfReader, sOff, vsdLen uint64) (nsr, ok bool, err error) {
	for b := uint64(0); b < 64; b++ {
		vsd, err := r.at(sOff+udfVRSOff+b*vsdLen, 7)
		if err != nil || vsd == nil {
			return false, false, err
		}
		if vsd[1] == 0 {
			break
		}
		id := string(vsd[1:6])
		if id == "NSR02" || id == "NSR03" {
			return true, true, nil
		}
		known := false
		for _, v := range udfVRSIDs {
			if id == v {
				known = true
				break
			}
		}
		// UDF 2.00 and older allow the NSR anywhere in the sequence, so a
		// TEA01 does not end it; the first foreign sector does.
		if !known {
			break
		}
	}
	return false, true, nil
}

// udfVDS is what blkid takes from the Volume Descriptor Sequence: each value
// from the first descriptor that has it. The have flags for values we do not
// report still matter, since blkid stops reading once all are set.
type udfVDS struct {
	label, uuid                          string
	haveLabel, haveUUID, haveVolID       bool
	haveVolSetID, haveAppID, havePublish bool
	lvidLen, lvidLoc                     uint32
	rev                                  uint16
}

func (v *udfVDS) complete() bool {
	return v.haveVolID && v.haveUUID && v.haveVolSetID && v.haveLabel && v.lvidLen != 0 &&
		v.lvidLoc != 0 && v.haveAppID && v.havePublish
}

func (v *udfVDS) primary(vd []byte) {
	cs0 := udfIsCS0(vd[200:264])
	if !v.haveVolID && cs0 {
		if _, enc := udfDString(vd[24:56]); enc != udfEncNone {
			v.haveVolID = true
		}
	}
	if !v.haveUUID && cs0 {
		if u := udfUUID(vd[72:200]); u != "" {
			v.uuid, v.haveUUID = u, true
		}
	}
	if !v.haveVolSetID && cs0 {
		if _, enc := udfDString(vd[72:200]); enc != udfEncNone {
			v.haveVolSetID = true
		}
	}
	if !v.haveAppID {
		// The application identifier, else the implementation's
		// developer id, each without its leading '*'.
		for _, id := range [][]byte{vd[345:368], vd[389:412]} {
			if i := bytes.IndexByte(id, 0); i >= 0 {
				id = id[:i]
			}
			if len(id) > 0 && id[0] == '*' {
				id = id[1:]
			}
			if len(id) > 0 {
				v.haveAppID = true
				break
			}
		}
	}
}

func (v *udfVDS) logical(vd []byte) {
	if v.lvidLen == 0 || v.lvidLoc == 0 {
		// No partition maps means no integrity sequence (ECMA-167 3/10.6.12).
		if le.Uint32(vd[268:]) != 0 {
			v.lvidLen, v.lvidLoc = le.Uint32(vd[432:]), le.Uint32(vd[436:])
		}
	}
	if v.rev == 0 && udfCStrEq(vd[217:240], "*OSTA UDF Compliant") {
		v.rev = le.Uint16(vd[240:])
	}
	// The logical volume identifier is the name users see (Windows and
	// GRUB read it too), so it is the label, not the PVD's volume id.
	if !v.haveLabel && udfIsCS0(vd[20:84]) {
		if c, enc := udfDString(vd[84:212]); enc != udfEncNone {
			v.label, v.haveLabel = udfUTF8Label(enc, c), true
		}
	}
}

func (v *udfVDS) implUse(vd []byte) {
	if !v.havePublish && udfCStrEq(vd[21:44], "*UDF LV Info") && udfIsCS0(vd[52:116]) {
		if _, enc := udfDString(vd[244:280]); enc != udfEncNone {
			v.havePublish = true
		}
	}
}

// probeUDF reports LABEL from the logical volume identifier, UUID from the
// volume set identifier and VERSION from the highest UDF revision the LVD's
// domain and the first LVID's minimum read and write revisions name. Like
// blkid it checks descriptor tags by id and recorded location only, not by
// checksum or CRC.
func probeUDF(s *source) (*sb, error) {
	// The magic is in the head for the first session; the sector size is
	// asked only when it is there.
	sOff := isoSessionOffset(s)
	if sOff == 0 && !udfHasMagic(s.headAt(udfVRSOff, 1024)) {
		return nil, nil
	}
	return udfProbe(s, udfSectorSize(s), sOff)
}

// udfHasMagic reports whether the 1 KiB block at 32 KiB into the session
// (blkid compares magics within the block that holds them) starts with a
// VRS descriptor.
func udfHasMagic(m []byte) bool {
	if m == nil {
		return false
	}
	for _, id := range udfVRSIDs {
		if hasAt(m, 1, id) {
			return true
		}
	}
	return false
}

// udfProbe is probeUDF on a device of ssz-byte logical sectors, for the
// session that starts at byte sOff (volume descriptor locations stay
// absolute).
func udfProbe(s *source, ssz, sOff uint64) (*sb, error) {
	if sOff > math.MaxInt64/2 {
		return nil, nil // past any device; keeps the offset sums below from wrapping
	}
	r := &udfReader{s: s}
	m, err := r.at(sOff+udfVRSOff, 1024)
	if err != nil || !udfHasMagic(m) {
		return nil, err
	}
	bs, avdp, err := udfFindAnchor(r, ssz, sOff)
	if err != nil || avdp == nil {
		return nil, err
	}
	count := le.Uint32(avdp[16:]) / uint32(bs)
	loc := le.Uint32(avdp[20:])
	var v udfVDS
	for b := uint32(0); b < count; b++ {
		// blkid adds in 32 bits: a sequence that runs past block 2^32-1
		// wraps to block 0, whose recorded location then fails the check.
		blk := loc + b
		vd, err := r.at(uint64(blk)*bs, udfDescLen)
		if err != nil || vd == nil {
			return nil, err
		}
		typ := le.Uint16(vd[0:])
		if typ == 0 || le.Uint32(vd[12:]) != blk || typ == udfTagTD {
			break
		}
		switch typ {
		case udfTagPVD:
			v.primary(vd)
		case udfTagLVD:
			v.logical(vd)
		case udfTagIUVD:
			v.implUse(vd)
		}
		if v.complete() {
			break
		}
	}
	if v.lvidLoc != 0 && v.lvidLen >= udfDescLen {
		rev, err := udfLVIDRevision(r, bs, v.lvidLoc)
		if err != nil || rev < 0 {
			return nil, err
		}
		if uint16(rev) > v.rev {
			v.rev = uint16(rev)
		}
	}
	res := &sb{tolerant: true, label: v.label, uuid: v.uuid}
	if v.rev != 0 {
		res.version = fmt.Sprintf("%x.%02x", v.rev>>8, v.rev&0xff)
	}
	return res, nil
}

// udfLVIDRevision returns the larger of the first LVID's minimum read and
// write revisions (some 2.60 writers put 2.50 there and 2.60 only in the
// LVD, hence the maximum with the LVD's), 0 when the LVID is not usable,
// and -1 when it lies outside the device, where blkid gives up on UDF. Only
// the first LVID of the sequence is read, as blkid does: following the chain
// to the prevailing one could read many blocks for a version string.
func udfLVIDRevision(r *udfReader, bs uint64, loc uint32) (int, error) {
	vd, err := r.at(uint64(loc)*bs, udfDescLen)
	if err != nil || vd == nil {
		return -1, err
	}
	if le.Uint16(vd[0:]) != udfTagLVID || le.Uint32(vd[12:]) != loc || le.Uint32(vd[76:]) < udfLVIDIULen {
		return 0, nil
	}
	// The implementation use follows the free-space and size tables, two
	// 32-bit words per partition; blkid computes their length in 32 bits.
	iuOff := uint64(80) + uint64(uint32(8*le.Uint32(vd[72:])))
	iu, err := r.at(uint64(loc)*bs+iuOff, udfLVIDIULen)
	if err != nil || iu == nil {
		return -1, err
	}
	rev := 0
	for _, x := range []uint16{le.Uint16(iu[40:]), le.Uint16(iu[42:])} {
		if int(x) > rev {
			rev = int(x)
		}
	}
	return rev, nil
}
