package probe

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// Firmware RAID members built by hand: each vendor's metadata at its place
// from the end, with checksums where blkid 2.38 checks one.

// raidSynth returns a zeroed device of size bytes with meta written k
// 512-byte sectors before its end.
func raidSynth(size int, k int, meta []byte) []byte {
	b := make([]byte, size)
	copy(b[(size/512-k)*512:], meta)
	return b
}

// raidDDFHeader is a DDF anchor: guid and rev as given, the primary header's
// LBA (written, when nonzero and inside the device, by raidSynthDDF).
func raidDDFHeader(order binary.ByteOrder, guid []byte, rev string, primary uint64) []byte {
	h := bytes.Repeat([]byte{0xff}, 512)
	order.PutUint32(h[0:], 0xde11de11)
	order.PutUint32(h[4:], 0x12345678) // crc: blkid 2.38 does not check it
	clear(h[8:40])
	copy(h[8:32], guid)
	copy(h[32:40], rev)
	order.PutUint32(h[40:], 1)
	order.PutUint64(h[96:], primary)
	order.PutUint64(h[104:], ^uint64(0))
	return h
}

func raidSynthDDF(size, k int, order binary.ByteOrder, guid []byte, rev string, primary uint64) []byte {
	h := raidDDFHeader(order, guid, rev, primary)
	b := raidSynth(size, k, h)
	if primary > 0 && primary*512+512 <= uint64(size) {
		copy(b[primary*512:], h)
	}
	return b
}

var raidDDFGUID = []byte("Linux-MD\xde\xad\xbe\xef\x00\x00\x00\x00\x39\x23\xf6\xe3\x20\x9a\x73\xe6")

func raidISW(version string, after []byte) []byte {
	m := make([]byte, 512)
	copy(m, raidISWSig)
	copy(m[24:32], version)
	copy(m[32:], after)
	return m
}

func raidVIA(version byte, sumDelta byte) []byte {
	m := make([]byte, 512)
	binary.LittleEndian.PutUint16(m, 0xaa55)
	m[2] = version
	binary.LittleEndian.PutUint16(m[3:], 0x3)
	binary.LittleEndian.PutUint32(m[6:], 123456789)
	for i := 14; i < 50; i++ {
		m[i] = byte(i * 7)
	}
	var sum byte
	for _, c := range m[:50] {
		sum += c
	}
	m[50] = sum + sumDelta
	return m
}

func raidSil(major, minor uint16, disk byte, sumDelta uint16) []byte {
	m := make([]byte, 512)
	l := binary.LittleEndian
	copy(m[0x2e:], "SiI 3114")
	l.PutUint32(m[raidSilMagicOff:], 0x2f000000)
	l.PutUint32(m[0x6c:], 3000000)
	l.PutUint16(m[0x104:], 0x3114)
	l.PutUint16(m[0x106:], 0x1095)
	l.PutUint16(m[0x108:], minor)
	l.PutUint16(m[0x10a:], major)
	m[0x116] = disk
	raidSilSum(m, sumDelta)
	return m
}

// raidSilSum sets the checksum that makes the words up to it sum to zero,
// off by delta.
func raidSilSum(m []byte, delta uint16) {
	var sum uint16
	for i := 0; i < raidSilCsumOff; i += 2 {
		sum += binary.LittleEndian.Uint16(m[i:])
	}
	binary.LittleEndian.PutUint16(m[raidSilCsumOff:], -sum+delta)
}

func raidNV(version uint16) []byte {
	m := make([]byte, 512)
	copy(m, "NVIDIA  ")
	binary.LittleEndian.PutUint32(m[8:], 30)
	binary.LittleEndian.PutUint16(m[16:], version)
	return m
}

func raidAdaptec(resver byte) []byte {
	m := make([]byte, 512)
	binary.BigEndian.PutUint32(m, 0x37fc4d1e)
	m[63] = resver
	copy(m[256:], "DPTM")
	return m
}

func raidJM(major, minor byte) []byte {
	m := make([]byte, 512)
	copy(m, "JM")
	m[2], m[3] = minor, major
	return m
}

func raidHPT45x(magic uint32) []byte {
	m := make([]byte, 512)
	binary.LittleEndian.PutUint32(m, magic)
	return m
}

func raidHPT37x(size int, magic uint32) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b[4096+544:], magic)
	return b
}

