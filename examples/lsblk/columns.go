package main

import (
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
)

// row is one device at one place in the tree: a device stacked on several
// parents is listed under each, and PKNAME names the parent of that place.
type row struct {
	d      *blockdev.Device
	parent *blockdev.Device
}

type kind int

const (
	kStr   kind = iota // string or null
	kNum               // number or null
	kSize              // number with -b, human string without
	kBool              // true/false or null
	kArray             // array of strings (null entries allowed)
)

type column struct {
	name  string // lsblk's column name, upper case
	kind  kind
	right bool
	get   func(r row) any // nil means absent; never "unknown" text
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func u64(p *uint64) any {
	if p == nil {
		return nil
	}
	return *p
}

func i64(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func boolp(p *bool) any {
	if p == nil {
		return nil
	}
	return *p
}

func probeStr(f func(r row) string) func(r row) any {
	return func(r row) any {
		if r.d.Probe == nil {
			return nil
		}
		return str(f(r))
	}
}

func usage(f func(u *blockdev.FSUsage) uint64) func(r row) any {
	return func(r row) any {
		if r.d.FSUsage == nil {
			return nil
		}
		return f(r.d.FSUsage)
	}
}

// columns in lsblk 2.38's -O order (alphabetical by key, with the mount
// columns after STATE), plus PARTN and DISK-SEQ of later versions.
var columns = []column{
	{"ALIGNMENT", kNum, true, func(r row) any { return i64(r.d.Alignment) }},
	{"DISC-ALN", kNum, true, func(r row) any { return i64(r.d.DiscardAlignment) }},
	{"DAX", kBool, true, func(r row) any { return boolp(r.d.DAX) }},
	{"DISC-GRAN", kSize, true, func(r row) any { return u64(r.d.DiscardGranularity) }},
	{"DISK-SEQ", kNum, true, func(r row) any { return u64(r.d.DiskSeq) }},
	{"DISC-MAX", kSize, true, func(r row) any { return u64(r.d.DiscardMax) }},
	{"DISC-ZERO", kBool, true, func(r row) any { return boolp(r.d.DiscardZeroes) }},
	{"FSAVAIL", kSize, true, usage(func(u *blockdev.FSUsage) uint64 { return u.Avail })},
	{"FSSIZE", kSize, true, usage(func(u *blockdev.FSUsage) uint64 { return u.Size })},
	{"FSTYPE", kStr, false, probeStr(func(r row) string { return r.d.Probe.Type })},
	{"FSUSED", kSize, true, usage(func(u *blockdev.FSUsage) uint64 { return u.Used })},
	{"FSUSE%", kStr, true, func(r row) any {
		u := r.d.FSUsage
		if u == nil {
			return nil
		}
		if u.Size == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.0f%%", float64(u.Used)/float64(u.Size)*100)
	}},
	{"FSVER", kStr, false, probeStr(func(r row) string { return r.d.Probe.Version })},
	{"HCTL", kStr, false, func(r row) any { return str(r.d.HCTL) }},
	{"HOTPLUG", kBool, true, func(r row) any { return boolp(r.d.Hotplug) }},
	{"KNAME", kStr, false, func(r row) any { return r.d.KName }},
	{"LABEL", kStr, false, probeStr(func(r row) string { return r.d.Probe.Label })},
	{"LOG-SEC", kNum, true, func(r row) any { return u64(r.d.LogicalSectorSize) }},
	{"MAJ:MIN", kStr, false, func(r row) any { return r.d.MajMin.String() }},
	{"MIN-IO", kNum, true, func(r row) any { return u64(r.d.MinIO) }},
	{"MODEL", kStr, false, func(r row) any { return str(r.d.Model) }},
	{"NAME", kStr, false, func(r row) any { return r.d.Name }},
	{"OPT-IO", kNum, true, func(r row) any { return u64(r.d.OptIO) }},
	{"PARTLABEL", kStr, false, partEntry(func(r row) string { return r.d.Probe.PartEntryName })},
	{"PARTN", kNum, true, func(r row) any { return u64(r.d.PartNumber) }},
	{"PARTTYPE", kStr, false, partEntry(func(r row) string { return r.d.Probe.PartEntryType })},
	{"PARTUUID", kStr, false, partEntry(func(r row) string { return r.d.Probe.PartEntryUUID })},
	{"PATH", kStr, false, func(r row) any { return r.d.Path }},
	{"PHY-SEC", kNum, true, func(r row) any { return u64(r.d.PhysicalSectorSize) }},
	{"PKNAME", kStr, false, func(r row) any {
		if r.parent == nil {
			return nil
		}
		return r.parent.KName
	}},
	{"PTTYPE", kStr, false, probeStr(func(r row) string { return r.d.Probe.PTType })},
	{"PTUUID", kStr, false, probeStr(func(r row) string { return r.d.Probe.PTUUID })},
	{"RA", kNum, true, func(r row) any { return u64(r.d.ReadAheadKiB) }},
	{"REV", kStr, false, func(r row) any { return str(r.d.Revision) }},
	{"RM", kBool, true, func(r row) any { return boolp(r.d.Removable) }},
	{"RO", kBool, true, func(r row) any { return boolp(r.d.ReadOnly) }},
	{"ROTA", kBool, true, func(r row) any { return boolp(r.d.Rotational) }},
	{"RQ-SIZE", kNum, true, func(r row) any { return u64(r.d.NrRequests) }},
	{"SCHED", kStr, false, func(r row) any { return str(r.d.Scheduler) }},
	{"SERIAL", kStr, false, func(r row) any { return str(r.d.Serial) }},
	{"SIZE", kSize, true, func(r row) any { return u64(r.d.Size) }},
	{"START", kNum, true, func(r row) any { return u64(r.d.Start) }},
	{"MOUNTPOINT", kStr, false, func(r row) any {
		if mp := r.d.MountPoints(); len(mp) > 0 {
			return mp[0]
		}
		return nil
	}},
	{"MOUNTPOINTS", kArray, false, func(r row) any { return r.d.MountPoints() }},
	{"TRAN", kStr, false, func(r row) any { return str(r.d.Transport) }},
	{"TYPE", kStr, false, func(r row) any { return string(r.d.Type) }},
	{"UUID", kStr, false, probeStr(func(r row) string { return r.d.Probe.UUID })},
	{"VENDOR", kStr, false, func(r row) any { return str(r.d.Vendor) }},
	{"WWN", kStr, false, func(r row) any { return str(r.d.WWN) }},
	{"ZONED", kStr, false, func(r row) any { return str(r.d.Zoned) }},
}

func partEntry(f func(r row) string) func(r row) any {
	return func(r row) any {
		if r.d.Probe == nil || !r.d.Probe.HasPartEntry {
			return nil
		}
		return str(f(r))
	}
}

var defaultColumns = []string{"NAME", "MAJ:MIN", "RM", "SIZE", "RO", "TYPE", "MOUNTPOINTS"}

func findColumn(name string) (column, bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	for _, c := range columns {
		if c.name == name {
			return c, true
		}
	}
	return column{}, false
}

// humanSize formats bytes as lsblk does without -b: "0B", "512M", "1.5G",
// "931.5G" (binary units, one decimal rounded half up, a trailing zero dropped).
func humanSize(b uint64) string {
	const letters = "BKMGTPE"
	exp := 0
	for shift := 10; shift <= 60; shift += 10 {
		if b < 1<<uint(shift) {
			break
		}
		exp = shift
	}
	if exp == 0 {
		return fmt.Sprintf("%dB", b)
	}
	c := letters[exp/10]
	dec := b >> uint(exp)
	frac := b & (1<<uint(exp) - 1)
	if frac != 0 {
		if frac >= ^uint64(0)/1000 {
			frac = ((frac / 1024) * 1000) / (1 << uint(exp-10))
		} else {
			frac = (frac * 1000) / (1 << uint(exp))
		}
		frac = ((frac + 50) / 100) * 10
		if frac == 100 {
			dec++
			frac = 0
		}
	}
	if frac == 0 {
		return fmt.Sprintf("%d%c", dec, c)
	}
	s := fmt.Sprintf("%d.%02d", dec, frac)
	s = strings.TrimSuffix(s, "0")
	return s + string(c)
}
