package perf

import (
	"errors"
	"strings"
	"testing"
)

// Lines in every format the kernel has printed.
const (
	line20 = " 254       0 vda 32794 5677 1515306 11671 11463 11318 2134096 7514 0 8812 19885 4475 49 276536 533 1921 166\n"
	line18 = "   8       0 sda 100 2 3000 40 200 5 6000 80 1 120 130 7 1 64 3\n"
	line14 = "   8      16 sdb 10 1 80 5 20 2 160 9 0 12 14\n"
	line7  = "   8       1 sda1 11 22 33 44\n"
)

func TestParseDiskstatsFormats(t *testing.T) {
	got, err := ParseDiskstats([]byte(line20+line18+"\n"+line14+line7), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d devices", len(got))
	}
	want20 := DiskStat{Major: 254, Minor: 0, Name: "vda", Fields: 20,
		ReadIOs: 32794, ReadMerges: 5677, ReadSectors: 1515306, ReadTicks: 11671,
		WriteIOs: 11463, WriteMerges: 11318, WriteSectors: 2134096, WriteTicks: 7514,
		InFlight: 0, IOTicks: 8812, TimeInQueue: 19885,
		DiscardIOs: 4475, DiscardMerges: 49, DiscardSectors: 276536, DiscardTicks: 533,
		FlushIOs: 1921, FlushTicks: 166}
	if got[0] != want20 {
		t.Errorf("20 fields:\n got %+v\nwant %+v", got[0], want20)
	}
	if d := got[1]; d.Fields != 18 || d.DiscardTicks != 3 || d.FlushIOs != 0 || !d.HasDiscard() || d.HasFlush() {
		t.Errorf("18 fields: %+v", d)
	}
	if d := got[2]; d.Fields != 14 || d.TimeInQueue != 14 || d.HasDiscard() || !d.HasExtended() {
		t.Errorf("14 fields: %+v", d)
	}
	want7 := DiskStat{Major: 8, Minor: 1, Name: "sda1", Fields: 7, ReadIOs: 11, ReadSectors: 22, WriteIOs: 33, WriteSectors: 44}
	if got[3] != want7 || got[3].HasExtended() {
		t.Errorf("legacy partition: %+v", got[3])
	}
}

func TestParseDiskstatsFutureFieldsIgnored(t *testing.T) {
	got, err := ParseDiskstats([]byte(strings.TrimRight(line20, "\n")+" 99 98\n"), nil)
	if err != nil || len(got) != 1 || got[0].Fields != 20 || got[0].FlushTicks != 166 {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestParseDiskstatsErrors(t *testing.T) {
	for _, in := range []string{
		"8 0 sda 1 2 3\n",                      // 3 counters
		"8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12\n", // 12 counters
		"x 0 sda 1 2 3 4\n",
		"8 y sda 1 2 3 4\n",
		"8 0\n",
		"8 0 sda 1 2 -3 4\n",
		"8 0 sda 1 2 99999999999999999999999 4\n",
		"4294967296 0 sda 1 2 3 4\n",
	} {
		_, err := ParseDiskstats([]byte(in), nil)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", in, err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 1 {
			t.Errorf("%q: no ParseError with line: %v", in, err)
		}
	}
}

func TestParseDeviceStat(t *testing.T) {
	d := DiskStat{Name: "vda", Major: 254}
	in := "   32794     5677  1515306    11671    11463    11318  2134096     7514        0     8812    19885     4475       49   276536      533     1921      166\n"
	if err := ParseDeviceStat([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "vda" || d.Major != 254 || d.Fields != 20 || d.FlushTicks != 166 || d.ReadIOs != 32794 {
		t.Fatalf("%+v", d)
	}
	if err := ParseDeviceStat([]byte("1 2 3\n"), &d); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short stat: %v", err)
	}
}

// Steady-state parsing must not allocate: the names are reused.
func TestParseDiskstatsZeroAllocs(t *testing.T) {
	in := []byte(line20 + line18 + line14 + line7)
	buf, err := ParseDiskstats(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf, err = ParseDiskstats(in, buf)
	})
	if err != nil || allocs != 0 {
		t.Fatalf("allocs per parse = %v (err %v), want 0", allocs, err)
	}
}
