package perf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/procfs/blockdevice"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

func fakeRoot(t testing.TB, diskstats string) sysfs.Root {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proc", "diskstats"), []byte(diskstats), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := sysfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStatReaderFakeTree(t *testing.T) {
	root := fakeRoot(t, line20+line18+line14+line7)
	r, err := OpenDiskstats(root.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if len(s.Disks) != 4 || s.Disks[0].Name != "vda" || s.Time.IsZero() {
		t.Fatalf("%+v", s)
	}
	// The same descriptor sees a rewritten file (pread at offset 0).
	if err := os.WriteFile(root.Proc("diskstats"), []byte(line14), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := r.Read(&s); err != nil || len(s.Disks) != 1 || s.Disks[0].Name != "sdb" {
		t.Fatalf("after rewrite: %+v %v", s.Disks, err)
	}
	r.Close()
	if err := r.Read(&s); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := OpenDiskstats(fakeRootEmpty(t).Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing diskstats: %v", err)
	}
}

func fakeRootEmpty(t *testing.T) sysfs.Root {
	r, err := sysfs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A file larger than the initial buffer is read whole (the buffer grows).
func TestStatReaderGrows(t *testing.T) {
	in := string(genDiskstats(1000))
	r, err := OpenDiskstats(fakeRoot(t, in).Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s Sample
	if err := r.Read(&s); err != nil || len(s.Disks) != 1000 {
		t.Fatalf("got %d devices, %v", len(s.Disks), err)
	}
}

// Steady-state sampling allocates nothing: one pread, parse in place.
func TestStatReaderZeroAllocs(t *testing.T) {
	r, err := OpenDiskstats(fakeRoot(t, string(genDiskstats(200))).Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := r.Read(&s); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("allocs per sample = %v, want 0", allocs)
	}
}

func TestDeviceStatFakeTree(t *testing.T) {
	root := fakeRootEmpty(t)
	d := root.Sys("class", "block", "vda")
	os.MkdirAll(d, 0o755)
	os.WriteFile(filepath.Join(d, "dev"), []byte("254:0\n"), 0o644)
	os.WriteFile(filepath.Join(d, "stat"), []byte("  1 2 3 4 5 6 7 8 0 10 11\n"), 0o644)
	r, err := OpenDeviceStat(root.Dir(), "vda")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	if got := s.Disks[0]; got.Name != "vda" || got.Major != 254 || got.Fields != 14 || got.TimeInQueue != 11 {
		t.Fatalf("%+v", got)
	}
	if _, err := OpenDeviceStat(root.Dir(), "../etc"); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("bad name: %v", err)
	}
}

// The live /proc/diskstats against prometheus/procfs reading the same file,
// and each whole disk's /sys/block/DEV/stat against its diskstats line.
func TestLiveDiskstatsMatchesProcfs(t *testing.T) {
	r, err := OpenDiskstats("")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s Sample
	if err := r.Read(&s); err != nil {
		t.Fatal(err)
	}
	fs, err := blockdevice.NewFS("/proc", "/sys")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := fs.ProcDiskstats()
	if err != nil {
		t.Fatal(err)
	}
	// Other tests attach loop devices concurrently, so the two reads may
	// differ by a device; compare the devices both saw.
	matched := 0
	for _, th := range theirs {
		p := s.Find(th.DeviceName)
		if p == nil {
			continue
		}
		matched++
		d := *p
		if uint32(th.MajorNumber) != d.Major || uint32(th.MinorNumber) != d.Minor {
			t.Errorf("procfs %s %d:%d, we %s %d:%d", th.DeviceName, th.MajorNumber, th.MinorNumber, d.Name, d.Major, d.Minor)
		}
		// Counters move between the two reads; a device that was idle
		// between them (no busy time, no write) must agree on every count.
		if th.IOsTotalTicks == d.IOTicks && th.WriteIOs == d.WriteIOs && th.ReadIOs == d.ReadIOs &&
			(th.ReadSectors != d.ReadSectors || th.WriteSectors != d.WriteSectors || th.ReadTicks != d.ReadTicks ||
				th.WriteTicks != d.WriteTicks || th.WeightedIOTicks != d.TimeInQueue) {
			t.Errorf("%s: procfs %+v, we %+v", d.Name, th, d)
		}
		if th.IoStatsCount != d.Fields {
			t.Errorf("%s: procfs saw %d counters, we %d fields", d.Name, th.IoStatsCount, d.Fields)
		}
	}
	if matched == 0 {
		t.Fatal("no device in common with procfs")
	}
	for _, d := range s.Disks {
		if d.Major == 7 { // loop devices come and go under other tests
			continue
		}
		if _, err := os.Stat("/sys/block/" + d.Name); err != nil {
			continue
		}
		dr, err := OpenDeviceStat("", d.Name)
		if err != nil {
			t.Fatal(err)
		}
		var ds Sample
		err = dr.Read(&ds)
		dr.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := ds.Disks[0]
		if got.Major != d.Major || got.Minor != d.Minor || got.Fields != d.Fields || got.ReadIOs < d.ReadIOs {
			t.Errorf("%s: sysfs stat %+v vs diskstats %+v", d.Name, got, d)
		}
	}
}

// The whole sampling step (read, parse, rates of every device) allocates
// nothing in the steady state. diskseq re-checks read sysfs and do allocate;
// they are off here (by default each device's is re-read every 100 samples,
// 1/100 of the devices per sample).
func TestCollectorSampleZeroAllocs(t *testing.T) {
	c, err := NewDiskstatsCollector(fakeRoot(t, string(genDiskstats(300))).Dir(), WithDiskseqEvery(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 2; i++ {
		if _, _, err := c.Sample(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(50, func() {
		_, rates, err := c.Sample()
		if err != nil || len(rates) != 300 {
			t.Fatalf("%d rates, %v", len(rates), err)
		}
	})
	if allocs != 0 {
		t.Fatalf("allocs per sample = %v, want 0", allocs)
	}
}

// The reopen fallback (for files without positional reads) reads the same
// content, and follows a file that was replaced.
func TestStatReaderReopenFallback(t *testing.T) {
	root := fakeRoot(t, line20)
	r, err := OpenDiskstats(root.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.reopen = true
	unix.Close(r.fd)
	r.fd = -1
	var s Sample
	if err := r.Read(&s); err != nil || len(s.Disks) != 1 || s.Disks[0].FlushTicks != 166 {
		t.Fatalf("%+v %v", s.Disks, err)
	}
	tmp := root.Proc("diskstats.new")
	os.WriteFile(tmp, []byte(line14+line7), 0o644)
	os.Rename(tmp, root.Proc("diskstats"))
	if err := r.Read(&s); err != nil || len(s.Disks) != 2 {
		t.Fatalf("after replace: %+v %v", s.Disks, err)
	}
}
