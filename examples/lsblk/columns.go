package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// row is one device at one place in the tree: a device stacked on several
// parents is listed under each, and PKNAME names the parent of that place.
type row struct {
	d      *blockdev.Device
	parent *blockdev.Device
	v      *view
}

// view is what a column needs besides the device: the options and the graph.
type view struct {
	o     *options
	g     *blockdev.Graph
	types *partTypeNames
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
	width float64         // lsblk's width hint; below 1 a share of a terminal, which is never used here
	get   func(r row) any // nil means absent; never "unknown" text
}

// lsblkText is a value lsblk prints where the kernel gives nothing ("0"
// for an absent write-same limit): text in a table, a number (or boolean)
// in JSON as the column's type says. The device itself has no value.
type lsblkText string

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

// u64Or is u64 printing lsblk's text for an absent value.
func u64Or(p *uint64, absent lsblkText) any {
	if p == nil {
		return absent
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

func usage(f func(u *blockdev.FSUsage) uint64) func(r row) any {
	return func(r row) any {
		if r.d.FSUsage == nil {
			return nil
		}
		return f(r.d.FSUsage)
	}
}

// columns in lsblk 2.38's -O order (its column table, in which the mount
// columns follow SUBSYSTEMS), plus PARTN and DISK-SEQ of later versions.
// Widths and alignment are lsblk's.
var columns = []column{
	{"ALIGNMENT", kNum, true, 6, func(r row) any { return i64(r.d.Alignment) }},
	{"DISC-ALN", kNum, true, 6, func(r row) any {
		// lsblk reads discard_alignment only for a device that
		// discards, and prints 0 otherwise and when it is absent.
		if g := r.d.DiscardGranularity; g == nil || *g == 0 || r.d.DiscardAlignment == nil {
			return lsblkText("0")
		}
		return *r.d.DiscardAlignment
	}},
	{"DAX", kBool, true, 1, func(r row) any { return boolp(r.d.DAX) }},
	{"DISC-GRAN", kSize, true, 6, func(r row) any {
		if r.d.DiscardGranularity == nil && !r.v.o.bytes {
			return uint64(0) // lsblk counts an absent granularity as 0 (0B)
		}
		return u64(r.d.DiscardGranularity)
	}},
	{"DISK-SEQ", kNum, true, 0, func(r row) any { return u64(r.d.DiskSeq) }},
	{"DISC-MAX", kSize, true, 6, func(r row) any { return u64(r.d.DiscardMax) }},
	{"DISC-ZERO", kBool, true, 1, func(r row) any {
		if g := r.d.DiscardGranularity; g == nil || *g == 0 || r.d.DiscardZeroes == nil {
			return lsblkText("0")
		}
		return *r.d.DiscardZeroes
	}},
	{"FSAVAIL", kSize, true, 5, usage(func(u *blockdev.FSUsage) uint64 { return u.Avail })},
	{"FSROOTS", kArray, false, 0.1, func(r row) any { return fsRoots(r.d) }},
	{"FSSIZE", kSize, true, 5, usage(func(u *blockdev.FSUsage) uint64 { return u.Size })},
	{"FSTYPE", kStr, false, 0.1, signature("ID_FS_TYPE", func(p *probe.Result) string { return p.Type })},
	{"FSUSED", kSize, true, 5, usage(func(u *blockdev.FSUsage) uint64 { return u.Used })},
	{"FSUSE%", kStr, true, 3, func(r row) any {
		u := r.d.FSUsage
		if u == nil {
			return nil
		}
		if u.Size == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.0f%%", float64(u.Used)/float64(u.Size)*100)
	}},
	{"FSVER", kStr, false, 0.1, signature("ID_FS_VERSION", func(p *probe.Result) string { return p.Version })},
	{"GROUP", kStr, false, 0.1, nodeColumn("GROUP", func(n *blockdev.Node) string { return n.Group })},
	{"HCTL", kStr, false, 10, func(r row) any { return str(r.d.HCTL) }},
	{"HOTPLUG", kBool, true, 1, func(r row) any { return boolp(r.d.Hotplug) }},
	{"KNAME", kStr, false, 0.3, func(r row) any { return r.d.KName }},
	{"LABEL", kStr, false, 0.1, signature("ID_FS_LABEL_ENC", func(p *probe.Result) string { return p.Label })},
	{"LOG-SEC", kNum, true, 7, func(r row) any { return u64(r.d.LogicalSectorSize) }},
	{"MAJ:MIN", kStr, false, 6, func(r row) any { return r.d.MajMin.String() }},
	{"MIN-IO", kNum, true, 6, func(r row) any { return u64(r.d.MinIO) }},
	{"MODE", kStr, false, 10, nodeColumn("MODE", func(n *blockdev.Node) string { return n.ModeString() })},
	{"MODEL", kStr, false, 0.1, identity(func(d *blockdev.Device) string { return d.SysfsIdentity.Model },
		[]string{"ID_MODEL_ENC", "ID_MODEL"}, []string{"ID_MODEL"})},
	{"NAME", kStr, false, 0.25, func(r row) any { return r.d.Name }},
	{"OPT-IO", kNum, true, 6, func(r row) any { return u64(r.d.OptIO) }},
	{"OWNER", kStr, false, 0.1, nodeColumn("OWNER", func(n *blockdev.Node) string { return n.Owner })},
	{"PARTFLAGS", kStr, false, 36, func(r row) any {
		if v, ok := udevProp(r, "ID_PART_ENTRY_FLAGS"); ok {
			return v
		}
		if p := r.d.Probe; p != nil && p.HasPartEntry && p.PartEntryFlags != 0 {
			return fmt.Sprintf("0x%x", p.PartEntryFlags) // as blkid prints PART_ENTRY_FLAGS
		}
		return nil
	}},
	{"PARTLABEL", kStr, false, 0.1, partEntry("ID_PART_ENTRY_NAME", func(p *probe.Result) string { return p.PartEntryName })},
	{"PARTN", kNum, true, 0, func(r row) any { return u64(r.d.PartNumber) }},
	{"PARTTYPE", kStr, false, 36, partEntry("ID_PART_ENTRY_TYPE", func(p *probe.Result) string { return p.PartEntryType })},
	{"PARTTYPENAME", kStr, false, 0.1, func(r row) any {
		// lsblk names the type in the table its PTTYPE says.
		if r.d.Udev != nil {
			typ, ok1 := udevProp(r, "ID_PART_ENTRY_TYPE")
			pt, ok2 := udevProp(r, "ID_PART_TABLE_TYPE")
			if ok1 && ok2 {
				return str(r.v.types.name(pt, typ))
			}
			if ok1 || ok2 {
				return nil
			}
		}
		if p := r.d.Probe; p != nil && p.HasPartEntry {
			return str(r.v.types.name(p.PartEntryScheme, p.PartEntryType))
		}
		return nil
	}},
	{"PARTUUID", kStr, false, 36, partEntry("ID_PART_ENTRY_UUID", func(p *probe.Result) string { return p.PartEntryUUID })},
	{"PATH", kStr, false, 0.3, func(r row) any { return r.d.Path }},
	{"PHY-SEC", kNum, true, 7, func(r row) any { return u64(r.d.PhysicalSectorSize) }},
	{"PKNAME", kStr, false, 0.3, func(r row) any {
		if r.parent == nil {
			return nil
		}
		return r.parent.KName
	}},
	{"PTTYPE", kStr, false, 0.1, func(r row) any {
		if v, ok := udevProp(r, "ID_PART_TABLE_TYPE"); ok {
			return v
		}
		return str(r.d.PTType)
	}},
	{"PTUUID", kStr, false, 36, func(r row) any {
		if v, ok := udevProp(r, "ID_PART_TABLE_UUID"); ok {
			return v
		}
		return str(r.d.PTUUID)
	}},
	{"RA", kNum, true, 3, func(r row) any { return u64(r.d.ReadAheadKiB) }},
	{"RAND", kBool, true, 1, func(r row) any { return boolp(r.d.AddRandom) }},
	{"REV", kStr, true, 4, identity(func(d *blockdev.Device) string { return d.SysfsIdentity.Revision }, nil, nil)},
	{"RM", kBool, true, 1, func(r row) any { return boolp(r.d.Removable) }},
	{"RO", kBool, true, 1, func(r row) any { return boolp(r.d.ReadOnly) }},
	{"ROTA", kBool, true, 1, func(r row) any { return boolp(r.d.Rotational) }},
	{"RQ-SIZE", kNum, true, 5, func(r row) any { return u64(r.d.NrRequests) }},
	{"SCHED", kStr, false, 0.1, func(r row) any { return str(r.d.Scheduler) }},
	{"SERIAL", kStr, false, 0.1, identity(func(d *blockdev.Device) string { return d.SysfsIdentity.Serial },
		serialKeys, serialKeys)},
	{"SIZE", kSize, true, 5, func(r row) any { return u64(r.d.Size) }},
	{"START", kNum, true, 5, func(r row) any { return u64(r.d.Start) }},
	{"STATE", kStr, false, 7, func(r row) any {
		if s := r.d.DMSuspended; s != nil {
			if *s {
				return "suspended"
			}
			return "running"
		}
		return str(r.d.State)
	}},
	{"SUBSYSTEMS", kStr, false, 0.1, func(r row) any { return str(strings.Join(r.d.Subsystems, ":")) }},
	{"MOUNTPOINT", kStr, false, 0.1, func(r row) any { return mountPoint(r.d) }},
	{"MOUNTPOINTS", kArray, false, 0.1, func(r row) any { return r.d.MountPoints() }},
	{"TRAN", kStr, false, 6, func(r row) any { return str(r.d.Transport) }},
	{"TYPE", kStr, false, 4, func(r row) any { return string(r.d.Type) }},
	{"UUID", kStr, false, 36, signature("ID_FS_UUID_ENC", func(p *probe.Result) string { return p.UUID })},
	{"VENDOR", kStr, false, 0.1, identity(func(d *blockdev.Device) string { return d.SysfsIdentity.Vendor }, nil, nil)},
	{"WSAME", kSize, true, 6, func(r row) any { return u64Or(r.d.WriteSameMax, "0") }},
	{"WWN", kStr, false, 18, func(r row) any {
		if v, ok := udevFirst(r, "ID_WWN_WITH_EXTENSION", "ID_WWN"); ok {
			return v
		}
		return str(r.d.WWN) // lsblk 2.38 has none without udev; sysfs has it
	}},
	{"ZONED", kStr, false, 0.3, func(r row) any { return str(r.d.Zoned) }},
	{"ZONE-SZ", kSize, true, 9, func(r row) any { return u64(r.d.ZoneSize) }},
	{"ZONE-WGRAN", kSize, true, 10, func(r row) any { return u64(r.d.ZoneWriteGranularity) }},
	{"ZONE-APP", kSize, true, 11, func(r row) any { return u64(r.d.ZoneAppendMax) }},
	{"ZONE-NR", kNum, true, 8, func(r row) any { return u64(r.d.Zones) }},
	{"ZONE-OMAX", kNum, true, 10, func(r row) any { return u64Or(r.d.MaxOpenZones, "0") }},
	{"ZONE-AMAX", kNum, true, 10, func(r row) any { return u64Or(r.d.MaxActiveZones, "0") }},
}

// serialKeys are the udev properties lsblk takes a serial from.
var serialKeys = []string{"SCSI_IDENT_SERIAL", "ID_SCSI_SERIAL", "ID_SERIAL_SHORT", "ID_SERIAL"}

// sysroot reports whether the tree read is not the live system: lsblk
// then takes a device's properties from the tree's property file only
// (its udev "file mode"), which differs from what it takes from libudev.
func (v *view) sysroot() bool { return v.o.sysroot != "" && v.o.sysroot != "/" }

// udevProp is a udev property of the row's device as lsblk reads it: from
// libudev on the live system (the database's E: lines), from the device's
// property file under --sysroot. The _ENC values are unmangled (\xHH).
func udevProp(r row, key string) (string, bool) {
	v, ok := r.d.Udev[key]
	if !ok || v == "" {
		return "", false
	}
	if strings.HasSuffix(key, "_ENC") || key == "ID_PART_ENTRY_NAME" {
		v = unhexmangle(v)
	}
	return v, true
}

// signature is a filesystem column: the udev property lsblk prints when the
// device has udev properties, else our probe's value.
func signature(key string, f func(p *probe.Result) string) func(r row) any {
	return func(r row) any {
		if v, ok := udevProp(r, key); ok {
			return v
		}
		if r.d.Probe == nil {
			return nil
		}
		return str(f(r.d.Probe))
	}
}

// partEntry is a partition entry column, like signature.
func partEntry(key string, f func(p *probe.Result) string) func(r row) any {
	return func(r row) any {
		if v, ok := udevProp(r, key); ok {
			return v
		}
		if r.d.Probe == nil || !r.d.Probe.HasPartEntry {
			return nil
		}
		return str(f(r.d.Probe))
	}
}

// udevFirst is the property lsblk takes where several keys say the same:
// the first of keys it has, in that order, from libudev; from a --sysroot
// property file the first line holding any of them (lsblk reads the file
// line by line and keeps the first value it finds).
func udevFirst(r row, keys ...string) (string, bool) {
	if r.v.sysroot() {
		for _, k := range r.d.UdevKeys {
			if slices.Contains(keys, k) {
				if v, ok := udevProp(r, k); ok {
					return v, true
				}
			}
		}
		return "", false
	}
	for _, k := range keys {
		if v, ok := udevProp(r, k); ok {
			return v, true
		}
	}
	return "", false
}

// identity is MODEL, SERIAL, REV or VENDOR as lsblk 2.38 prints them: only
// for a whole device built on nothing (not a partition, no slaves), from its
// udev properties (udevFirst of libudevKeys, white space normalized; a
// --sysroot property file's fileKeys as they are), else sysfs's attribute as
// the kernel shows it, padding and all.
func identity(sysfsValue func(d *blockdev.Device) string, libudevKeys, fileKeys []string) func(r row) any {
	return func(r row) any {
		d := r.d
		if d.Type == blockdev.TypePart || len(r.v.g.Parents(d)) > 0 {
			return nil
		}
		if r.v.sysroot() {
			if v, ok := udevFirst(r, fileKeys...); ok {
				return v
			}
		} else if v, ok := udevFirst(r, libudevKeys...); ok {
			return str(normalizeWhitespace(v))
		}
		return str(sysfsValue(d))
	}
}

// nodeColumn is OWNER, GROUP or MODE: with --sysroot, lsblk takes them
// from the device's property file (util-linux's test dumps record them
// there); otherwise from the node's stat.
func nodeColumn(key string, f func(n *blockdev.Node) string) func(r row) any {
	return func(r row) any {
		if r.v.sysroot() {
			if v, ok := r.d.Udev[key]; ok && v != "" {
				return v
			}
		}
		if r.d.Node == nil {
			return nil
		}
		return str(f(r.d.Node))
	}
}

// mountPoint is lsblk's MOUNTPOINT: the most recent mount, unless it mounts
// a subtree (a btrfs subvolume, a bind mount) and an older mount of the
// whole filesystem exists; "[SWAP]" for swap that is not mounted.
func mountPoint(d *blockdev.Device) any {
	if len(d.Mounts) == 0 {
		if d.Swap {
			return "[SWAP]"
		}
		return nil
	}
	last := d.Mounts[len(d.Mounts)-1]
	if last.Root != "" && last.Root != "/" {
		for i := len(d.Mounts) - 2; i >= 0; i-- {
			if m := d.Mounts[i]; m.Root == "" || m.Root == "/" {
				return m.MountPoint
			}
		}
	}
	return last.MountPoint
}

// fsRoots is lsblk's FSROOTS: the mounted subtree of each mount, most
// recent first; swap has none.
func fsRoots(d *blockdev.Device) []string {
	var out []string
	for i := len(d.Mounts) - 1; i >= 0; i-- {
		root := d.Mounts[i].Root
		if root == "" {
			root = "/"
		}
		out = append(out, root)
	}
	return out
}

// unhexmangle decodes udev's \xHH escapes (ID_FS_LABEL_ENC and the like).
func unhexmangle(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHex(s[i+2]) && isHex(s[i+3]) {
			b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// normalizeWhitespace is util-linux's normalize_whitespace: leading and
// trailing white space removed, each run inside kept as its first
// character.
func normalizeWhitespace(s string) string {
	var b []byte
	space, text := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' {
			space++
		} else {
			space, text = 0, true
		}
		if space > 1 || (space > 0 && !text) {
			continue
		}
		b = append(b, c)
	}
	if space > 0 && len(b) > 0 {
		b = b[:len(b)-1]
	}
	return string(b)
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