// raidProbers are md's and the firmware RAID probers, in blkid's order.
var raidProbers = []func(*source) (*sb, error){
	probeLinuxRaid, probeDDFRaid, probeISWRaid, probeLSIRaid, probeVIARaid, probeSilRaid,
	probeNVRaid, probePDCRaid, probeHPT45xRaid, probeHPT37xRaid, probeAdaptecRaid, probeJMRaid,
}

type raidCase struct {
	img  []byte
	want Result
}

// raidImages are the synthetic members with blkid's answers worked out by
// hand from the layouts; an empty want means no member.
func raidImages() map[string]raidCase {
	const mib = 1 << 20
	member := func(typ, ver, uuid string) Result {
		return Result{Type: typ, Usage: UsageRaid, Version: ver, UUID: uuid}
	}
	ddf := func(ver, uuid string) Result { return member("ddf_raid_member", ver, uuid) }
	be, le := binary.BigEndian, binary.LittleEndian
	const ddfUUID = "Linux-MD\xde\xad\xbe\xef"
	imgs := map[string]raidCase{
		"ddf-be":             {raidSynthDDF(4*mib, 1, be, raidDDFGUID, "01.02.00", 0x1000), ddf("01.02.00", ddfUUID)},
		"ddf-le":             {raidSynthDDF(4*mib, 1, le, raidDDFGUID, "01.00.00", 0x1000), ddf("01.00.00", ddfUUID)},
		"ddf-257":            {raidSynthDDF(4*mib, 257, be, []byte("ABCDEFGH  ok  \x00junk"), "02", 0x1800), ddf("02", "ABCDEFGH  ok")},
		"ddf-no-primary":     {raidSynthDDF(4*mib, 1, be, raidDDFGUID, "01.02.00", 0), ddf("01.02.00", ddfUUID)},
		"ddf-full-fields":    {raidSynthDDF(4*mib, 1, be, []byte("0123456789abcdefghijklmnopq"), "01.02.00x", 0x100), ddf("01.02.00", "0123456789abcdefghijklmn")},
		"ddf-nul-guid":       {raidSynthDDF(4*mib, 1, be, []byte("\x00abc"), "01.02.00", 0x100), ddf("01.02.00", "")},
		"ddf-lba-wraps":      {raidDDFWrap(4 * mib), ddf("01.02.00", ddfUUID)},
		"ddf-primary-gone":   {raidDDFPrimaryGone(4 * mib), Result{}},
		"ddf-primary-beyond": {raidSynthDDF(4*mib, 1, be, raidDDFGUID, "01.02.00", 4*mib/512), Result{}},
		"ddf-floppy-size":    {raidSynthDDF(tinySize, 1, be, raidDDFGUID, "01.02.00", 0), Result{}},
		"ddf-above-floppy":   {raidSynthDDF(tinySize+512, 1, be, raidDDFGUID, "01.02.00", 0), ddf("01.02.00", ddfUUID)},
		"ddf-258":            {raidSynthDDF(4*mib, 258, be, raidDDFGUID, "01.02.00", 0), Result{}},

		"isw":             {raidSynth(2*mib, 2, raidISW("1.0.00", nil)), member("isw_raid_member", "1.0.00", "")},
		"isw-short":       {raidSynth(2*mib, 2, raidISW("1.3", nil)), member("isw_raid_member", "   1.3", "")},
		"isw-long":        {raidSynth(2*mib, 2, raidISW("1.2.02ab", []byte{0, 1, 2})), member("isw_raid_member", "1.2.02ab", "")},
		"isw-runs-on":     {raidSynth(2*mib, 2, raidISW("1.2.02ab", []byte("cd\x00e"))), member("isw_raid_member", "1.2.02abcd", "")},
		"isw-last-sector": {raidSynth(2*mib, 1, raidISW("1.0.00", nil)), Result{}},
		"isw-floppy-size": {raidSynth(tinySize, 2, raidISW("1.0.00", nil)), Result{}},
		"lsi":             {raidSynth(2*mib, 1, []byte("$XIDE$")), member("lsi_mega_raid_member", "", "")},
		"lsi-second-last": {raidSynth(2*mib, 2, []byte("$XIDE$")), Result{}},
		"via-0":           {raidSynth(2*mib, 1, raidVIA(0, 0)), member("via_raid_member", "0", "")},
		"via-2":           {raidSynth(2*mib, 1, raidVIA(2, 0)), member("via_raid_member", "2", "")},
		"via-3":           {raidSynth(2*mib, 1, raidVIA(3, 0)), Result{}},
		"via-bad-sum":     {raidSynth(2*mib, 1, raidVIA(1, 1)), Result{}},
		"sil":             {raidSynth(2*mib, 1, raidSil(2, 3, 0, 0)), member("silicon_medley_raid_member", "2.3", "")},
		"sil-disk-7":      {raidSynth(2*mib, 1, raidSil(10, 65535, 7, 0)), member("silicon_medley_raid_member", "10.65535", "")},
		"sil-disk-8":      {raidSynth(2*mib, 1, raidSil(2, 3, 8, 0)), Result{}},
		"sil-bad-sum":     {raidSynth(2*mib, 1, raidSil(2, 3, 0, 1)), Result{}},
		"nvidia":          {raidSynth(2*mib, 2, raidNV(100)), member("nvidia_raid_member", "100", "")},
		"nvidia-v0":       {raidSynth(2*mib, 2, raidNV(0)), member("nvidia_raid_member", "0", "")},
		"nvidia-last":     {raidSynth(2*mib, 1, raidNV(100)), Result{}},
		"hpt45x-ok":       {raidSynth(2*mib, 11, raidHPT45x(0x5a7816f3)), member("hpt45x_raid_member", "", "")},
		"hpt45x-bad":      {raidSynth(2*mib, 11, raidHPT45x(0x5a7816fd)), member("hpt45x_raid_member", "", "")},
		"hpt45x-other":    {raidSynth(2*mib, 11, raidHPT45x(0x5a7816f0)), Result{}},
		"hpt45x-10":       {raidSynth(2*mib, 10, raidHPT45x(0x5a7816f3)), Result{}},
		"hpt37x-ok":       {raidHPT37x(2*mib, 0x5a7816f0), member("hpt37x_raid_member", "", "")},
		"hpt37x-bad":      {raidHPT37x(2*mib, 0x5a7816fd), member("hpt37x_raid_member", "", "")},
		"hpt37x-floppy":   {raidHPT37x(tinySize, 0x5a7816f0), Result{}},
		"adaptec":         {raidSynth(2*mib, 1, raidAdaptec(8)), member("adaptec_raid_member", "8", "")},
		"adaptec-no-dptm": {raidSynth(2*mib, 1, raidAdaptec(8)[:256]), Result{}},
		"jmicron":         {raidSynth(2*mib, 1, raidJM(0, 1)), member("jmicron_raid_member", "0.1", "")},
		"jmicron-2.255":   {raidSynth(2*mib, 1, raidJM(2, 255)), member("jmicron_raid_member", "2.255", "")},
		// A size that is no multiple of 512: blkid counts whole sectors.
		"jmicron-odd-size": {raidSynth(2*mib+300, 1, raidJM(1, 0)), member("jmicron_raid_member", "1.0", "")},
		// blkid looks for no RAID member on a device of floppy size.
		"jmicron-floppy-size":  {raidSynth(tinySize, 1, raidJM(1, 0)), Result{}},
		"jmicron-above-floppy": {raidSynth(tinySize+512, 1, raidJM(1, 0)), member("jmicron_raid_member", "1.0", "")},
	}
	for _, k := range raidPDCSectors {
		imgs["promise-"+itoa(uint32(k))] = raidCase{raidSynth(2*mib, int(k), []byte(raidPDCSig)), member("promise_fasttrack_raid_member", "", "")}
	}
	// A device of 3000 sectors has room for every copy but the farthest,
	// which blkid then skips.
	imgs["promise-3000-sectors"] = raidCase{raidSynth(3000*512, 991, []byte(raidPDCSig)), member("promise_fasttrack_raid_member", "", "")}
	imgs["promise-3000-sectors-none"] = raidCase{raidSynth(3000*512, 1, nil), Result{}}
	imgs["promise-elsewhere"] = raidCase{raidSynth(2*mib, 400, []byte(raidPDCSig)), Result{}}
	imgs["promise-floppy-size"] = raidCase{raidSynth(tinySize, 63, []byte(raidPDCSig)), Result{}}
	// Metadata of two vendors: blkid's order decides (VIA before JMicron
	// cannot share a sector; Silicon Image's magic at 0x60 can sit under
	// LSI's signature, and LSI comes first).
	lsiSil := raidSil(2, 3, 0, 0)
	copy(lsiSil, "$XIDE$")
	raidSilSum(lsiSil, 0)
	imgs["lsi-over-sil"] = raidCase{raidSynth(2*mib, 1, lsiSil), member("lsi_mega_raid_member", "", "")}
	imgs["ddf-before-isw"] = raidCase{raidDDFAndISW(4 * mib), ddf("01.02.00", ddfUUID)}
	return imgs
}

