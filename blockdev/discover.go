package blockdev

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// Discover reads every block device of the system (or of the fake tree given
// with WithRoot) and returns them as a Graph.
//
// A device whose attribute cannot be read is still listed, with that
// attribute absent and an *AttrError in Device.Errs. Discover fails only when
// an option is invalid, ctx is done, or there is no sysfs block directory.
func Discover(ctx context.Context, opts ...Option) (*Graph, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &discovery{cfg: cfg, root: cfg.root, g: newGraph()}
	if err := d.devices(ctx); err != nil {
		return nil, err
	}
	d.stack()
	d.mounts()
	d.swaps()
	if cfg.udev {
		d.udev()
	}
	if cfg.root.IsLive() {
		d.usage()
	}
	if cfg.probing() {
		if err := d.probeAll(ctx); err != nil {
			return nil, err
		}
	}
	return d.g, nil
}

// discovery is the state of one Discover call.
type discovery struct {
	cfg        *config
	root       sysfs.Root
	g          *Graph
	opens      int             // files and directories opened, for the opens-per-device test
	present    map[string]bool // entries of presentDir; nil: unknown
	presentDir string
	unkeyed    uint32
	holders    map[MajMin][]string // kernel names holding each device
	parts      map[MajMin][]MajMin
	disks      []MajMin // /sys/block entries in readdir order
}

// attr reads one attribute of dir, recording a failure other than absence.
// ok is false when the attribute is absent or unreadable.
func (x *discovery) attr(d *Device, dir, name string) (string, bool) {
	if x.present != nil && dir == x.presentDir {
		// Not in the directory listing: absent, and no open spent on it.
		if top, _, _ := strings.Cut(name, "/"); !x.present[top] {
			return "", false
		}
	}
	x.opens++
	v, err := sysfs.ReadAttr(filepath.Join(dir, name))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.addErr(name, err)
		}
		return "", false
	}
	return v, true
}

func (x *discovery) uintAttr(d *Device, dir, name string) *uint64 {
	s, ok := x.attr(d, dir, name)
	if !ok {
		return nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		d.addErr(name, fmt.Errorf("%w: %q is not a number", ErrSyntax, s))
		return nil
	}
	return &v
}

func (x *discovery) intAttr(d *Device, dir, name string) *int64 {
	s, ok := x.attr(d, dir, name)
	if !ok {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.addErr(name, fmt.Errorf("%w: %q is not a number", ErrSyntax, s))
		return nil
	}
	return &v
}

func (x *discovery) boolAttr(d *Device, dir, name string) *bool {
	s, ok := x.attr(d, dir, name)
	if !ok {
		return nil
	}
	switch s {
	case "0":
		b := false
		return &b
	case "1":
		b := true
		return &b
	}
	d.addErr(name, fmt.Errorf("%w: %q is not 0 or 1", ErrSyntax, s))
	return nil
}

func (x *discovery) strAttr(d *Device, dir, name string) string {
	s, _ := x.attr(d, dir, name)
	return s
}

// devices reads /sys/block and the partitions inside each entry.
func (x *discovery) devices(ctx context.Context) error {
	blockDir := x.root.Sys("block")
	ents, err := os.ReadDir(blockDir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDevices, err)
	}
	x.parts = map[MajMin][]MajMin{}
	x.holders = map[MajMin][]string{}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		dir := filepath.Join(blockDir, name)
		// One listing of the disk's directory finds its partitions and tells
		// which optional attributes (dm/, md/, loop/, device, diskseq) exist,
		// so absent ones cost no failed open.
		x.opens++
		list, err := os.ReadDir(dir)
		x.present, x.presentDir = nil, dir
		if err == nil {
			x.present = make(map[string]bool, len(list))
			for _, l := range list {
				x.present[l.Name()] = true
			}
		}
		if x.present != nil && x.present["hidden"] {
			if v, err := sysfs.ReadAttr(filepath.Join(dir, "hidden")); err == nil && v == "1" {
				// Hidden disks (the per-path devices of NVMe multipath) have
				// no node in /dev; lsblk does not list them either.
				x.cfg.log.Debug("skipping hidden device", "name", name)
				continue
			}
			x.opens++
		}
		sysPath := x.resolve(dir, "/sys/block")
		disk := x.device(name, dir, sysPath, nil)
		if err != nil {
			disk.addErr(".", err)
		}
		x.present = nil
		x.g.add(disk)
		x.disks = append(x.disks, disk.MajMin)
		x.partitions(ctx, disk, dir, list)
	}
	return nil
}

