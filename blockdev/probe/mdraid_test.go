package probe

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// md superblocks built by hand, with the checksums md and mdadm keep (blkid
// ignores them, mdadm --examine does not), so the same bytes are real
// members to both.

// mdUUIDWords is the 0.90 set UUID as mdadm prints it, word by word.
var mdUUIDWords = [4]uint32{0x37c76b91, 0x011a05c5, 0xd30c1fd4, 0xc5c3dbbc}

const mdUUIDString = "37c76b91-011a-05c5-d30c-1fd4c5c3dbbc"

// mdSynth0 writes a 0.90 superblock (4 KiB, checksummed) at the last 64 KiB
// boundary that leaves 64 KiB, for an array using sizeKiB of each member.
func mdSynth0(size int, order binary.ByteOrder, minor uint32, words [4]uint32, sizeKiB uint32) []byte {
	b := make([]byte, size)
	off := size&^(mdReserved-1) - mdReserved
	mdPut0(b[off:off+4096], order, minor, words, sizeKiB)
	return b
}

func mdPut0(sb []byte, order binary.ByteOrder, minor uint32, words [4]uint32, sizeKiB uint32) {
	w := func(i int, v uint32) { order.PutUint32(sb[i*4:], v) }
	w(0, mdMagic)
	w(1, 0) // major
	w(2, minor)
	w(3, 0) // patch
	w(4, 0) // gvalid_words
	w(5, words[0])
	w(6, 1243428696) // ctime
	w(7, 1)          // raid1
	w(8, sizeKiB)
	w(9, 2)  // nr_disks
	w(10, 2) // raid_disks
	w(13, words[1])
	w(14, words[2])
	w(15, words[3])
	w(32, 1243428696) // utime
	w(33, 1)          // clean
	w(34, 2)          // active
	w(35, 2)          // working
	w(40, 4)          // events_lo
	var sum uint64
	for i := 0; i < 1024; i++ {
		if i != 38 {
			sum += uint64(order.Uint32(sb[i*4:]))
		}
	}
	w(38, uint32(sum)+uint32(sum>>32)) // sb_csum, as md folds it
}

// mdSynth1 writes a 1.x superblock at off (1.0: end, 1.1: 0, 1.2: 4 KiB)
// with its checksum over the fixed part and two device roles.
func mdSynth1(size int, off int, setUUID, devUUID []byte, name string) []byte {
	b := make([]byte, size)
	mdPut1(b[off:off+1024], uint64(off), uint64(size), setUUID, devUUID, name)
	return b
}

func mdPut1(sb []byte, off, size uint64, setUUID, devUUID []byte, name string) {
	l := binary.LittleEndian
	l.PutUint32(sb[0:], mdMagic)
	l.PutUint32(sb[4:], 1)
	copy(sb[16:32], setUUID)
	copy(sb[32:64], name)
	l.PutUint64(sb[64:], 1700000000)
	l.PutUint32(sb[72:], 1) // raid1
	l.PutUint32(sb[92:], 2) // raid_disks
	var dataOff, dataSize uint64
	if off == 0 || off == 4096 {
		dataOff = 2048
		dataSize = size/512 - dataOff
	} else {
		dataSize = off / 512
	}
	l.PutUint64(sb[80:], dataSize) // size
	l.PutUint64(sb[128:], dataOff)
	l.PutUint64(sb[136:], dataSize)
	l.PutUint64(sb[144:], off/512) // super_offset
	l.PutUint64(sb[152:], ^uint64(0))
	copy(sb[168:184], devUUID)
	l.PutUint64(sb[192:], 1700000000) // utime
	l.PutUint64(sb[200:], 17)         // events
	l.PutUint64(sb[208:], ^uint64(0)) // resync_offset: in sync
	l.PutUint32(sb[220:], 2)          // max_dev
	l.PutUint16(sb[256:], 0)          // this device: role 0
	l.PutUint16(sb[258:], 1)
	var sum uint64
	for i := 0; i < 256+2*2; i += 4 {
		if i != 216 {
			sum += uint64(l.Uint32(sb[i:]))
		}
	}
	l.PutUint32(sb[216:], uint32(sum)+uint32(sum>>32))
}

var mdDevUUID = []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}

const mdDevUUIDString = "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf"

// mdEnd10 is where md 1.0 keeps its superblock on a device of size bytes.
func mdEnd10(size int) int { return size&^0xfff - 0x2000 }