// raidDDFWrap names a primary LBA whose 64-bit byte offset wraps to 0; the
// device's first bytes hold the anchor's magic, so blkid accepts it.
func raidDDFWrap(size int) []byte {
	b := raidSynthDDF(size, 1, binary.BigEndian, raidDDFGUID, "01.02.00", 1<<55)
	copy(b, "\xde\x11\xde\x11")
	return b
}

// raidDDFPrimaryGone: the anchor names a primary header that was wiped.
func raidDDFPrimaryGone(size int) []byte {
	b := raidSynthDDF(size, 1, binary.BigEndian, raidDDFGUID, "01.02.00", 0x1000)
	clear(b[0x1000*512 : 0x1000*512+512])
	return b
}

func raidDDFAndISW(size int) []byte {
	b := raidSynthDDF(size, 1, binary.BigEndian, raidDDFGUID, "01.02.00", 0)
	copy(b[size-1024:], raidISW("1.0.00", nil))
	return b
}

func TestRaidSynthetic(t *testing.T) {
	for name, tc := range raidImages() {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(&tc.want, probeBytes(t, tc.img)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

// TestRaidPartitionGate: blkid looks for firmware metadata only on whole
// disks and images, DDF excepted; the same bytes probed as a partition are
// no member.
func TestRaidPartitionGate(t *testing.T) {
	for name, tc := range raidImages() {
		t.Run(name, func(t *testing.T) {
			got := probeBytes(t, tc.img, WithParentTable(&Table{}, "8:0", 2048, uint64(len(tc.img)/512)))
			want := Result{}
			if tc.want.Type == "ddf_raid_member" {
				want = tc.want
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("as a partition (-want +got)\n%s", diff)
			}
		})
	}
}

// TestRaidReads: the tail probers cost one read between them; Promise adds
// one small read for each far copy it has to look at.
func TestRaidReads(t *testing.T) {
	const size = 64 << 20
	img := raidSynth(size, 1, nil)
	r := &raidCountingReader{r: bytes.NewReader(img)}
	s, err := newSource(t.Context(), r, size)
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	for i, fn := range raidProbers {
		if got, err := fn(s); got != nil || err != nil {
			t.Fatalf("prober %d on zeros: %+v %v", i, got, err)
		}
	}
	// head, tail, then Promise's 8 copies beyond the tail
	if r.n != 1+1+8 || s.extra != 8 {
		t.Errorf("reads = %d (extra %d), want 10 (extra 8)", r.n, s.extra)
	}
}

type raidCountingReader struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	n int
}

func (c *raidCountingReader) ReadAt(p []byte, off int64) (int, error) {
	c.n++
	return c.r.ReadAt(p, off)
}

func TestRaidTruncated(t *testing.T) {
	for name, tc := range raidImages() {
		for _, cut := range []int{0, 1, 511, 513, 0x10000, 0x10001, len(tc.img) - 1} {
			if cut < 0 || cut > len(tc.img) {
				continue
			}
			s := mdSource(t, tc.img[:cut])
			for i, fn := range raidProbers {
				if _, err := fn(s); err != nil {
					t.Errorf("%s cut to %d: prober %d: %v", name, cut, i, err)
				}
			}
		}
	}
}

func TestRaidDifferential(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	for name, tc := range raidImages() {
		t.Run(name, func(t *testing.T) {
			compareWithBlkid(t, writeImage(t, name+".img", tc.img))
		})
	}
}

// TestRaidOnLoop puts members where blkid's whole-disk rules matter, on a
// loop device with partitions: a partition ending in Intel metadata (blkid
// ignores it there) and the disk's last partition holding an md 0.90 member
// (blkid reports the disk's table, and the member on the partition).
func TestRaidOnLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sfdisk", "partx", "blkid")
	const size = 16 << 20
	img := sparseImage(t, "raid.img", size)
	runStdin(t, "label: dos\nlabel-id: 0x0badcafe\nstart=2048,size=8192,type=83\nstart=10240,type=fd\n", "sfdisk", "-q", img)
	testenv.PatchFile(t, img, (2048+8192-2)*512, raidISW("1.0.00", nil))
	testenv.PatchFile(t, img, (2048+8192-1)*512, raidJM(0, 1))
	md := make([]byte, 4096)
	mdPut0(md, binary.LittleEndian, 90, mdUUIDWords, 1024)
	testenv.PatchFile(t, img, size-mdReserved, md)
	loop := testenv.LoopFile(t, img)
	res := checkPartitions(t, img, loop, []int{1, 2})
	if res[1].Type != "" || res[2].Type != "linux_raid_member" {
		t.Errorf("p1 %+v, p2 %+v", res[1], res[2])
	}
	if r := compareWithBlkid(t, loop); r.PTType != "dos" || r.Type != "" {
		t.Errorf("disk: %+v", r)
	}
	// The image itself, and the first partition's bytes as an image of
	// their own, which blkid treats as a whole device.
	compareWithBlkid(t, img)
	part := testenv.ReadFileAt(t, img, 2048*512, 8192*512)
	if r := compareWithBlkid(t, writeImage(t, "p1.img", part)); r.Type != "isw_raid_member" {
		t.Errorf("p1 as an image: %+v", r)
	}
}

// raidFuzzReader is a device of size bytes, zero but for head at its start
// and meta at metaOff: the fuzzed bytes stay small wherever they sit.
type raidFuzzReader struct {
	head, meta []byte
	metaOff    int64
	size       int64
}

func (r raidFuzzReader) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	put := func(b []byte, at int64) {
		lo, hi := max(off, at), min(off+int64(len(p)), at+int64(len(b)))
		if lo < hi {
			copy(p[lo-off:hi-off], b[lo-at:hi-at])
		}
	}
	put(r.head, 0)
	put(r.meta, r.metaOff)
	return len(p), nil
}