// resolve turns the /sys/block/<name> symlink into the device's path under
// /sys/devices without walking every component (one readlink).
func (x *discovery) resolve(dir, under string) string {
	l, err := os.Readlink(dir)
	if err != nil {
		return filepath.Join(under, filepath.Base(dir))
	}
	if filepath.IsAbs(l) {
		if !x.root.IsLive() {
			if rel, err := filepath.Rel(x.root.Dir(), l); err == nil && !strings.HasPrefix(rel, "..") {
				return "/" + rel
			}
		}
		return filepath.Clean(l)
	}
	return filepath.Join(under, l)
}

func (x *discovery) partitions(ctx context.Context, disk *Device, dir string, ents []os.DirEntry) {
	for _, e := range ents {
		if ctx.Err() != nil {
			return
		}
		name := e.Name()
		// A partition's directory is named after its disk (sda1, nvme0n1p1);
		// the "partition" attribute, not the name, decides.
		if !strings.HasPrefix(name, disk.KName) || name == disk.KName || !e.IsDir() {
			continue
		}
		pdir := filepath.Join(dir, name)
		if _, err := os.Lstat(filepath.Join(pdir, "partition")); err != nil {
			continue
		}
		p := x.device(name, pdir, filepath.Join(disk.SysPath, name), disk)
		x.g.add(p)
		x.parts[disk.MajMin] = append(x.parts[disk.MajMin], p.MajMin)
	}
}

// device reads one device's attributes. parent is the disk of a partition.
func (x *discovery) device(name, dir, sysPath string, parent *Device) *Device {
	d := &Device{Name: name, KName: name, SysPath: sysPath}
	d.Path = filepath.Join("/dev", name)
	if s, ok := x.attr(d, dir, "dev"); ok {
		m, err := ParseMajMin(s)
		if err != nil {
			d.addErr("dev", err)
		} else {
			d.MajMin = m
		}
	}
	if d.MajMin == (MajMin{}) {
		// Major 0 is never a block device, so 0:N cannot collide with a real key.
		x.unkeyed++
		d.MajMin = MajMin{0, x.unkeyed}
	}
	if s := x.uintAttr(d, dir, "size"); s != nil {
		b := *s * 512
		d.Size = &b
	}
	d.ReadOnly = x.boolAttr(d, dir, "ro")
	d.Alignment = x.intAttr(d, dir, "alignment_offset")
	d.DiscardAlignment = x.intAttr(d, dir, "discard_alignment")
	x.holders[d.MajMin] = x.listHolders(d, dir)

	if parent != nil {
		d.Type = TypePart
		d.PartNumber = x.uintAttr(d, dir, "partition")
		d.Start = x.uintAttr(d, dir, "start")
		x.inherit(d, parent)
		return d
	}
	d.DiskSeq = x.uintAttr(d, dir, "diskseq")
	d.Removable = x.boolAttr(d, dir, "removable")
	x.queue(d, filepath.Join(dir, "queue"))
	x.kind(d, dir)
	x.hardware(d, dir)
	d.Hotplug = x.hotplug(d)
	return d
}

// inherit copies what a partition shares with its disk, as lsblk reports it.
func (x *discovery) inherit(d, p *Device) {
	d.Removable = p.Removable
	d.Hotplug = p.Hotplug
	d.Rotational = p.Rotational
	d.LogicalSectorSize = p.LogicalSectorSize
	d.PhysicalSectorSize = p.PhysicalSectorSize
	d.MinIO = p.MinIO
	d.OptIO = p.OptIO
	d.DiscardGranularity = p.DiscardGranularity
	d.DiscardMax = p.DiscardMax
	d.DiscardZeroes = p.DiscardZeroes
	d.Scheduler = p.Scheduler
	d.NrRequests = p.NrRequests
	d.ReadAheadKiB = p.ReadAheadKiB
	d.Zoned = p.Zoned
	d.DAX = p.DAX
}

