package lvm

import (
	"context"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// The full thin-pool status parser on any line: a *MalformedError or a
// status, never a panic; and where it parses, ThinPoolUsage (the
// percentages the inventory reports) parses too and agrees with it.
func FuzzParseThinPoolStatus(f *testing.F) {
	for _, s := range []string{
		"0 199/8192 4/1024 - rw no_discard_passdown queue_if_no_space - 1024",
		"3 512/512 16384/16384 - out_of_data_space discard_passdown error_if_no_space needs_check 1024",
		"1 10/100 5/50 - ro discard_passdown queue_if_no_space -",
		"7 10/100 5/50 -",
		"Fail", "Error", "", "1 2/0 3/4", "1 5/4 1/1", "x 1/2 1/2", "1 1/2 1/2 - weird",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseThinPoolStatus(line)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("%q: untyped error %v", line, err)
			}
			return
		}
		if s.Mode == "Fail" || s.Mode == "Error" {
			return
		}
		if s.UsedDataBlocks > s.TotalDataBlocks || s.UsedMetaBlocks > s.TotalMetaBlocks || s.TotalDataBlocks == 0 {
			t.Fatalf("%q: %+v", line, s)
		}
		d, m, err := ThinPoolUsage(line)
		if err != nil {
			t.Fatalf("%q parses in full but not for ThinPoolUsage: %v", line, err)
		}
		wd := float64(s.UsedDataBlocks) * 100 / float64(s.TotalDataBlocks)
		wm := float64(s.UsedMetaBlocks) * 100 / float64(s.TotalMetaBlocks)
		if d != wd || m != wm {
			t.Fatalf("%q: ThinPoolUsage %v/%v, full parse %v/%v", line, d, m, wd, wm)
		}
	})
}

func FuzzThinPoolBlockSectors(f *testing.F) {
	f.Add("254:3 254:4 128 0 1 skip_block_zeroing")
	f.Add("254:3 254:4 0 0")
	f.Fuzz(func(t *testing.T, line string) {
		n, err := thinPoolBlockSectors(line)
		if err == nil && n == 0 {
			t.Fatalf("%q: zero block size accepted", line)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: untyped error %v", line, err)
		}
	})
}

// The lvs-based source on any report: a layout or an error, never a panic.
func FuzzReportSource(f *testing.F) {
	f.Add([]byte(lvsPoolJSON))
	f.Add([]byte(`{"report":[{"lv":[{"vg_name":"vg","lv_name":"pool","lv_attr":"twi-a-tz--","lv_size":"x"}]}]}`))
	f.Add([]byte(`{"report":[{"lv":[{"vg_name":"vg","lv_name":"pool","lv_attr":"twi"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &scriptRunner{answers: map[string]*command.Result{"lvs": {Stdout: b}}}
		tl, err := NewTool(r, WithReportFormat("json"))
		if err != nil {
			t.Fatal(err)
		}
		rs, _ := NewReportSource(tl)
		l, err := rs.PoolLayout(context.Background(), "vg", "pool")
		if err == nil && l.Thins < 0 {
			t.Fatalf("layout %+v", l)
		}
		_, _ = rs.PoolUsage(context.Background(), "vg", "pool")
	})
}