// raidFuzzSource is a source over a raidFuzzReader.
func raidFuzzSource(t *testing.T, head, meta []byte, metaOff int64, size int64) *source {
	s, err := newSource(t.Context(), raidFuzzReader{head: head, meta: meta, metaOff: metaOff, size: size}, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.release)
	return s
}

// raidFuzzSectors are the distances from the end where the probers look;
// a fuzzed selector picks one, or any distance up to 4095 sectors.
var raidFuzzSectors = append([]int64{1, 2, 11, 257}, raidPDCSectors...)

// FuzzRaid runs every firmware RAID prober on a fuzzed sector near the end
// and fuzzed first 5 KiB of a device of fuzzed size.
func FuzzRaid(f *testing.F) {
	meta := func(name string, k int) []byte {
		img := raidImages()[name].img
		off := (len(img)/512 - k) * 512
		return img[off : off+512]
	}
	for _, c := range []struct {
		name string
		k    int
	}{{"ddf-be", 1}, {"ddf-257", 257}, {"isw", 2}, {"lsi", 1}, {"via-2", 1}, {"sil", 1}, {"nvidia", 2}, {"promise-399", 399}, {"promise-3087", 3087}, {"hpt45x-ok", 11}, {"adaptec", 1}, {"jmicron", 1}} {
		f.Add(meta(c.name, c.k), []byte(nil), uint16(0), uint32(4<<20))
	}
	f.Add([]byte(nil), raidHPT37x(5120, 0x5a7816f0), uint16(0), uint32(4<<20))
	ddf := raidDDFHeader(binary.BigEndian, raidDDFGUID, "01.02.00", 1)
	f.Add(ddf, ddf, uint16(0), uint32(4<<20))
	f.Fuzz(func(t *testing.T, meta, head []byte, sel uint16, size uint32) {
		sz := int64(size)%(64<<20) + tinySize + 1 // probers skip floppy sizes
		if len(head) > 5120 || len(meta) > 4096 {
			return
		}
		k := int64(sel & 0xfff)
		if sel&0x8000 == 0 {
			k = raidFuzzSectors[int(sel)%len(raidFuzzSectors)]
		}
		s := raidFuzzSource(t, head, meta, (sz/512-k)*512, sz)
		for i, fn := range raidProbers[1:] {
			if _, err := fn(s); err != nil && err != errBudget {
				t.Fatalf("prober %d on in-memory data: %v", i+1, err)
			}
		}
	})
}

// TestISWRaid4Kn: on a disk with 4 KiB logical sectors blkid looks for the
// Intel MPB two of those sectors before the end, and so must we.
func TestISWRaid4Kn(t *testing.T) {
	var src string
	for _, img := range testenv.BlkidCorpus(t) {
		if strings.HasSuffix(img, "/isw-raid.img") {
			src = img
		}
	}
	if src == "" {
		t.Fatal("isw-raid.img not in the corpus")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	mpb := b[len(b)-1024:]
	const size = 16 << 20
	dev := testenv.LoopSector(t, size, 4096)
	f, err := os.OpenFile(dev, os.O_WRONLY|os.O_SYNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt(mpb, size-2*4096)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := compareWithBlkid(t, dev); got.Type != "isw_raid_member" {
		t.Fatalf("got %+v", got)
	}
}
