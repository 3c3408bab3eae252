package probe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// Partition tables against libblkid itself, three ways: blkid -p on the
// whole device (PTTYPE, PTUUID), `partx -g` on it (libblkid's partition
// list, nested tables included: our Table.Entries), and blkid -p on each
// partition node (PART_ENTRY_*), where a partition can be added: the host
// kernel parses no tables, so each partition is added alone with
// `partx -a --nr N` (nested BSD slices overlap their dos partition, and
// the kernel refuses overlapping partitions) and deleted before the next.

// ptPartxColumns are the partx columns an Entry has, in this order.
const ptPartxColumns = "NR,START,SECTORS,TYPE,UUID,NAME,FLAGS,SCHEME"

// ptPartxList is libblkid's partition list of path, from partx's raw
// output; nil when libblkid lists nothing.
func ptPartxList(t *testing.T, path string) []Entry {
	t.Helper()
	out, err := testenv.RunErr("partx", "-g", "-r", "-o", ptPartxColumns, path)
	if err != nil {
		if strings.Contains(err.Error(), "failed to read partition table") {
			return nil
		}
		t.Fatalf("partx %s: %v", path, err)
	}
	var list []Entry
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 8 {
			t.Fatalf("partx line %q", line)
		}
		for i := range f {
			f[i] = ptPartxUnescape(f[i])
		}
		n, err1 := strconv.Atoi(f[0])
		start, err2 := strconv.ParseUint(f[1], 10, 64)
		size, err3 := strconv.ParseUint(f[2], 10, 64)
		flags, err4 := strconv.ParseUint(strings.TrimPrefix(f[6], "0x"), 16, 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatalf("partx line %q", line)
		}
		list = append(list, Entry{Number: n, Start: start, Size: size, Type: f[3], UUID: f[4], Name: f[5], Flags: flags, Scheme: f[7]})
	}
	return list
}

// ptPartxUnescape undoes the \xHH escapes of partx's raw output.
func ptPartxUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ptOurList is tab's entries with every scheme spelled out, as partx
// prints them.
func ptOurList(tab *Table) []Entry {
	if tab == nil {
		return nil
	}
	var list []Entry
	for _, e := range tab.Entries {
		if e.Scheme == "" {
			e.Scheme = tab.Type
		}
		list = append(list, e)
	}
	return list
}

// ptCheckDevice compares path (an image or a whole loop device) with blkid
// -p and its partition list with partx's; it returns that list.
func ptCheckDevice(t *testing.T, path string) []Entry {
	t.Helper()
	compareWithBlkid(t, path)
	want := ptPartxList(t, path)
	tab, err := TablePath(context.Background(), path)
	if err != nil {
		t.Fatalf("TablePath(%s): %v", path, err)
	}
	if diff := cmp.Diff(want, ptOurList(tab)); diff != "" {
		t.Errorf("%s: partition list (-partx +ours)\n%s", path, diff)
	}
	return want
}

// ptCheckNodes attaches img read-only, checks the whole device, then adds
// each listed partition alone and compares blkid -p on its node with ours.
// Partitions the kernel cannot have (past the device's end) are skipped.
func ptCheckNodes(t *testing.T, img string) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "partx", "losetup", "blkid")
	ptCheckNodesOn(t, testenv.LoopFileReadOnly(t, img), filepath.Base(img))
}

// ptCheckNodesOn is ptCheckNodes on an attached loop device.
func ptCheckNodesOn(t *testing.T, loop, name string) {
	t.Helper()
	list := ptCheckDevice(t, loop)
	diskMM := sysAttr(t, loop, "dev")
	sectors := sysUint(t, loop, "size")
	unit := sysUint(t, loop, "queue/logical_block_size") / 512
	added := 0
	for _, e := range list {
		if e.Start+e.Size > sectors {
			t.Logf("%s: partition %d (%d+%d) lies past the device's %d sectors: kernel cannot add it", name, e.Number, e.Start, e.Size, sectors)
			continue
		}
		if e.Start%unit != 0 || e.Size%unit != 0 {
			t.Logf("%s: partition %d (%d+%d) is not in whole logical sectors: kernel cannot add it", name, e.Number, e.Start, e.Size)
			continue
		}
		if !ptAddNode(t, loop, e.Number) {
			continue
		}
		added++
		node := fmt.Sprintf("%sp%d", loop, e.Number)
		start, size := sysUint(t, node, "start"), sysUint(t, node, "size")
		got := compareWithBlkid(t, node, WithParent(loop, diskMM, start, size))
		if !got.HasPartEntry || got.PartEntryNumber != e.Number {
			t.Errorf("%s: no or wrong partition entry: %+v", node, got)
		}
		ptDeleteNode(t, loop, e.Number)
	}
	t.Logf("%s: %d of %d partitions checked on their nodes", name, added, len(list))
}

