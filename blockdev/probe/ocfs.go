package probe

// ocfsOff is where blkid looks for OCFS (version 1): both its magic and
// its volume header start there, the volume label 512 bytes further.
const ocfsOff = 8 << 10

// ocfs2Blocks are the 1 KiB blocks blkid tries for the OCFS2 superblock,
// one per possible block size (1, 2, 4 and 8 KiB), first match winning.
var ocfs2Blocks = [...]int64{1, 2, 4, 8}

// probeOCFS reads an OCFS volume header as blkid does. blkid compares the
// "OracleCFS" signature at the very start of the header, where the version
// numbers are, so on any header it accepts the version fields hold the
// signature's bytes; VERSION is still major.minor of those fields, as
// blkid prints it.
func probeOCFS(s *source) (*sb, error) {
	h := s.headAt(ocfsOff, 1024)
	if h == nil || !hasAt(h, 0, "OracleCFS") {
		return nil, nil
	}
	l := s.headAt(ocfsOff+512, 132)
	if l == nil {
		return nil, nil
	}
	minor, major := le.Uint32(h[0:]), le.Uint32(h[4:])
	// The label length is the header's own, up to 65535: blkid copies that
	// many bytes from a 64-byte field of its stack copy of the label block
	// and keeps them up to the first NUL. Past the block blkid reads its
	// own stack; here the label stops at the end of the label block.
	n := int(le.Uint16(l[112:]))
	if n > len(l)-48 {
		n = len(l) - 48
	}
	return &sb{
		label:   label(l[48 : 48+n]),
		uuid:    uuidString(l[114:130]),
		version: itoa(major) + "." + itoa(minor),
	}, nil
}

// probeOCFS2 finds the OCFS2 superblock in the first of its candidate
// blocks that holds the "OCFSV2" signature: LABEL, UUID and the revision
// level as VERSION.
func probeOCFS2(s *source) (*sb, error) {
	for _, blk := range ocfs2Blocks {
		b := s.headAt(blk<<10, 1024)
		if b == nil || !hasAt(b, 0, "OCFSV2") {
			continue
		}
		return &sb{
			label:   label(b[272:336]),
			uuid:    uuidString(b[336:352]),
			version: itoa(uint32(le.Uint16(b[192:]))) + "." + itoa(uint32(le.Uint16(b[194:]))),
		}, nil
	}
	return nil, nil
}

// probeOracleASM recognises an Oracle ASM disk label; LABEL is the disk's
// ASM name.
func probeOracleASM(s *source) (*sb, error) {
	b := s.headAt(0, 1024)
	if b == nil || !hasAt(b, 32, "ORCLDISK") {
		return nil, nil
	}
	return &sb{label: label(b[40:64])}, nil
}
