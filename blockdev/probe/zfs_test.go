package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// oddfsImage is a sparse synthetic image: a size and the few byte ranges
// that are not zero. The zfs, gfs and ocfs tests need images of tens of
// MiB whose signatures are a few KiB; they are probed in memory and, for
// blkid, written as sparse files.
type oddfsImage struct {
	size int64
	segs []oddfsSeg
}

type oddfsSeg struct {
	off int64
	b   []byte
}

func newOddfsImage(size int64) *oddfsImage { return &oddfsImage{size: size} }

// at returns n zero bytes at off for the caller to fill; later segments
// overwrite earlier ones where they overlap.
func (m *oddfsImage) at(off int64, n int) []byte {
	b := make([]byte, n)
	m.segs = append(m.segs, oddfsSeg{off, b})
	return b
}

func (m *oddfsImage) ReadAt(p []byte, off int64) (int, error) {
	if off >= m.size {
		return 0, io.EOF
	}
	n := len(p)
	if off+int64(n) > m.size {
		n = int(m.size - off)
	}
	clear(p[:n])
	for _, s := range m.segs {
		lo, hi := max(off, s.off), min(off+int64(n), s.off+int64(len(s.b)))
		if lo < hi {
			copy(p[lo-off:hi-off], s.b[lo-s.off:hi-s.off])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// put copies m's segments onto dst.
func (m *oddfsImage) put(dst *oddfsImage) {
	for _, s := range m.segs {
		copy(dst.at(s.off, len(s.b)), s.b)
	}
}

// oddfsPatched writes s at off over img.
func oddfsPatched(img *oddfsImage, off int64, s string) *oddfsImage {
	copy(img.at(off, len(s)), s)
	return img
}

// oddfsTruncated shrinks img to size bytes.
func oddfsTruncated(img *oddfsImage, size int64) *oddfsImage {
	img.size = size
	return img
}

// bytes flattens a small image.
func (m *oddfsImage) bytes() []byte {
	b := make([]byte, m.size)
	m.ReadAt(b, 0)
	return b
}

// file writes the image as a sparse file.
func (m *oddfsImage) file(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(m.size); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.segs {
		if _, err := f.WriteAt(s.b, s.off); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// oddfsCase is one synthetic image and the answer worked out for it by
// hand; a nil want means nothing is found.
type oddfsCase struct {
	name string
	img  *oddfsImage
	want *Result
}

// oddfsCheck probes each image in memory against its hand-worked answer
// and, where blkid is installed, writes it out and checks that blkid -p
// agrees, which proves the synthetic builders faithful too.
func oddfsCheck(t *testing.T, cases []oddfsCase) {
	t.Helper()
	_, noBlkid := testenv.LookTool("blkid")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = &Result{}
			}
			got, err := ReaderAt(context.Background(), tc.img, tc.img.size)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if noBlkid == nil {
				compareWithBlkid(t, tc.img.file(t))
			}
		})
	}
}

// oddfsRun calls one prober on an image directly, outside the registry's
// size limits and order.
func oddfsRun(t *testing.T, img *oddfsImage, fn func(*source) (*sb, error)) (*sb, error) {
	t.Helper()
	s, err := newSource(context.Background(), img, img.size)
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	return fn(s)
}

// oddfsNone checks that fn finds nothing on img and fails no read.
func oddfsNone(t *testing.T, name string, img *oddfsImage, fn func(*source) (*sb, error)) {
	t.Helper()
	if got, err := oddfsRun(t, img, fn); got != nil || err != nil {
		t.Errorf("%s: got %+v, %v; want nothing", name, got, err)
	}
}

// zfsPair is one nvpair of a synthetic label: a string, a uint64 or a
// nested list.
type zfsPair struct {
	name   string
	str    *string
	u64    *uint64
	nested []zfsPair
	// raw replaces the encoded pair when set (for damaged pairs).
	raw []byte
}

func zfsStr(name, v string) zfsPair        { return zfsPair{name: name, str: &v} }
func zfsU64(name string, v uint64) zfsPair { return zfsPair{name: name, u64: &v} }

func zfsPad4(n int) int { return (n + 3) &^ 3 }

// zfsEncodePairs encodes pairs as XDR nvpairs, big endian, each with its
// encoded size first; a nested list is its 16-byte header, its pairs and
// the 8 zero bytes that end it. The list itself ends with a zero size.
func zfsEncodePairs(pairs []zfsPair) []byte {
	var out []byte
	be32 := func(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
	for _, p := range pairs {
		if p.raw != nil {
			out = append(out, p.raw...)
			continue
		}
		name := make([]byte, zfsPad4(len(p.name)))
		copy(name, p.name)
		var val []byte
		switch {
		case p.str != nil:
			val = be32(be32(be32(nil, zfsTypeString), 1), uint32(len(*p.str)))
			s := make([]byte, zfsPad4(len(*p.str)+1))
			copy(s, *p.str)
			val = append(val, s...)
		case p.u64 != nil:
			val = binary.BigEndian.AppendUint64(be32(be32(nil, zfsTypeUint64), 1), *p.u64)
		default:
			// type, element count, nvlist version and flags
			val = be32(be32(be32(be32(nil, zfsTypeNVList), 1), 0), 1)
		}
		if p.str == nil && p.u64 == nil {
			// the nested pairs, and with the list's own end 8 zero bytes
			val = append(val, zfsEncodePairs(p.nested)...)
			val = append(val, 0, 0, 0, 0)
		}
		// The encoded size covers a nested list too; blkid checks it
		// against what is left of its 4 KiB before stepping inside.
		size := 12 + len(name) + len(val)
		out = be32(out, uint32(size))
		out = be32(out, uint32(size)) // decoded size: blkid does not read it
		out = be32(out, uint32(len(p.name)))
		out = append(out, name...)
		out = append(out, val...)
	}
	return append(out, 0, 0, 0, 0)
}

// zfsEncodeNVList is a whole label nvlist: the XDR encoding header and the
// list's version and flags, then the pairs.
func zfsEncodeNVList(pairs []zfsPair) []byte {
	return append([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, zfsEncodePairs(pairs)...)
}

// zfsLabel is what one synthetic label holds: the nvlist and how many
// uberblocks, of which version, in which byte order, at which slot step.
type zfsLabel struct {
	nv      []byte
	ubs     int
	version uint64
	swapped bool
	step    int // slot step in KiB; 0 means 1
}

// zfsLabelOffsets are the four label places on a device of size bytes, as
// worked out from the ZFS on-disk format: the end labels are placed from
// the size rounded down to 256 KiB.
func zfsLabelOffsets(size int64) [4]int64 {
	end := size &^ (256<<10 - 1)
	return [4]int64{0, 256 << 10, end - 512<<10, end - 256<<10}
}

func (l zfsLabel) put(img *oddfsImage, off int64) {
	if l.nv != nil {
		copy(img.at(off+16<<10, len(l.nv)), l.nv)
	}
	if l.ubs == 0 {
		return
	}
	step := max(l.step, 1) << 10
	ring := img.at(off+128<<10, 128<<10)
	for i := 0; i < l.ubs; i++ {
		ub := ring[i*step:]
		if l.swapped {
			binary.BigEndian.PutUint64(ub, zfsUberMagic)
			binary.BigEndian.PutUint64(ub[8:], l.version)
		} else {
			binary.LittleEndian.PutUint64(ub, zfsUberMagic)
			binary.LittleEndian.PutUint64(ub[8:], l.version)
		}
		binary.LittleEndian.PutUint64(ub[16:], 100+uint64(i)) // txg, not read
	}
}

// synthZFS places up to four labels (nil entries stay empty) on a device of
// size bytes.
func synthZFS(size int64, labels [4]*zfsLabel) *oddfsImage {
	img := newOddfsImage(size)
	for i, off := range zfsLabelOffsets(size) {
		if labels[i] != nil {
			labels[i].put(img, off)
		}
	}
	return img
}

// zfsPool is a label nvlist as ZFS writes it, with the vdev tree nested in
// the middle (its guid is not the vdev's for blkid; the top-level one is).
func zfsPool(name string, pool, vdev uint64) []byte {
	return zfsEncodeNVList([]zfsPair{
		zfsU64("version", 5000),
		zfsStr("name", name),
		zfsU64("state", 1),
		zfsU64("txg", 4),
		zfsU64("pool_guid", pool),
		zfsStr("hostname", "host"),
		zfsU64("top_guid", 77),
		zfsU64("guid", vdev),
		zfsU64("vdev_children", 1),
		{name: "vdev_tree", nested: []zfsPair{
			zfsStr("type", "file"),
			zfsU64("id", 0),
			zfsU64("guid", 999),
			zfsStr("name", "nested"),
			zfsU64("ashift", 9),
			{name: "features", nested: []zfsPair{zfsU64("guid", 998)}},
		}},
		zfsStr("comment", "after the tree"),
	})
}

func TestZFS(t *testing.T) {
	const mib = 1 << 20
	const size = 64 * mib
	pool := zfsPool("tank", 1782036546311300980, 13179280127379850514)
	zfsRes := func(ver, label, uuid, sub string) *Result {
		return &Result{Type: "zfs_member", Usage: UsageFilesystem, Version: ver, Label: label, UUID: uuid, UUIDSub: sub}
	}
	each := func(l zfsLabel) [4]*zfsLabel { return [4]*zfsLabel{&l, &l, &l, &l} }
	named := func(i int, ubs int) *zfsLabel {
		return &zfsLabel{nv: zfsPool("pool-L"+string(rune('0'+i)), uint64(1000+i), uint64(2000+i)), ubs: ubs, version: uint64(20 + i)}
	}
	// A disk whose only partition starts at 1 MiB and runs to the end, with
	// a vdev in it: the disk's end labels are the vdev's end labels.
	covered := func(extra uint32) *oddfsImage {
		img := synthZFS(size, [4]*zfsLabel{nil, nil, named(2, 5), named(3, 5)})
		copy(img.at(0, 512), synthMBR(512, 0x11223344, []synthPart{{2048, uint64(size/512 - 2048 + int64(extra)), 0x83, false}}, nil))
		return img
	}
	dupName := zfsEncodeNVList([]zfsPair{zfsStr("name", "first"), zfsU64("guid", 1), zfsStr("name", "second"), zfsU64("guid", 2), zfsStr("name", "")})
	prefix := zfsEncodeNVList([]zfsPair{zfsStr("na", "prefix"), zfsU64("pool_", 5), zfsU64("gu", 6)})
	// A pair claiming more bytes than the 4 KiB blkid reads ends the walk:
	// what came before it stays.
	long := zfsEncodeNVList([]zfsPair{zfsStr("name", "kept"), {raw: []byte{0, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 0, 0, 4, 'g', 'u', 'i', 'd'}}, zfsU64("guid", 3)})

	oddfsCheck(t, []oddfsCase{
		{"four labels of five", synthZFS(size, each(zfsLabel{nv: pool, ubs: 5, version: 5000})),
			zfsRes("5000", "tank", "1782036546311300980", "13179280127379850514")},
		// One uberblock per label: the fourth is found in L3, whose
		// nvlist and uberblock are the ones reported.
		{"one per label", synthZFS(size, [4]*zfsLabel{named(0, 1), named(1, 1), named(2, 1), named(3, 1)}),
			zfsRes("23", "pool-L3", "1003", "2003")},
		{"two and two", synthZFS(size, [4]*zfsLabel{named(0, 2), named(1, 2), named(2, 2), named(3, 2)}),
			zfsRes("21", "pool-L1", "1001", "2001")},
		{"L0 alone", synthZFS(size, [4]*zfsLabel{named(0, 4), nil, nil, nil}),
			zfsRes("20", "pool-L0", "1000", "2000")},
		{"L2 and L3 only", synthZFS(size, [4]*zfsLabel{nil, nil, named(2, 3), named(3, 3)}),
			zfsRes("23", "pool-L3", "1003", "2003")},
		{"three in all", synthZFS(size, [4]*zfsLabel{named(0, 1), nil, named(2, 1), named(3, 1)}), nil},
		// 4 KiB slots (ashift 12): 32 uberblocks per ring, each counted once.
		{"ashift 12", synthZFS(size, each(zfsLabel{nv: pool, ubs: 2, version: 28, step: 4})),
			zfsRes("28", "tank", "1782036546311300980", "13179280127379850514")},
		{"big endian", synthZFS(size, each(zfsLabel{nv: pool, ubs: 4, version: 5000, swapped: true})),
			zfsRes("5000", "tank", "1782036546311300980", "13179280127379850514")},
		// The size is not a multiple of 256 KiB: the end labels move down.
		{"unaligned size", synthZFS(size+100<<10+512, [4]*zfsLabel{nil, nil, named(2, 2), named(3, 2)}),
			zfsRes("23", "pool-L3", "1003", "2003")},
		{"no nvlist", synthZFS(size, each(zfsLabel{ubs: 4, version: 1})), zfsRes("1", "", "", "")},
		{"zero pool guid", synthZFS(size, each(zfsLabel{nv: zfsPool("  spaced  ", 0, 0), ubs: 4, version: 5})),
			zfsRes("5", "  spaced", "", "0")},
		{"duplicate keys", synthZFS(size, each(zfsLabel{nv: dupName, ubs: 4, version: 5})),
			zfsRes("5", "second", "", "2")},
		{"name prefixes", synthZFS(size, each(zfsLabel{nv: prefix, ubs: 4, version: 5})),
			zfsRes("5", "prefix", "5", "6")},
		{"oversized pair", synthZFS(size, each(zfsLabel{nv: long, ubs: 4, version: 5})),
			zfsRes("5", "kept", "", "")},
		{"covered by a partition", covered(0), &Result{PTType: "dos", PTUUID: "11223344"}},
		// A partition running past the end makes blkid distrust the table.
		{"partition past the end", covered(8), &Result{Type: "zfs_member", Usage: UsageFilesystem, Version: "22", Label: "pool-L2",
			UUID: "1002", UUIDSub: "2002", PTType: "dos", PTUUID: "11223344"}},
		{"too small", synthZFS(size-512, each(zfsLabel{nv: pool, ubs: 5, version: 5000})), nil},
		{"empty", newOddfsImage(size), nil},
	})
}

// TestZFSPartitionNotCovered probes the covered disk's region as the
// partition it is: a partition asks no table, so the vdev is found.
func TestZFSPartitionNotCovered(t *testing.T) {
	const size = 64 << 20
	img := synthZFS(size, [4]*zfsLabel{nil, nil, {nv: zfsPool("p", 1, 2), ubs: 5, version: 7}, {nv: zfsPool("p", 1, 2), ubs: 5, version: 7}})
	copy(img.at(0, 512), synthMBR(512, 1, []synthPart{{2048, size/512 - 2048, 0x83, false}}, nil))
	s, err := newSource(context.Background(), img, img.size)
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	if r, err := probeZFS(s); r != nil || err != nil {
		t.Fatalf("whole disk: %+v, %v", r, err)
	}
	s.wholeDisk = false
	r, err := probeZFS(s)
	if err != nil || r == nil || r.label != "p" || r.version != "7" {
		t.Fatalf("as a partition: %+v, %v", r, err)
	}
}

// zfsReadLog records every read a probe issues.
type zfsReadLog struct {
	r    io.ReaderAt
	offs [][2]int64
}

func (l *zfsReadLog) ReadAt(p []byte, off int64) (int, error) {
	l.offs = append(l.offs, [2]int64{off, int64(len(p))})
	return l.r.ReadAt(p, off)
}

// TestZFSReads pins what the ZFS prober reads: the four uberblock rings (the
// last one from the cached tail) and, once found, the nvlist of the label
// where the count reached four - never whole 256 KiB labels.
func TestZFSReads(t *testing.T) {
	const size = 64 << 20
	const k = 1 << 10
	for _, tc := range []struct {
		name string
		img  *oddfsImage
		want [][2]int64
	}{
		{"nothing", newOddfsImage(size), [][2]int64{
			{128 * k, 128 * k}, {384 * k, 128 * k}, {size - 384*k, 128 * k}, {size - 256*k, 256 * k}}},
		{"found in L1", synthZFS(size, [4]*zfsLabel{{ubs: 2}, {nv: zfsPool("t", 1, 2), ubs: 2}, nil, nil}), [][2]int64{
			{128 * k, 128 * k}, {384 * k, 128 * k}, {272 * k, 4 * k}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &zfsReadLog{r: tc.img}
			s, err := newSource(context.Background(), log, size)
			if err != nil {
				t.Fatal(err)
			}
			defer s.release()
			if _, err := probeZFS(s); err != nil {
				t.Fatal(err)
			}
			got := log.offs[1:] // after the head
			if !slices.Equal(got, tc.want) {
				t.Errorf("reads %v, want %v", got, tc.want)
			}
		})
	}
}

// zfsFailing fails reads that touch [from, to).
type zfsFailing struct {
	r        io.ReaderAt
	from, to int64
}

var errZFSTest = errors.New("injected")

func (f zfsFailing) ReadAt(p []byte, off int64) (int, error) {
	if off < f.to && off+int64(len(p)) > f.from {
		return 0, errZFSTest
	}
	return f.r.ReadAt(p, off)
}

// TestZFSReadErrors: an unreadable label fails the probe, as in blkid,
// unless a partition covers it (blkid would not have read it).
func TestZFSReadErrors(t *testing.T) {
	const size = 64 << 20
	img := newOddfsImage(size)
	s, err := newSource(context.Background(), zfsFailing{img, 384 << 10, 512 << 10}, size)
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	if _, err := probeZFS(s); !errors.Is(err, errZFSTest) {
		t.Errorf("L1 unreadable: err %v", err)
	}

	cov := newOddfsImage(size)
	copy(cov.at(0, 512), synthMBR(512, 1, []synthPart{{2048, size/512 - 2048, 0x83, false}}, nil))
	end := zfsLabelOffsets(size)[2]
	s2, err := newSource(context.Background(), zfsFailing{cov, end, end + 256<<10}, size)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.release()
	if r, err := probeZFS(s2); r != nil || err != nil {
		t.Errorf("covered L2 unreadable: %+v, %v", r, err)
	}
}

// TestZFSNVListBounds feeds the nvlist walk damaged lists: none may panic,
// and what came before the damage is kept.
func TestZFSNVListBounds(t *testing.T) {
	good := zfsEncodeNVList([]zfsPair{zfsStr("name", "ok")})
	for _, b := range [][]byte{
		make([]byte, zfsNVListSize),
		bytes.Repeat([]byte{0xff}, zfsNVListSize),
		append(bytes.Clone(good[:len(good)-4]), 0, 0, 0, 13, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		append(bytes.Clone(good[:len(good)-4]), 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 8, 'n', 'a', 'm', 'e'),
		// a nested list that never ends
		zfsEncodeNVList([]zfsPair{zfsStr("name", "ok"), {name: "tree", nested: slices.Repeat([]zfsPair{{name: "t", nested: nil}}, 100)}}),
	} {
		buf := make([]byte, zfsNVListSize)
		copy(buf, b)
		r := &sb{}
		zfsNVList(buf, r)
		if bytes.HasPrefix(b, good[:len(good)-4]) && r.label != "ok" {
			t.Errorf("label %q lost", r.label)
		}
	}
}

// FuzzZFS fuzzes the nvlist and the uberblock ring of L0, the two parts of
// a label the prober parses; L1 may hold four uberblocks so that the fuzzed
// nvlist is parsed whatever the ring holds. (fuzzProbers places one input
// at one offset; a label's two parts are 112 KiB apart.) The nvlist input
// is cut to the 4 KiB blkid reads and the ring to its first 16 slots, so
// the fuzzer does not spend its time minimizing bytes nothing reads.
func FuzzZFS(f *testing.F) {
	ring := make([]byte, 4096)
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(ring[i*1024:], zfsUberMagic)
	}
	f.Add(zfsPool("tank", 1, 2), ring, false)
	f.Add(zfsEncodeNVList([]zfsPair{zfsStr("na", "x"), {name: "", nested: []zfsPair{zfsU64("guid", 1)}}}), ring[:1024], true)
	f.Fuzz(func(t *testing.T, nv, ring []byte, l1 bool) {
		const size = 64 << 20
		img := newOddfsImage(size)
		copy(img.at(16<<10, min(len(nv), zfsNVListSize)), nv)
		copy(img.at(128<<10, min(len(ring), 16<<10)), ring)
		if l1 {
			(&zfsLabel{ubs: 4}).put(img, 256<<10)
		}
		s, err := newSource(context.Background(), img, size)
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		if _, err := probeZFS(s); err != nil && err != errBudget {
			t.Fatalf("in-memory image: %v", err)
		}
	})
}

// TestDifferentialZFSFuse makes pools with zfs-fuse (pool version 23 at
// most; version 1 and 10 too), exports them so the labels are final, and
// compares each vdev with blkid, also after wiping labels so the count
// reaches four only in a later label.
func TestDifferentialZFSFuse(t *testing.T) {
	testenv.ZFSFuse(t)
	dir := t.TempDir()
	img := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		if err := truncateFile(p, size); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const mib = 1 << 20
	a := img("a.img", 100*mib)
	b, c := img("b.img", 100*mib), img("c.img", 100*mib+100<<10)
	d := img("d.img", 70*mib)
	create := func(args ...string) {
		testenv.Run(t, "zpool", append([]string{"create", "-f", "-m", "none", "-o", "cachefile=none"}, args...)...)
	}
	create("tank", a)
	create("mirr", "mirror", b, c)
	create("-o", "version=1", "old", d)
	for _, p := range []string{"tank", "mirr", "old"} {
		testenv.Run(t, "zpool", "export", p)
	}
	wants := map[string]string{a: "tank", b: "mirr", c: "mirr", d: "old"}
	for _, p := range []string{a, b, c, d} {
		r := compareWithBlkid(t, p)
		if r.Type != "zfs_member" || r.Label != wants[p] {
			t.Errorf("%s: %+v", p, r)
		}
	}
	subs := map[string]bool{}
	for _, p := range []string{b, c} {
		r := compareWithBlkid(t, p)
		subs[r.UUIDSub] = true
	}
	if len(subs) != 2 {
		t.Errorf("mirror legs share UUID_SUB %v", subs)
	}
	// Wipe labels: L0 of d (two uberblocks a label at version 1), then L0
	// and L1 of c (unaligned size), then all but L3.
	for _, w := range []struct {
		path   string
		labels []int
	}{{d, []int{0}}, {d, []int{1}}, {c, []int{0, 1}}, {a, []int{0, 1, 2}}} {
		fi, err := os.Stat(w.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range w.labels {
			testenv.PatchFile(t, w.path, zfsLabelOffsets(fi.Size())[l], make([]byte, 256<<10))
		}
		compareWithBlkid(t, w.path)
	}
}