// ptAddNode adds partition n of loop, with a cleanup that deletes it
// whatever happens to the test (registered before the add, so a node left
// by a half-failed add goes too).
func ptAddNode(t *testing.T, loop string, n int) bool {
	t.Helper()
	nr := strconv.Itoa(n)
	node := fmt.Sprintf("/sys/class/block/%sp%d", filepath.Base(loop), n)
	t.Cleanup(func() {
		if _, err := os.Stat(node); err == nil {
			if _, err := testenv.RunErr("partx", "-d", "--nr", nr, loop); err != nil {
				t.Logf("cleanup partx -d --nr %s %s: %v", nr, loop, err)
			}
		}
	})
	if _, err := testenv.RunErr("partx", "-a", "--nr", nr, loop); err != nil {
		t.Errorf("partx -a --nr %s %s: %v", nr, loop, err)
		return false
	}
	return true
}

func ptDeleteNode(t *testing.T, loop string, n int) {
	t.Helper()
	if _, err := testenv.RunErr("partx", "-d", "--nr", strconv.Itoa(n), loop); err != nil {
		t.Errorf("partx -d --nr %d %s: %v", n, loop, err)
	}
}

func ptCorpusImages(t *testing.T) []string {
	var imgs []string
	for _, img := range testenv.BlkidCorpus(t) {
		if filepath.Base(filepath.Dir(img)) == "images-pt" {
			imgs = append(imgs, img)
		}
	}
	return imgs
}

// TestTableCorpusFiles: util-linux's partition-table images, whole device
// and partition list, on the image files.
func TestTableCorpusFiles(t *testing.T) {
	testenv.RequireTool(t, "blkid", "partx")
	for _, img := range ptCorpusImages(t) {
		t.Run(corpusName(img), func(t *testing.T) { ptCheckDevice(t, img) })
	}
}

// TestTableCorpusPartitionsOnLoop: the same images on loop devices, with
// blkid -p on every partition the kernel can add.
func TestTableCorpusPartitionsOnLoop(t *testing.T) {
	for _, img := range ptCorpusImages(t) {
		t.Run(corpusName(img), func(t *testing.T) { ptCheckNodes(t, img) })
	}
}

// ptToolImage is an image made by a real partitioning tool.
type ptToolImage struct {
	name  string
	tools []string
	make  func(t *testing.T, img string)
}

func ptParted(t *testing.T, img string, args ...string) {
	t.Helper()
	testenv.Run(t, "parted", append([]string{"-s", img}, args...)...)
}

// ptBSDLabelInto writes a BSD label made by parted into img at sector
// start: parted labels a scratch disk of img's size, with partitions at
// absolute sectors inside the slice, and the label's first KiB is copied.
func ptBSDLabelInto(t *testing.T, img string, size int64, start int64, parts ...string) {
	t.Helper()
	scratch := sparseImage(t, "bsd-scratch.img", size)
	ptParted(t, scratch, append([]string{"mklabel", "bsd"}, parts...)...)
	testenv.PatchFile(t, img, start*512, testenv.ReadFileAt(t, scratch, 0, 1024))
}