// mdImages are the synthetic md members with the answers worked out by hand.
// A 0.90 UUID reads as its four words' values in hex whatever the byte
// order: a little-endian superblock's word bytes are reversed, a big-endian
// one's taken as stored.
func mdImages() map[string]struct {
	img  []byte
	want Result
} {
	const mib = 1 << 20
	member := func(ver, uuid, sub, lbl string) Result {
		return Result{Type: "linux_raid_member", Usage: UsageRaid, Version: ver, UUID: uuid, UUIDSub: sub, Label: lbl}
	}
	both := mdSynth1(4*mib, 0x1000, testUUID, mdDevUUID, "late")
	mdPut0(both[4*mib-mdReserved:], binary.LittleEndian, 90, mdUUIDWords, 1024)
	first := mdSynth1(4*mib, 0, testUUID, mdDevUUID, "first")
	mdPut1(first[0x1000:], 0x1000, 4*mib, mdDevUUID, testUUID, "second")
	odd := 4*mib + 3*512 + 100 // not a multiple of 4 KiB, nor of 512
	return map[string]struct {
		img  []byte
		want Result
	}{
		"0.90-le":          {mdSynth0(4*mib, binary.LittleEndian, 90, mdUUIDWords, 2048), member("0.90.0", mdUUIDString, "", "")},
		"0.90-be":          {mdSynth0(4*mib, binary.BigEndian, 90, mdUUIDWords, 2048), member("0.90.0", mdUUIDString, "", "")},
		"0.90-odd-size":    {mdSynth0(odd, binary.LittleEndian, 90, mdUUIDWords, 1024), member("0.90.0", mdUUIDString, "", "")},
		"0.90-full":        {mdSynth0(4*mib, binary.LittleEndian, 90, mdUUIDWords, 4*1024-128), member("0.90.0", mdUUIDString, "", "")},
		"0.36-one-word":    {mdSynth0(4*mib, binary.LittleEndian, 36, mdUUIDWords, 2048), member("0.36.0", "37c76b91-0000-0000-0000-000000000000", "", "")},
		"0.90-zero-uuid":   {mdSynth0(4*mib, binary.LittleEndian, 90, [4]uint32{}, 2048), member("0.90.0", "", "", "")},
		"1.0":              {mdSynth1(4*mib, mdEnd10(4*mib), testUUID, mdDevUUID, "host:md0"), member("1.0", testUUIDString, mdDevUUIDString, "host:md0")},
		"1.0-odd-size":     {mdSynth1(odd, mdEnd10(odd), testUUID, mdDevUUID, "odd"), member("1.0", testUUIDString, mdDevUUIDString, "odd")},
		"1.1":              {mdSynth1(4*mib, 0, testUUID, mdDevUUID, "one"), member("1.1", testUUIDString, mdDevUUIDString, "one")},
		"1.2":              {mdSynth1(4*mib, 0x1000, testUUID, mdDevUUID, "two"), member("1.2", testUUIDString, mdDevUUIDString, "two")},
		"1.2-name-spaces":  {mdSynth1(4*mib, 0x1000, testUUID, mdDevUUID, " x y  \t"), member("1.2", testUUIDString, mdDevUUIDString, " x y")},
		"1.2-full-name":    {mdSynth1(4*mib, 0x1000, testUUID, mdDevUUID, strings.Repeat("n", 40)), member("1.2", testUUIDString, mdDevUUIDString, strings.Repeat("n", 32))},
		"1.2-no-uuids":     {mdSynth1(4*mib, 0x1000, nil, nil, ""), member("1.2", "", "", "")},
		"1.2-floppy-size":  {mdSynth1(tinySize, 0x1000, testUUID, mdDevUUID, "t"), Result{}},
		"1.2-above-floppy": {mdSynth1(tinySize+512, 0x1000, testUUID, mdDevUUID, "t"), member("1.2", testUUIDString, mdDevUUIDString, "t")},
		"0.90-floppy-size": {mdSynth0(tinySize, binary.LittleEndian, 90, mdUUIDWords, 64), Result{}},
		"0.90-before-1.2":  {both, member("0.90.0", mdUUIDString, "", "")},
		"1.1-before-1.2":   {first, member("1.1", testUUIDString, mdDevUUIDString, "first")},
		"0.90-too-big":     {mdSynth0(4*mib, binary.LittleEndian, 90, mdUUIDWords, 4*1024-63), Result{}},
		"0.90-wrong-magic": {bytes.ReplaceAll(mdSynth0(4*mib, binary.LittleEndian, 90, mdUUIDWords, 2048), []byte{0xfc, 0x4e, 0x2b, 0xa9}, []byte{0xfc, 0x4e, 0x2b, 0xa8}), Result{}},
		"1.2-wrong-offset": {mdMoved(mdSynth1(4*mib, 0x1000, testUUID, mdDevUUID, "m"), 0x1000, 0), Result{}},
		"1.0-at-1.2":       {mdMoved(mdSynth1(4*mib, mdEnd10(4*mib), testUUID, mdDevUUID, "m"), mdEnd10(4*mib), 0x1000), Result{}},
		"1.2-major-2":      {mdPatch(mdSynth1(4*mib, 0x1000, testUUID, mdDevUUID, "m"), 0x1004, 2), Result{}},
	}
}

