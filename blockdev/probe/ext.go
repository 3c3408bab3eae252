package probe

// ext2/3/4 superblock: 1 KiB into the device.
const (
	extSBOff = 1024

	extCompatHasJournal   = 0x0004
	extIncompatJournalDev = 0x0008
	// Features each of ext2 and ext3 understand; anything else makes the
	// filesystem ext4 (blkid's EXT{2,3}_FEATURE_*_SUPP).
	ext2IncompatSupp = 0x0002 | 0x0010
	ext3IncompatSupp = 0x0002 | 0x0004 | 0x0010
	extROCompatSupp  = 0x0001 | 0x0002 | 0x0004
)

type extSB struct {
	compat, incompat, roCompat uint32
	// testFS is EXT2_FLAGS_TEST_FILESYS in s_flags: a filesystem made for
	// in-development code (mke2fs -E test_fs), which blkid calls ext4dev.
	testFS bool
	b      []byte
}

const extFlagsTestFS = 0x0004

func readExt(s *source) *extSB {
	b := s.headAt(extSBOff, 0x200)
	if b == nil || b[0x38] != 0x53 || b[0x39] != 0xef {
		return nil
	}
	return &extSB{compat: le.Uint32(b[0x5c:]), incompat: le.Uint32(b[0x60:]), roCompat: le.Uint32(b[0x64:]),
		testFS: le.Uint32(b[0x160:])&extFlagsTestFS != 0, b: b}
}

func (e *extSB) info() *sb {
	return &sb{
		uuid:    uuidString(e.b[0x68:0x78]),
		label:   label(e.b[0x78:0x88]),
		version: itoa(le.Uint32(e.b[0x4c:])) + "." + itoa(uint32(le.Uint16(e.b[0x3e:]))),
	}
}

// probeExt4dev finds a test-flagged ext superblock. blkid 2.38 asks
// nothing of the host here; ext2 and ext3 do not look at the flag, so a
// test-flagged ext2 or ext3 is ambiguous to blkid, and to us.
func probeExt4dev(s *source) (*sb, error) {
	e := readExt(s)
	if e == nil || e.incompat&extIncompatJournalDev != 0 || !e.testFS {
		return nil, nil
	}
	return e.info(), nil
}

func probeExt4(s *source) (*sb, error) {
	e := readExt(s)
	if e == nil || e.incompat&extIncompatJournalDev != 0 || e.testFS {
		return nil, nil
	}
	// ext4 is an ext superblock using at least one feature ext3 lacks.
	if e.roCompat&^extROCompatSupp == 0 && e.incompat&^ext3IncompatSupp == 0 {
		return nil, nil
	}
	return e.info(), nil
}

func probeExt3(s *source) (*sb, error) {
	e := readExt(s)
	if e == nil || e.compat&extCompatHasJournal == 0 {
		return nil, nil
	}
	if e.roCompat&^extROCompatSupp != 0 || e.incompat&^ext3IncompatSupp != 0 {
		return nil, nil
	}
	return e.info(), nil
}

func probeExt2(s *source) (*sb, error) {
	e := readExt(s)
	if e == nil || e.compat&extCompatHasJournal != 0 {
		return nil, nil
	}
	if e.roCompat&^extROCompatSupp != 0 || e.incompat&^ext2IncompatSupp != 0 {
		return nil, nil
	}
	return e.info(), nil
}

// probeJBD finds an external ext3/4 journal device.
func probeJBD(s *source) (*sb, error) {
	e := readExt(s)
	if e == nil || e.incompat&extIncompatJournalDev == 0 {
		return nil, nil
	}
	return e.info(), nil
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var buf [10]byte
	i := len(buf)
	for v > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[i:])
}
