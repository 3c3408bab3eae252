package perf

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestReuseMatchesFreshParse: a DiskstatsCollector's reader skips lines
// that did not change since the previous page. Over random sequences of
// pages (devices idle or busy, lines added, removed and reordered, blank and
// broken lines, pages shrinking and growing), every sample must equal a
// fresh ParseDiskstats of the same page, and every error must be the same.
func TestReuseMatchesFreshParse(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		root := fakeRoot(t, "")
		path := root.Proc("diskstats")
		r, err := openStat(path, "")
		if err != nil {
			rt.Fatal(err)
		}
		defer r.Close()
		r.reuse = true
		var s Sample
		n := rapid.IntRange(0, 12).Draw(rt, "devices")
		vals := make([][17]uint64, n)
		for step := rapid.IntRange(1, 12).Draw(rt, "steps"); step > 0; step-- {
			var b strings.Builder
			for i := range vals {
				if rapid.IntRange(0, 3).Draw(rt, "busy") == 0 {
					f := rapid.IntRange(0, 16).Draw(rt, "field")
					vals[i][f] += rapid.Uint64Range(1, 1<<40).Draw(rt, "grow")
				}
				switch rapid.IntRange(0, 30).Draw(rt, "shape") {
				case 0:
					b.WriteString("\n")
				case 1:
					b.WriteString("8 0 broken x\n")
				case 2:
					continue // the line is missing from this page
				case 3:
					fmt.Fprintf(&b, "   8 %7d sd%s %d %d %d %d\n", i, devSuffix(i), vals[i][0], vals[i][2], vals[i][4], vals[i][6])
					continue
				}
				fmt.Fprintf(&b, "%4d %7d sd%s", 8, i, devSuffix(i))
				for _, v := range vals[i] {
					fmt.Fprintf(&b, " %d", v)
				}
				b.WriteString("\n")
			}
			page := b.String()
			if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
				rt.Fatal(err)
			}
			want, wantErr := ParseDiskstats([]byte(page), nil)
			gotErr := r.Read(&s)
			if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				rt.Fatalf("page %q: error %v, fresh parse %v", page, gotErr, wantErr)
			}
			if wantErr != nil {
				continue
			}
			if len(s.Disks) != len(want) {
				rt.Fatalf("page %q: %d devices, fresh parse %d", page, len(s.Disks), len(want))
			}
			for i := range want {
				if s.Disks[i] != want[i] {
					rt.Fatalf("page %q device %d:\n got %+v\nwant %+v", page, i, s.Disks[i], want[i])
				}
			}
		}
	})
}

// TestReuseOnlyForItsOwnSlice: a Read into another Sample than the one the
// previous page was parsed into parses every line (the other Sample does
// not hold that page's values).
func TestReuseOnlyForItsOwnSlice(t *testing.T) {
	root := fakeRoot(t, line20+line18)
	r, err := openStat(root.Proc("diskstats"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.reuse = true
	var a, other Sample
	if err := r.Read(&a); err != nil {
		t.Fatal(err)
	}
	other.Disks = make([]DiskStat, 2, 8) // stale values in the slots
	other.Disks[0].ReadIOs = 999
	if err := r.Read(&other); err != nil {
		t.Fatal(err)
	}
	if other.Disks[0].ReadIOs != 32794 || other.Disks[1].Name != "sda" {
		t.Fatalf("reused values across samples: %+v", other.Disks)
	}
}

// TestRaterIdleFastPath: a device whose counters did not move gets exactly
// what ComputeRates gives for equal samples, diskseq checks still run when
// due, and a device that then moves gets its real rates.
func TestRaterIdleFastPath(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var d DiskStat
		d.Name, d.Major, d.Minor = "sda", 8, 0
		d.Fields = rapid.SampledFrom([]int{FieldsLegacyPartition, FieldsBasic, FieldsDiscard, FieldsFlush}).Draw(rt, "fields")
		for _, p := range []*uint64{&d.ReadIOs, &d.ReadSectors, &d.WriteIOs, &d.WriteSectors, &d.InFlight, &d.IOTicks, &d.TimeInQueue} {
			*p = rapid.Uint64Range(0, 1<<32).Draw(rt, "counter")
		}
		seqReads := 0
		r := NewRater(func(string) (uint64, bool) { seqReads++; return 7, true }, 3)
		t0 := time.Unix(1000, 0)
		iv := time.Duration(rapid.Int64Range(0, int64(time.Minute)).Draw(rt, "interval"))
		r.Update(&Sample{Time: t0, Disks: []DiskStat{d}}, nil)
		for k := 1; k <= 6; k++ {
			out := r.Update(&Sample{Time: t0.Add(time.Duration(k) * iv), Disks: []DiskStat{d}}, nil)
			want := ComputeRates(&d, &d, iv)
			if len(out) != 1 || out[0] != want {
				rt.Fatalf("step %d: got %+v, want %+v", k, out, want)
			}
		}
		if seqReads < 3 { // the first one, then every third sample
			rt.Fatalf("diskseq read %d times in 7 samples with seqEvery 3", seqReads)
		}
		moved := d
		moved.ReadIOs += 100
		out := r.Update(&Sample{Time: t0.Add(7 * iv), Disks: []DiskStat{moved}}, nil)
		if want := ComputeRates(&d, &moved, iv); len(out) != 1 || out[0] != want {
			rt.Fatalf("after idle: got %+v, want %+v", out, want)
		}
	})
}

// TestCollectorSampleCallerMayModify: what DiskstatsCollector.Sample
// returns is the caller's until the next call, to sort for display or to
// change in place. The collector reuses a slot's values when its line did
// not change, so it must not take them from a Sample the caller may have
// rearranged: sorted by name, sda's slot held sdb, and with only sdb busy
// the next sample reported sdb twice and lost sda.
func TestCollectorSampleCallerMayModify(t *testing.T) {
	page := func(sdaReads, sdbReads int) string {
		return fmt.Sprintf("   8       0 sda %d 0 0 0 0 0 0 0 0 0 0\n   8      16 sdb %d 0 0 0 0 0 0 0 0 0 0\n", sdaReads, sdbReads)
	}
	root := fakeRoot(t, page(100, 200))
	c, err := NewDiskstatsCollector(root.Dir(), WithDiskseqEvery(0))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sm, _, err := c.Sample()
	if err != nil {
		t.Fatal(err)
	}
	// The caller sorts by name, descending, then scribbles on a counter.
	sm.Disks[0], sm.Disks[1] = sm.Disks[1], sm.Disks[0]
	sm.Disks[0].WriteIOs = 12345
	if err := os.WriteFile(root.Proc("diskstats"), []byte(page(100, 250)), 0o644); err != nil {
		t.Fatal(err)
	}
	sm, rates, err := c.Sample()
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParseDiskstats([]byte(page(100, 250)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sm.Disks) != len(want) {
		t.Fatalf("%d devices, want %d", len(sm.Disks), len(want))
	}
	for i := range want {
		if sm.Disks[i] != want[i] {
			t.Fatalf("device %d after the caller modified the previous sample:\n got %+v\nwant %+v", i, sm.Disks[i], want[i])
		}
	}
	if len(rates) != 2 || rates[0].Name != "sda" || rates[0].ReadsPerSec != 0 || rates[1].Name != "sdb" || rates[1].ReadsPerSec <= 0 {
		t.Fatalf("rates %+v", rates)
	}
}