func (x *discovery) listHolders(d *Device, dir string) []string {
	if x.present != nil && !x.present["holders"] {
		return nil
	}
	x.opens++
	ents, err := os.ReadDir(filepath.Join(dir, "holders"))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.addErr("holders", err)
		}
		return nil
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func (x *discovery) queue(d *Device, q string) {
	d.Rotational = x.boolAttr(d, q, "rotational")
	d.LogicalSectorSize = x.uintAttr(d, q, "logical_block_size")
	d.PhysicalSectorSize = x.uintAttr(d, q, "physical_block_size")
	d.MinIO = x.uintAttr(d, q, "minimum_io_size")
	d.OptIO = x.uintAttr(d, q, "optimal_io_size")
	d.DiscardGranularity = x.uintAttr(d, q, "discard_granularity")
	d.DiscardMax = x.uintAttr(d, q, "discard_max_bytes")
	d.DiscardZeroes = x.boolAttr(d, q, "discard_zeroes_data")
	if s, ok := x.attr(d, q, "scheduler"); ok {
		d.Scheduler = activeScheduler(s)
	}
	d.NrRequests = x.uintAttr(d, q, "nr_requests")
	d.ReadAheadKiB = x.uintAttr(d, q, "read_ahead_kb")
	d.Zoned = x.strAttr(d, q, "zoned")
	d.DAX = x.boolAttr(d, q, "dax")
}

// activeScheduler picks the bracketed entry of queue/scheduler
// ("none [mq-deadline] kyber"); a single entry without brackets is active.
func activeScheduler(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	if f := strings.Fields(s); len(f) == 1 {
		return f[0]
	}
	return ""
}

// kind sets the type and the dm/md/loop attributes from the subdirectories
// the kernel creates for them (dm/, md/, loop/), never from the name.
func (x *discovery) kind(d *Device, dir string) {
	if uuid, ok := x.attr(d, dir, "dm/uuid"); ok {
		d.DMUUID = uuid
		d.DMName = x.strAttr(d, dir, "dm/name")
		if d.DMName != "" {
			d.Name = d.DMName
			d.Path = filepath.Join("/dev/mapper", d.DMName)
		}
		d.Type = dmType(uuid)
		return
	}
	if x.present["dm"] || (x.present == nil && exists(filepath.Join(dir, "dm"))) {
		d.DMName = x.strAttr(d, dir, "dm/name")
		if d.DMName != "" {
			d.Name = d.DMName
			d.Path = filepath.Join("/dev/mapper", d.DMName)
		}
		d.Type = TypeDM
		return
	}
	if lvl, ok := x.attr(d, dir, "md/level"); ok {
		d.MDLevel = lvl
		d.Type = Type(lvl)
		if lvl == "" {
			d.Type = TypeMD
		}
		return
	}
	if bf, ok := x.attr(d, dir, "loop/backing_file"); ok {
		d.LoopBackingFile = bf
		d.Type = TypeLoop
		d.Transport = "loop"
		return
	}
	// A detached loop device has no loop/ directory; its major number, which
	// the kernel reserves for loop (LOOP_MAJOR), still says what it is.
	if d.MajMin.Major == 7 {
		d.Type = TypeLoop
		d.Transport = "loop"
		return
	}
	d.Type = TypeDisk
	if t, ok := x.attr(d, dir, "device/type"); ok {
		d.Type = scsiType(t)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// dmType is lsblk's rule: the dm uuid's prefix before the first '-',
// lower-cased ("LVM-..." is lvm, "CRYPT-LUKS2-..." is crypt).
func dmType(uuid string) Type {
	pre, _, ok := strings.Cut(uuid, "-")
	if !ok || pre == "" {
		return TypeDM
	}
	return Type(strings.ToLower(pre))
}

// scsiType maps the SCSI peripheral device type (device/type) to lsblk's names.
func scsiType(s string) Type {
	n, err := strconv.Atoi(s)
	if err != nil {
		return TypeDisk
	}
	names := [...]Type{0: "disk", 1: "tape", 2: "printer", 3: "processor", 4: "worm", 5: "rom",
		6: "scanner", 7: "mo-disk", 8: "changer", 9: "comm", 12: "raid", 13: "enclosure",
		14: "rbc", 17: "osd", 30: "wlun"}
	if n >= 0 && n < len(names) && names[n] != "" {
		return names[n]
	}
	return TypeDisk
}
