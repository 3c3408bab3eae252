package probe

import (
	"encoding/binary"
	"testing"
)

// synthXFSLogRecord is a log record header as mkfs.xfs writes one at the
// start of a fresh log.
func synthXFSLogRecord() []byte {
	b := make([]byte, 512)
	binary.BigEndian.PutUint32(b[0:], xfsLogHeaderMagic)
	binary.BigEndian.PutUint32(b[4:], 1)    // cycle
	binary.BigEndian.PutUint32(b[8:], 2)    // version
	binary.BigEndian.PutUint32(b[12:], 512) // length
	binary.BigEndian.PutUint32(b[300:], 1)  // Linux little endian
	copy(b[304:], testUUID)
	return b
}

// synthXFSLog places a record header in each of the given sectors.
func synthXFSLog(size int, sectors ...int) []byte {
	b := make([]byte, size)
	for _, s := range sectors {
		copy(b[s*512:], synthXFSLogRecord())
	}
	return b
}

func TestXFSLog(t *testing.T) {
	log := &Result{Type: "xfs_external_log", Usage: UsageOther}
	patched := func(off int, v uint32) []byte {
		b := synthXFSLog(10 << 20)
		copy(b, synthXFSLogRecord())
		binary.BigEndian.PutUint32(b[off:], v)
		return b
	}
	xfsbFirst := synthXFSLog(10<<20, 200)
	copy(xfsbFirst[100*512:], "XFSB")
	recFirst := synthXFSLog(10<<20, 100)
	copy(recFirst[200*512:], "XFSB")
	checkImages(t, []imageCase{
		{"record at sector 0", synthXFSLog(10<<20, 0), log},
		{"last sector in the head", synthXFSLog(10<<20, 135), log},
		{"first sector past the head", synthXFSLog(10<<20, 136), log},
		{"last sector scanned", synthXFSLog(10<<20, 511), log},
		{"past the scan", synthXFSLog(10<<20, 512), nil},
		{"below minimum size", synthXFSLog(10<<20-512, 0), nil},
		{"XFS superblock first", xfsbFirst, nil},
		{"record before an XFS superblock", recFirst, log},
		{"version 1 and 2 bits", patched(8, 3), log},
		{"version 0", patched(8, 0), nil},
		{"version 4", patched(8, 4), nil},
		{"length 0", patched(12, 0), nil},
		{"length past int", patched(12, 1<<31), nil},
		{"IRIX format", patched(300, 3), log},
		{"unknown format", patched(300, 4), nil},
		{"wrong magic", patched(0, xfsLogHeaderMagic+1), nil},
	})
}

// TestXFSLogReads checks the scan costs one read past the head only when
// the head does not settle it.
func TestXFSLogReads(t *testing.T) {
	for _, tc := range []struct {
		name  string
		img   []byte
		extra int
	}{
		{"found in the head", synthXFSLog(10<<20, 3), 0},
		{"found past the head", synthXFSLog(10<<20, 300), 1},
		{"nothing", synthXFSLog(10 << 20), 1},
	} {
		s := containerSource(t, tc.img)
		if _, err := probeXFSLog(s); err != nil {
			t.Fatal(err)
		}
		if s.extra != tc.extra {
			t.Errorf("%s: %d extra reads, want %d", tc.name, s.extra, tc.extra)
		}
	}
}

func FuzzXFSLog(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{synthXFSLogRecord(), region(synthXFSLog(1<<20, 1), 0, 1024)}, probeXFSLog)
}