// mdMoved copies the superblock at from to to and clears the original, so
// its recorded offset no longer matches its place.
func mdMoved(b []byte, from, to int) []byte {
	sb := bytes.Clone(b[from : from+1024])
	clear(b[from : from+1024])
	copy(b[to:], sb)
	return b
}

func mdPatch(b []byte, off int, v byte) []byte {
	b[off] = v
	return b
}

func TestMDRaidSynthetic(t *testing.T) {
	for name, tc := range mdImages() {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(&tc.want, probeBytes(t, tc.img)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestMDRaidPartitionRule: a 0.90 superblock at a whole disk's end that a
// partition of the disk's own table spans belongs to that partition, and
// blkid reports the table; the same bytes probed as a partition are a
// member, and a table that overruns the device covers nothing.
func TestMDRaidPartitionRule(t *testing.T) {
	const size = 8 << 20
	sectors := uint64(size / 512)
	img := func(parts []synthPart) []byte {
		b := mdSynth0(size, binary.LittleEndian, 90, mdUUIDWords, 1024)
		copy(b, synthMBR(512, 0x0badcafe, parts, nil))
		return b
	}
	member := Result{Type: "linux_raid_member", Usage: UsageRaid, Version: "0.90.0", UUID: mdUUIDString}
	_, noBlkid := testenv.LookTool("blkid")
	check := func(name string, b []byte, want *Result) {
		t.Helper()
		if diff := cmp.Diff(want, probeBytes(t, b)); diff != "" {
			t.Errorf("%s (-want +got)\n%s", name, diff)
		}
		if noBlkid == nil {
			compareWithBlkid(t, writeImage(t, "md.img", b))
		}
	}
	covered := img([]synthPart{{2048, sectors - 2048, 0xfd, false}})
	check("covered whole disk", covered, &Result{PTType: "dos", PTUUID: "0badcafe"})
	tab := &Table{}
	got := probeBytes(t, covered, WithParentTable(tab, "8:0", 0, uint64(sectors)))
	if diff := cmp.Diff(&member, got); diff != "" {
		t.Errorf("covered, probed as a partition (-want +got)\n%s", diff)
	}
	// The partition ends one sector before the superblock area does.
	check("partition short of the end", img([]synthPart{{2048, sectors - 2048 - 1, 0xfd, false}}), &member)
	// A partition starting after the array's data begins does not hold it,
	// one starting right there does.
	dataStart := uint64(size-mdReserved-1024*1024) / 512
	check("partition starting inside the data", img([]synthPart{{dataStart + 1, sectors - dataStart - 1, 0xfd, false}}), &member)
	check("partition starting with the data", img([]synthPart{{dataStart, sectors - dataStart, 0xfd, false}}), &Result{PTType: "dos", PTUUID: "0badcafe"})
	check("table overrunning the device", img([]synthPart{{2048, sectors - 2048, 0xfd, false}, {1, sectors, 0x83, false}}), &member)
	// An extended partition and the logical one inside it.
	logical := mdSynth0(size, binary.LittleEndian, 90, mdUUIDWords, 1024)
	copy(logical, synthMBR(size, 0x0badcafe, []synthPart{{2048, sectors - 2048, 0x05, false}}, []synthPart{{4096, sectors - 4096, 0xfd, false}})[:size-mdReserved])
	check("covered by a logical partition", logical, &Result{PTType: "dos", PTUUID: "0badcafe"})
}

func TestMDRaidTruncated(t *testing.T) {
	for name, tc := range mdImages() {
		for _, n := range []int{0, 1, 512, 1025, 0x1000 + 100, 0x10000, 0x10001} {
			if n > len(tc.img) {
				continue
			}
			// No panic, and nothing from bytes past the end.
			if _, err := probeLinuxRaid(mdSource(t, tc.img[:n])); err != nil {
				t.Errorf("%s cut to %d: %v", name, n, err)
			}
		}
	}
}

func mdSource(t *testing.T, b []byte) *source {
	t.Helper()
	s, err := newSource(t.Context(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.release)
	return s
}

func TestMDRaidDifferential(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	for name, tc := range mdImages() {
		t.Run(name, func(t *testing.T) {
			compareWithBlkid(t, writeImage(t, name+".img", tc.img))
		})
	}
}

// TestMDRaidMdadm has mdadm --examine read the synthetic members: it checks
// the superblock checksum and prints the UUIDs, name and version its own
// way, an oracle for the byte order of the 0.90 UUID that is not blkid.
func TestMDRaidMdadm(t *testing.T) {
	testenv.RequireTool(t, "mdadm")
	re := regexp.MustCompile(`(?m)^\s*(Version|UUID|Array UUID|Device UUID|Name|Checksum) : (.*)$`)
	for _, name := range []string{"0.90-le", "0.90-odd-size", "0.90-full", "1.0", "1.0-odd-size", "1.1", "1.2", "1.2-full-name"} {
		tc := mdImages()[name]
		t.Run(name, func(t *testing.T) {
			out := string(testenv.Run(t, "mdadm", "--examine", writeImage(t, name+".img", tc.img)))
			f := map[string]string{}
			for _, m := range re.FindAllStringSubmatch(out, -1) {
				f[m[1]] = strings.TrimSpace(m[2])
			}
			if !strings.HasSuffix(f["Checksum"], "correct") {
				t.Errorf("mdadm checksum: %q\n%s", f["Checksum"], out)
			}
			uuid := f["UUID"]
			if uuid == "" {
				uuid = f["Array UUID"]
			}
			if got := mdadmUUID(uuid); got != tc.want.UUID {
				t.Errorf("mdadm UUID %s = %s, we say %s", uuid, got, tc.want.UUID)
			}
			if got := mdadmUUID(f["Device UUID"]); got != tc.want.UUIDSub {
				t.Errorf("mdadm Device UUID %s, we say %s", f["Device UUID"], tc.want.UUIDSub)
			}
			ver := f["Version"]
			if strings.Count(ver, ".") == 2 {
				ver = strings.TrimSuffix(ver, "0") // 0.90.00 is blkid's 0.90.0
			}
			if ver != tc.want.Version {
				t.Errorf("mdadm version %q, we say %q", f["Version"], tc.want.Version)
			}
			if tc.want.Label != "" && !strings.HasPrefix(f["Name"], tc.want.Label) {
				t.Errorf("mdadm name %q, we say %q", f["Name"], tc.want.Label)
			}
		})
	}
}

// mdadmUUID turns mdadm's 8:8:8:8 form into blkid's 8-4-4-4-12.
func mdadmUUID(s string) string {
	h := strings.ReplaceAll(s, ":", "")
	if len(h) != 32 {
		return ""
	}
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// FuzzMDRaid places a fuzzed superblock where one md version looks (0.90,
// 1.0, 1.1 or 1.2, by a fuzzed selector), behind a fuzzed partition table
// sector, on a device of fuzzed size.
func FuzzMDRaid(f *testing.F) {
	const size = 4 << 20
	at := func(name string, off int) []byte { return mdImages()[name].img[off : off+1024] }
	f.Add(at("0.90-le", size-mdReserved), []byte(nil), uint8(0), uint16(0))
	f.Add(at("0.90-be", size-mdReserved), []byte(nil), uint8(0), uint16(0))
	f.Add(at("1.0", mdEnd10(size)), []byte(nil), uint8(1), uint16(0))
	f.Add(at("1.1", 0), []byte(nil), uint8(2), uint16(0))
	f.Add(at("1.2", 0x1000), []byte(nil), uint8(3), uint16(0))
	mbr := synthMBR(512, 1, []synthPart{{2048, size/512 - 2048, 0xfd, false}}, nil)
	f.Add(at("0.90-le", size-mdReserved), mbr, uint8(0), uint16(0))
	f.Fuzz(func(t *testing.T, meta, mbr []byte, where uint8, extra uint16) {
		if len(meta) > 4096 || len(mbr) > 512 {
			return
		}
		sz := int64(size) + int64(extra)
		off := []int64{sz&^(mdReserved-1) - mdReserved, sz&^0xfff - 0x2000, 0, 0x1000}[where%4]
		s := raidFuzzSource(t, mbr, meta, off, sz)
		if _, err := probeLinuxRaid(s); err != nil && err != errBudget {
			t.Fatalf("in-memory md probe: %v", err)
		}
	})
}