var ptToolImages = []ptToolImage{
	{"parted-mac", []string{"parted"}, func(t *testing.T, img string) {
		ptParted(t, img, "mklabel", "mac", "mkpart", "root", "ext2", "2048s", "10000s",
			"mkpart", "swap", "linux-swap", "20480s", "40000s", "name", "2", "Swap Space")
	}},
	{"parted-bsd", []string{"parted"}, func(t *testing.T, img string) {
		ptParted(t, img, "mklabel", "bsd", "mkpart", "ext2", "4096s", "10000s", "mkpart", "linux-swap", "20000s", "40000s")
	}},
	{"parted-sun", []string{"parted"}, func(t *testing.T, img string) {
		ptParted(t, img, "mklabel", "sun", "mkpart", "ext2", "0s", "19967s", "mkpart", "linux-swap", "19968s", "40063s", "set", "2", "boot", "on")
	}},
	{"parted-dvh", []string{"parted"}, func(t *testing.T, img string) {
		ptParted(t, img, "mklabel", "dvh", "mkpart", "primary", "ext2", "4096s", "20000s", "mkpart", "primary", "linux-swap", "20480s", "40000s")
	}},
	{"parted-atari", []string{"parted"}, func(t *testing.T, img string) {
		ptParted(t, img, "mklabel", "atari", "mkpart", "primary", "ext2", "2048s", "10000s",
			"mkpart", "primary", "linux-swap", "20480s", "40000s", "mkpart", "primary", "ext2", "40960s", "60000s")
	}},
	{"sfdisk-sun", []string{"sfdisk"}, func(t *testing.T, img string) {
		runStdin(t, ",20000,83\n,30000,82\n,,8e\n", "sfdisk", "-q", "--label", "sun", img)
	}},
	{"sfdisk-sgi", []string{"sfdisk"}, func(t *testing.T, img string) {
		runStdin(t, ",20000,83\n,30000,82\n", "sfdisk", "-q", "--label", "sgi", img)
	}},
	{"sfdisk-dos+freebsd", []string{"sfdisk", "parted"}, func(t *testing.T, img string) {
		runStdin(t, "label: dos\nlabel-id: 0x5eed0001\nstart=2048,size=40960,type=a5\nstart=43008,size=8192,type=82\nstart=51200,size=40960,type=5\nstart=53248,size=4096,type=83\n", "sfdisk", "-q", img)
		ptBSDLabelInto(t, img, 64<<20, 2048, "mkpart", "ext2", "4096s", "20000s", "mkpart", "linux-swap", "20480s", "40000s")
	}},
	{"sfdisk-dos+netbsd", []string{"sfdisk", "parted"}, func(t *testing.T, img string) {
		runStdin(t, "label: dos\nlabel-id: 0x5eed0002\nstart=2048,size=40960,type=a9,bootable\n", "sfdisk", "-q", img)
		ptBSDLabelInto(t, img, 64<<20, 2048, "mkpart", "ext2", "2048s", "20000s", "mkpart", "ext2", "30000s", "50000s")
	}},
}

// TestTableToolImages makes tables with parted and sfdisk and checks
// them against blkid and partx, on the file and on a loop device.
func TestTableToolImages(t *testing.T) {
	testenv.RequireTool(t, "blkid", "partx")
	for _, tc := range ptToolImages {
		t.Run(tc.name, func(t *testing.T) {
			testenv.RequireTool(t, tc.tools...)
			img := sparseImage(t, tc.name+".img", 64<<20)
			tc.make(t, img)
			list := ptCheckDevice(t, img)
			if len(list) == 0 {
				t.Errorf("%s: libblkid lists no partition: the tool made no table?", tc.name)
			}
			if os.Geteuid() == 0 {
				ptCheckNodes(t, img)
			}
		})
	}
}

