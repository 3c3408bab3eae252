package probe

// Firmware ("fake") RAID members: metadata written by a controller's BIOS
// near the end of every member disk. All but Promise's live in the last 129
// KiB, so they come from the one cached read of the device's tail; HighPoint
// 37x is the exception and sits 4.5 KiB into the disk.
//
// blkid 2.38 checks only the checksums of VIA and Silicon Image among these
// (the DDF, Intel, NVIDIA and JMicron checks came with 2.39); a stricter
// prober would call a member blkid still reports blank, so we check exactly
// those two. Except DDF, blkid looks for these only on whole disks and image
// files: a partition's last sectors are not the disk's, where the firmware
// writes.

// raidTiny is blkid's rule that a device of floppy size (1440 KiB or less)
// holds no RAID member of any kind; it supersedes each prober's own minimum
// size in blkid (64 to 256 KiB), which can therefore never apply. The rule
// is the probe loop's in blkid, for every prober of usage raid: it belongs
// in probeSuperblocks, and until it is there the RAID probers apply it.
func raidTiny(s *source) bool { return s.size <= tinySize }

// raidSector returns n bytes at the start of the sector k 512-byte sectors
// before the end of the device (k = 1 is the last whole sector), as blkid
// counts them whatever the logical sector size.
func raidSector(s *source, k int64, n int) ([]byte, error) {
	last := s.size / 512
	if last < k {
		return nil, nil
	}
	return s.at((last-k)*512, n)
}

// raidFirmwareOK holds blkid's shared gate for firmware RAID probers.
func raidFirmwareOK(s *source) bool {
	return !raidTiny(s) && s.wholeDisk
}

// SNIA DDF: an anchor header in the last sector (blkid also accepts one 257
// sectors before the end), big or little endian, naming the primary header
// elsewhere on the disk.
const (
	raidDDFMagicBE = "\xde\x11\xde\x11"
	raidDDFMagicLE = "\x11\xde\x11\xde"
	raidDDFHdrSize = 512
)

func probeDDFRaid(s *source) (*sb, error) {
	if raidTiny(s) {
		return nil, nil
	}
	var h []byte
	for _, k := range []int64{1, 257} {
		b, err := raidSector(s, k, raidDDFHdrSize)
		if err != nil || b == nil {
			return nil, err
		}
		if hasAt(b, 0, raidDDFMagicBE) || hasAt(b, 0, raidDDFMagicLE) {
			h = b
			break
		}
	}
	if h == nil {
		return nil, nil
	}
	// The anchor names the primary header's LBA; a stale anchor whose
	// primary is gone does not count. blkid shifts the LBA in 64 bits
	// without an overflow check, and so do we.
	var lba uint64
	if hasAt(h, 0, raidDDFMagicBE) {
		lba = be.Uint64(h[96:])
	} else {
		lba = le.Uint64(h[96:])
	}
	if lba > 0 {
		off := lba << 9
		if off > uint64(s.size)-4 {
			return nil, nil
		}
		p, err := s.at(int64(off), 4)
		if err != nil || p == nil {
			return nil, err
		}
		if string(p) != string(h[:4]) {
			return nil, nil
		}
	}
	// The GUID is 24 raw bytes (a vendor id, then anything); blkid prints
	// them as a string up to the first NUL, trailing white space trimmed.
	return &sb{uuid: label(h[8:32]), version: raidCString(h[32:40])}, nil
}

// raidCString is b up to its first NUL, untrimmed (blkid_probe_set_version).
func raidCString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Intel Matrix Storage: the MPB starts two sectors before the end, counted
// as blkid counts them in the device's logical sector size (4 KiB on a 4Kn
// disk, 512 for image files).
const raidISWSig = "Intel Raid ISM Cfg Sig. "

func probeISWRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	// The version follows the signature: "%6s" of what comes after it,
	// which normally ends with a NUL inside the 32-byte signature field. Past
	// the 48 bytes blkid reads lies only its heap, so we stop there.
	ssz := max(s.sectorSize, 512)
	if s.size/ssz < 2 {
		return nil, nil
	}
	b, err := s.at((s.size/ssz-2)*ssz, 48)
	if err != nil || b == nil || !hasAt(b, 0, raidISWSig) {
		return nil, err
	}
	v := raidCString(b[len(raidISWSig):])
	for len(v) < 6 {
		v = " " + v
	}
	return &sb{version: v}, nil
}

func probeLSIRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 1, 6)
	if err != nil || b == nil || !hasAt(b, 0, "$XIDE$") {
		return nil, err
	}
	return &sb{}, nil
}

// VIA V-RAID: a 0xAA55 signature, a version up to 2, and a byte sum of the
// first 50 bytes stored in the 51st.
func probeVIARaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 1, 51)
	if err != nil || b == nil || le.Uint16(b) != 0xaa55 || b[2] > 2 {
		return nil, err
	}
	var sum byte
	for _, c := range b[:50] {
		sum += c
	}
	if sum != b[50] {
		return nil, nil
	}
	return &sb{version: itoa(uint32(b[2]))}, nil
}

// Silicon Image Medley: magic 0x2F000000 at 0x60, a member number below 8,
// and 16-bit words up to the checksum at 0x13E that sum to zero with it.
const (
	raidSilMagicOff = 0x60
	raidSilCsumOff  = 0x13e
)

func probeSilRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 1, 512)
	if err != nil || b == nil || le.Uint32(b[raidSilMagicOff:]) != 0x2f000000 || b[0x116] >= 8 {
		return nil, err
	}
	var sum uint16
	for i := 0; i < raidSilCsumOff; i += 2 {
		sum += le.Uint16(b[i:])
	}
	if -sum != le.Uint16(b[raidSilCsumOff:]) {
		return nil, nil
	}
	return &sb{version: itoa(uint32(le.Uint16(b[0x10a:]))) + "." + itoa(uint32(le.Uint16(b[0x108:])))}, nil
}

func probeNVRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 2, 18)
	if err != nil || b == nil || !hasAt(b, 0, "NVIDIA") {
		return nil, err
	}
	return &sb{version: itoa(uint32(le.Uint16(b[16:])))}, nil
}

// Promise FastTrack: controllers of different generations put their copy
// at one of these distances (in sectors) from the end, tried in this order.
// Those up to 399 come from the cached tail; each farther one is a small
// read of its own, as in blkid, made only when every nearer copy is absent.
var raidPDCSectors = []int64{63, 255, 256, 16, 399, 591, 675, 735, 911, 974, 991, 951, 3087}

const raidPDCSig = "Promise Technology, Inc."

func probePDCRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	for _, k := range raidPDCSectors {
		if s.size/512 < k {
			return nil, nil // blkid gives up at the first copy that cannot fit
		}
		b, err := raidSector(s, k, len(raidPDCSig))
		if err != nil || b == nil {
			return nil, err
		}
		if hasAt(b, 0, raidPDCSig) {
			return &sb{}, nil
		}
	}
	return nil, nil
}

// HighPoint 45x: a magic 11 sectors before the end, in its good or its
// bad-disk variant.
func probeHPT45xRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 1+10, 4)
	if err != nil || b == nil {
		return nil, err
	}
	if m := le.Uint32(b); m != 0x5a7816f3 && m != 0x5a7816fd {
		return nil, nil
	}
	return &sb{}, nil
}

// HighPoint 37x keeps its metadata at the start, 9 sectors in, with the
// magic 32 bytes into it.
func probeHPT37xRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b := s.headAt(4096, 1024)
	if b == nil || !(hasAt(b, 544, "\xf0\x16\x78\x5a") || hasAt(b, 544, "\xfd\x16\x78\x5a")) {
		return nil, nil
	}
	return &sb{}, nil
}

// Adaptec HostRAID: the last sector opens with a big-endian magic and holds
// "DPTM" at 256; the metadata version is byte 63.
func probeAdaptecRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 1, 512)
	if err != nil || b == nil || be.Uint32(b) != 0x37fc4d1e || !hasAt(b, 256, "DPTM") {
		return nil, err
	}
	return &sb{version: itoa(uint32(b[63]))}, nil
}

// JMicron: "JM", then minor and major version bytes.
func probeJMRaid(s *source) (*sb, error) {
	if !raidFirmwareOK(s) {
		return nil, nil
	}
	b, err := raidSector(s, 1, 6)
	if err != nil || b == nil || !hasAt(b, 0, "JM") {
		return nil, err
	}
	return &sb{version: itoa(uint32(b[3])) + "." + itoa(uint32(b[2]))}, nil
}
