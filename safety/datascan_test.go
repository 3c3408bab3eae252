package safety

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// sparseDev is a device of size bytes, zero except for the bytes in set.
type sparseDev struct {
	size  int64
	set   map[int64]byte
	reads int64 // bytes read
	fail  int64 // a read covering this offset fails (-1: never)
}

func (d *sparseDev) ReadAt(p []byte, off int64) (int, error) {
	if d.fail >= 0 && off <= d.fail && d.fail < off+int64(len(p)) {
		return 0, errors.New("medium error")
	}
	if off >= d.size {
		return 0, io.EOF
	}
	n := len(p)
	if rest := d.size - off; int64(n) > rest {
		n = int(rest)
	}
	clear(p[:n])
	for o, v := range d.set {
		if o >= off && o < off+int64(n) {
			p[o-off] = v
		}
	}
	d.reads += int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestScanData(t *testing.T) {
	const gib = 1 << 30
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		set  []int64
		want []DataRange
	}{
		{name: "zeroed"},
		{name: "first MiB", set: []int64{5000, 5001, 8191, 8192},
			want: []DataRange{{Offset: 4096, Length: 8192, Region: "first MiB"}}},
		{name: "last sector", set: []int64{gib - 1},
			want: []DataRange{{Offset: gib - 4096, Length: 4096, Region: "last MiB and 64 KiB"}}},
		{name: "VMFS header", set: []int64{2<<20 + 10},
			want: []DataRange{{Offset: 2 << 20, Length: 4096, Region: "VMFS filesystem header, LUKS2 secondary header"}}},
		{name: "btrfs mirror", set: []int64{64<<20 + 0x40},
			want: []DataRange{{Offset: 64 << 20, Length: 4096, Region: "btrfs superblock mirror 1"}}},
		// Data outside every metadata region is a file's content, not a
		// format's metadata: it does not make the device non-blank.
		{name: "file data only", set: []int64{10 << 20, 500 << 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &sparseDev{size: gib, set: map[int64]byte{}, fail: -1}
			for _, o := range tc.set {
				d.set[o] = 0xa5
			}
			got, err := scanData(ctx, d, gib)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			// The documented cost: about 2.2 MiB of a 1 GiB device.
			if d.reads > 2<<20+300<<10 {
				t.Errorf("read %d bytes", d.reads)
			}
		})
	}
	t.Run("evidence is bounded", func(t *testing.T) {
		d := &sparseDev{size: gib, set: map[int64]byte{}, fail: -1}
		for o := int64(0); o < 1<<20; o += 2 * dataBlock {
			d.set[o] = 1
		}
		got, err := scanData(ctx, d, gib)
		if err != nil || len(got) != maxDataRanges {
			t.Fatalf("%d ranges, err %v; want %d", len(got), err, maxDataRanges)
		}
	})
	t.Run("read error is unreadable, not blank", func(t *testing.T) {
		d := &sparseDev{size: gib, set: map[int64]byte{}, fail: gib - 10}
		if _, err := scanData(ctx, d, gib); err == nil || !strings.Contains(err.Error(), "medium error") {
			t.Fatalf("err %v, want the read error", err)
		}
	})
	t.Run("shorter than its size is unreadable, not blank", func(t *testing.T) {
		d := &sparseDev{size: 3 << 20, set: map[int64]byte{3<<20 - 1: 1}, fail: -1}
		_, err := scanData(ctx, d, 8<<20) // the device claims 8 MiB
		if !errors.Is(err, ErrShortDevice) {
			t.Fatalf("err %v, want ErrShortDevice: the scanned end is not the device's", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := scanData(cctx, &sparseDev{size: gib, fail: -1}, gib); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestEvaluateUnrecognizedData(t *testing.T) {
	base := func() *Facts {
		return &Facts{Path: "/dev/sdx", Exists: true, IsBlock: true, Size: 1 << 30,
			UnrecognizedData: []DataRange{{Offset: 4096, Length: 4096, Region: "first MiB"}}}
	}
	ctx := context.Background()
	for _, op := range []Op{OpFormat, OpPartition} {
		r, err := Evaluate(ctx, base(), op)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed || !r.Has(CodeUnrecognizedData) || !strings.Contains(evidence(r, CodeUnrecognizedData), "nonzero bytes at 4096-8191 (first MiB)") {
			t.Fatalf("%s: %s", op, r)
		}
		// Overridable like the other emptiness codes.
		r, err = Evaluate(ctx, base(), op, WithOverride(CodeUnrecognizedData, "scratch disk", "ops"))
		if err != nil || !r.Allowed {
			t.Fatalf("%s override: %v %s", op, err, r)
		}
	}
	// Resize and wipe do not need a blank device: a note, no refusal.
	for _, op := range []Op{OpResize, OpWipe} {
		r, err := Evaluate(ctx, base(), op)
		if err != nil || !r.Allowed || len(r.Notes) == 0 {
			t.Fatalf("%s: %v %s", op, err, r)
		}
	}
	// A recognised signature already says not_empty; the data scan adds nothing.
	f := base()
	f.Signatures = []Signature{{Type: "ext4", Offset: -1, Where: "primary superblock"}}
	r, _ := Evaluate(ctx, f, OpFormat)
	if r.Has(CodeUnrecognizedData) || !r.Has(CodeNotEmpty) {
		t.Fatalf("with a signature: %v", r.Codes())
	}
}

// TestCheckLoopUnrecognizedData writes bytes no prober knows into the first
// MiB, and into the last sectors, of a loop device: preflight refuses to
// format it with the offsets as evidence, and the override is journaled.
func TestCheckLoopUnrecognizedData(t *testing.T) {
	for _, off := range []int64{70000, loopSize - 600} {
		dev := testenv.Loop(t, loopSize)
		writeDev(t, dev, off, []byte("some format no prober knows"))
		r := check(t, dev, OpFormat)
		wantCodes(t, r, CodeUnrecognizedData)
		if r.Has(CodeNotEmpty) {
			t.Fatalf("not_empty without a signature: %s", r)
		}
		blk := off &^ (dataBlock - 1)
		want := strings.TrimSuffix(DataRange{Offset: blk, Length: dataBlock}.String(), " ()")
		if ev := evidence(r, CodeUnrecognizedData); !strings.Contains(ev, want) {
			t.Fatalf("evidence %q lacks %q", ev, want)
		}
		j, err := OpenJournal(context.Background(), WithStateDir(t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		r = check(t, dev, OpFormat, WithJournal(j), WithOverride(CodeUnrecognizedData, "test scratch", "test"))
		if !r.Allowed {
			t.Fatalf("override refused: %s", r)
		}
		j.Close()
		raw, err := os.ReadFile(filepath.Join(j.Dir(), JournalFile))
		if err != nil || !bytes.Contains(raw, []byte(CodeUnrecognizedData)) {
			t.Fatalf("override not journaled: %v", err)
		}
	}
}

func writeDev(t *testing.T, dev string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(dev, os.O_WRONLY|os.O_SYNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestCheckLoopGrownSinceDiscovery: a device graph taken before the device
// grew must not point the scan of its last sectors into its middle. Data
// at the real end refuses the format even with the stale graph.
func TestCheckLoopGrownSinceDiscovery(t *testing.T) {
	img := filepath.Join(t.TempDir(), "grow.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<20); err != nil {
		t.Fatal(err)
	}
	dev := testenv.LoopFile(t, img)
	g, err := blockdev.Discover(context.Background(), blockdev.WithProbe(false))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "losetup", "-c", dev)
	writeDev(t, dev, 64<<20-4096, []byte("md superblock of some array"))
	r := check(t, dev, OpFormat, WithGraph(g))
	if r.Allowed || !r.Has(CodeUnreadable) {
		t.Fatalf("stale graph: %s", r)
	}
	// With a fresh look the data itself is the reason.
	r = check(t, dev, OpFormat)
	wantCodes(t, r, CodeUnrecognizedData)
}

// TestCheckLoopPartitionOfRAIDMember: the disk carries an md 0.90
// superblock (copied from util-linux's mdraid.img) in its last 64 KiB and a
// GPT whose partitions do not reach it. Formatting a partition would write
// into a RAID leg behind md's back: refused as md_member.
func TestCheckLoopPartitionOfRAIDMember(t *testing.T) {
	var src string
	for _, img := range testenv.BlkidCorpus(t) {
		if strings.HasSuffix(img, "/mdraid.img") {
			src = img
		}
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	at := (int64(len(b)) &^ 0xffff) - 0x10000
	sb := b[at : at+4096]
	dev := testenv.Loop(t, loopSize)
	p1, _ := partitioned(t, dev)
	writeDev(t, dev, (loopSize&^0xffff)-0x10000, sb)
	r := check(t, p1, OpFormat)
	wantCodes(t, r, CodeMDMember)
	if ev := evidence(r, CodeMDMember); !strings.Contains(ev, "the disk holding "+p1) {
		t.Fatalf("evidence %q does not name the disk", ev)
	}
	// Without the superblock the same partition is a clean target.
	writeDev(t, dev, (loopSize&^0xffff)-0x10000, make([]byte, 4096))
	if r := check(t, p1, OpFormat); !r.Allowed {
		t.Fatalf("clean partition refused: %s", r)
	}
}
