package perf

import (
	"testing"
	"time"
)

func FuzzParseDiskstats(f *testing.F) {
	f.Add([]byte(line20 + line18 + line14 + line7))
	f.Add([]byte(""))
	f.Add([]byte("\n\n   8 0 sda 1 2 3 4"))
	f.Add([]byte("8 0 sda 18446744073709551615 0 0 4294967295 0 0 0 4294967295 0 4294967295 4294967295\n"))
	f.Add([]byte("8 0 s\x00da 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseDiskstats(data, nil)
		if err != nil {
			return
		}
		for i := range got {
			d := &got[i]
			switch d.Fields {
			case FieldsLegacyPartition, FieldsBasic, FieldsDiscard, FieldsFlush:
			default:
				t.Fatalf("device %d: Fields %d", i, d.Fields)
			}
			if d.Name == "" {
				t.Fatalf("device %d: empty name", i)
			}
			if !d.HasDiscard() && (d.DiscardIOs|d.DiscardTicks|d.DiscardSectors|d.DiscardMerges) != 0 {
				t.Fatalf("discard counters reported without the fields: %+v", d)
			}
			if !d.HasFlush() && (d.FlushIOs|d.FlushTicks) != 0 {
				t.Fatalf("flush counters reported without the fields: %+v", d)
			}
			// Rates of any pair must be finite and non-negative.
			r := ComputeRates(d, d, time.Second)
			if r.IOPS != 0 || r.Util != 0 {
				t.Fatalf("identical samples gave rates: %+v", r)
			}
		}
		// Re-parsing into the previous result gives the same answer.
		again, err := ParseDiskstats(data, got)
		if err != nil || len(again) != len(got) {
			t.Fatalf("re-parse: %v, %d vs %d", err, len(again), len(got))
		}
	})
}

func FuzzParseDeviceStat(f *testing.F) {
	f.Add([]byte("   32794     5677  1515306    11671    11463    11318  2134096     7514        0     8812    19885     4475       49   276536      533     1921      166\n"))
	f.Add([]byte("1 2 3 4\n"))
	f.Add([]byte("1 2 3 4 5 6 7 8 9 10 11"))
	f.Add([]byte("\t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := DiskStat{Name: "x"}
		if err := ParseDeviceStat(data, &d); err != nil {
			return
		}
		if d.Name != "x" {
			t.Fatalf("identity changed: %+v", d)
		}
		switch d.Fields {
		case FieldsLegacyPartition, FieldsBasic, FieldsDiscard, FieldsFlush:
		default:
			t.Fatalf("Fields %d", d.Fields)
		}
	})
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add(`36 35 254:1 / /mnt/my\040disk rw,noatime master:1 - ext4 /dev/vda1 rw,errors=remount-ro`)
	f.Add(`22 1 0:21 / /proc rw - proc proc rw`)
	f.Add(`1 2 3:4 / / rw - - -`)
	f.Add(`1 2 3:4 / /\0 rw - x y z`)
	f.Fuzz(func(t *testing.T, line string) {
		u, ok := parseMountinfo(line)
		if !ok {
			return
		}
		if u.FSType == "" || u.MountPoint == "" {
			t.Fatalf("accepted an empty field: %+v", u)
		}
	})
}