// TestTableSyntheticOnLoop checks the hand-built tables of the unit tests
// against blkid and partx, including those no installed tool writes
// (nested Solaris, UnixWare and Minix tables, Atari XGM and ICD, Ultrix,
// AIX, Sun labels without VTOC, a mac map with a broken entry).
func TestTableSyntheticOnLoop(t *testing.T) {
	testenv.RequireTool(t, "blkid", "partx")
	const mib = 1 << 20
	atariXGM := synthAtari(8*mib, [4]atariTestPart{{1, "GEM", 2, 9}, {1, "XGM", 100, 5000}, {1, "RAW", 8000, 10}}, nil)
	atariXGMChain(atariXGM, 100, []uint32{1000, 2000}, []atariTestPart{{1, "LNX", 1, 500}, {1, "SWP", 1, 600}, {1, "RAW", 1, 700}})
	macBroken := synthMacMap(8*mib, 512, macTestMap)
	copy(macBroken[3*512:], "XX")
	freebsdRel := ptDOSWith(16*mib, 0xa5, 4096, 8192, synthBSDLabel(512, []bsdTestPart{{16, 1000, 7}, {1016, 2000, 1}, {0, 8192, 0}}))
	bareBSD := make([]byte, 8*mib)
	copy(bareBSD, synthBSDLabel(512, []bsdTestPart{{0, 16384, 0}, {16, 8000, 7}, {8016, 8000, 1}}))
	aix := make([]byte, mib)
	copy(aix, aixMagic)
	unixwareWhole := make([]byte, 16*mib)
	copy(unixwareWhole, synthUnixware(unixwareTestSlices))
	minixSub := synthMBR(512, 0, []synthPart{{4100, 2000, dosTypeMinix, true}, {6100, 1000, 0x83, false}, {8000, 1000, dosTypeMinix, false}}, nil)
	imgs := map[string][]byte{
		"sgi": synthSGI(4*mib, []sgiTestPart{{63, 4000, 0x83}, {0, 0, 0}, {4063, 2000, 0x82}, 8: {0, 4096, 0}, 10: {0, 8192, 6}}),
		"sun": synthSunLabel(8*mib, 16, 63, true, []sunTestPart{
			{0, 2016, 0x83, 0}, {2, 1008, 0x82, 0x01}, {0, 16128, sunTagWholeDisk, 0}, {0, 0, 0x83, 0}, {3, 500, 0, 0x10}}),
		"sun-no-vtoc":   synthSunLabel(8*mib, 16, 63, false, []sunTestPart{{0, 2016, 0x83, 0}, 7: {4, 100, 0, 0}}),
		"atari":         synthAtari(8*mib, [4]atariTestPart{{0x81, "GEM", 2, 1000}, {0, "BGM", 1002, 10}, {1, "LNX", 2000, 3000}, {1, "X\x00Z", 6000, 100}}, nil),
		"atari-xgm":     atariXGM,
		"atari-icd":     synthAtari(8*mib, [4]atariTestPart{{1, "GEM", 2, 100}}, []atariTestPart{{1, "BGM", 200, 100}, {1, "FOO", 300, 100}, {0, "LNX", 400, 100}, {1, "SWP", 2, 50}, {1, "RAW", 500, 100}}),
		"mac":           synthMacMap(8*mib, 512, macTestMap),
		"mac-2048":      synthMacMap(8*mib, 2048, macTestMap[:2]),
		"mac-broken":    macBroken,
		"ultrix":        synthUltrix(4*mib, []ultrixTestPart{{4096, 0}, {0, 0}, {1000, 4096}}),
		"aix":           aix,
		"bsd":           bareBSD,
		"dos+freebsd10": freebsdRel,
		"dos+openbsd":   ptDOSWith(16*mib, 0xa6, 4096, 8192, synthBSDLabel(64, []bsdTestPart{{4096, 1000, 7}, {5096, 500, 1}, {0, 100, 7}})),
		"dos+unixware":  ptDOSWith(16*mib, dosTypeUnixware, 4096, 20000, synthUnixware(unixwareTestSlices)),
		"unixware":      unixwareWhole,
		// The kernel's magic (d_magic) without blkid's: no table to blkid.
		"unixware-dmagic-only": func() []byte {
			b := append([]byte(nil), unixwareWhole...)
			copy(b[(unixwareKBOff+unixwareSBOff>>10)<<10+unixwareSBOff&0x3ff:], "\x00\x00\x00\x00")
			return b
		}(),
		"dos+solaris":    ptDOSWith(16*mib, 0x82, 4096, 10000, synthSolaris(6, solarisTestSlices)),
		"dos+minix":      ptDOSWith(16*mib, dosTypeMinix, 4096, 8192, minixSub),
		"dos-nested-big": synthMBR(4*mib, 0x11, []synthPart{{2048, 100, 0x83, false}, {4096, 10000, 0x82, false}}, nil),
	}
	for name, b := range imgs {
		t.Run(name, func(t *testing.T) {
			img := writeImage(t, name+".img", b)
			ptCheckDevice(t, img)
			if os.Geteuid() == 0 {
				ptCheckNodes(t, img)
			}
		})
	}
}

// TestTable4KSectorOnLoop: tables on a loop device with 4096-byte logical
// sectors. dos offsets count 4 KiB sectors (blkid reports them in 512-byte
// units, nested tables too); sun, sgi and mac count their own units; atari
// exists only for 512-byte sectors.
func TestTable4KSectorOnLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "blkid", "partx", "losetup")
	const mib = 1 << 20
	dosBSD := synthMBR(16*mib, 0x4b4b4b4b, []synthPart{{256, 512, 0x83, false}, {1024, 1024, 0xa5, false}}, nil)
	// A 'c' at 0 makes the FreeBSD offsets relative: only that one stays
	// inside the slice (sectors 8192-16383 in 512-byte units).
	copy(dosBSD[1024*4096:], synthBSDLabel(512, []bsdTestPart{{8192, 1000, 7}, {9192, 500, 1}, {0, 1024, 7}}))
	for name, b := range map[string][]byte{
		"dos+freebsd": dosBSD,
		"mac":         synthMacMap(16*mib, 512, macTestMap),
		"sun":         synthSunLabel(16*mib, 16, 63, true, []sunTestPart{{0, 2016, 0x83, 0}, {2, 1008, 0x82, 0x01}}),
		"atari":       synthAtari(16*mib, [4]atariTestPart{{1, "GEM", 8, 1000}}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			loop := testenv.LoopSector(t, int64(len(b)), 4096)
			if ssz := sysAttr(t, loop, "queue/logical_block_size"); ssz != "4096" {
				testenv.Skip(t, "loop device kept %s-byte sectors", ssz)
			}
			if err := os.WriteFile(loop, b, 0); err != nil {
				t.Fatal(err)
			}
			ptCheckNodesOn(t, loop, name)
		})
	}
}
