package blockdevtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Tree is a fake root (DIR/sys, DIR/proc, DIR/dev, DIR/run) under
// construction. Its methods record the first error and ignore later calls,
// like bufio.Writer; check Err when done.
type Tree struct {
	Dir string

	err     error
	seq     uint64
	devices map[string]*node // kernel name -> node
	mounts  []string
	swaps   []string
	mountID int
}

type node struct {
	name    string
	major   uint32
	minor   uint32
	sysPath string // absolute /sys/devices/... path, without Dir
	disk    *node  // the disk of a partition
}

// New lays out an empty root in dir (which must exist or be creatable).
func New(dir string) *Tree {
	t := &Tree{Dir: dir, devices: map[string]*node{}, mountID: 20}
	for _, d := range []string{"sys/block", "sys/dev/block", "sys/class/block", "sys/devices/virtual/block",
		"sys/bus/scsi", "sys/bus/virtio", "sys/bus/usb", "sys/bus/pci", "sys/bus/mmc", "sys/class/nvme",
		"sys/class/scsi_host", "proc/self", "dev/mapper", "run"} {
		t.mkdir(d)
	}
	t.writeMounts()
	t.writeSwaps()
	return t
}

// Err returns the first error any method met.
func (t *Tree) Err() error { return t.err }

// Path returns the real path of an absolute path inside the tree
// ("/sys/block/sda" -> DIR/sys/block/sda).
func (t *Tree) Path(abs string) string { return filepath.Join(t.Dir, abs) }

func (t *Tree) fail(err error) {
	if t.err == nil && err != nil {
		t.err = err
	}
}

func (t *Tree) mkdir(rel string) {
	if t.err != nil {
		return
	}
	t.fail(os.MkdirAll(filepath.Join(t.Dir, rel), 0o755))
}

// WriteFile writes one file at an absolute path inside the tree, creating
// its directory. Use it for attributes the presets do not set.
func (t *Tree) WriteFile(abs, content string) *Tree {
	if t.err != nil {
		return t
	}
	p := t.Path(abs)
	t.fail(os.MkdirAll(filepath.Dir(p), 0o755))
	if t.err == nil {
		t.fail(os.WriteFile(p, []byte(content), 0o644))
	}
	return t
}

// Symlink makes abs a link to target (relative targets are kept as given).
func (t *Tree) Symlink(target, abs string) *Tree {
	if t.err != nil {
		return t
	}
	p := t.Path(abs)
	t.fail(os.MkdirAll(filepath.Dir(p), 0o755))
	if t.err == nil {
		t.fail(os.Symlink(target, p))
	}
	return t
}

// rel returns the relative link from the directory of the link at abs to to,
// both absolute paths inside the tree, written as the kernel writes them: up
// to the nearest common ancestor that is a proper ancestor of the target,
// then down to it. A link to an ancestor is therefore "../../../0:0:0:0",
// never "../..", which lsblk relies on to read the SCSI address.
func rel(abs, to string) string {
	r, err := filepath.Rel(filepath.Dir(abs), filepath.Dir(to))
	if err != nil {
		return to
	}
	return filepath.Join(r, filepath.Base(to))
}

func (t *Tree) link(abs, to string) { t.Symlink(rel(abs, to), abs) }

// Disk describes a whole block device for AddDisk.
type Disk struct {
	Name         string
	Major, Minor uint32
	Size         uint64 // bytes; must be a multiple of 512
	// Parent is the /sys/devices directory the block directory hangs off
	// ("/sys/devices/pci0000:00/0000:00:02.0/virtio1"); empty means
	// /sys/devices/virtual. The disk's directory is Parent/block/Name.
	Parent string
	// Device is the directory the "device" link points to (usually Parent);
	// empty means no device link, as for virtual devices.
	Device string
	// Dir, when set, is the disk's directory itself, for drivers that do
	// not put a block/ level in between (an NVMe namespace sits directly in
	// its controller's directory).
	Dir string
	// Attrs overrides or adds attributes, relative to the disk's directory
	// ("removable", "queue/rotational", "loop/backing_file"). An empty value
	// writes an empty file; use Remove to take an attribute away.
	Attrs map[string]string
}

// AddDisk creates a disk the way the kernel lays it out: its directory under
// /sys/devices with attributes and queue/, and the /sys/block, /sys/class/block
// and /sys/dev/block links. Returns its /sys/devices path.
func (t *Tree) AddDisk(d Disk) string {
	if t.err != nil {
		return ""
	}
	if d.Name == "" || strings.ContainsRune(d.Name, '/') {
		t.fail(fmt.Errorf("blockdevtest: bad device name %q", d.Name))
		return ""
	}
	if _, dup := t.devices[d.Name]; dup {
		t.fail(fmt.Errorf("blockdevtest: %s added twice", d.Name))
		return ""
	}
	parent := d.Parent
	if parent == "" {
		parent = "/sys/devices/virtual"
	}
	dir := filepath.Join(parent, "block", d.Name)
	if d.Dir != "" {
		dir = d.Dir
	}
	t.seq++
	attrs := map[string]string{
		"dev":                          fmt.Sprintf("%d:%d", d.Major, d.Minor),
		"size":                         strconv.FormatUint(d.Size/512, 10),
		"ro":                           "0",
		"removable":                    "0",
		"alignment_offset":             "0",
		"discard_alignment":            "0",
		"diskseq":                      strconv.FormatUint(t.seq, 10),
		"ext_range":                    "256",
		"capability":                   "0",
		"hidden":                       "0",
		"uevent":                       fmt.Sprintf("MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=disk\n", d.Major, d.Minor, d.Name),
		"queue/rotational":             "0",
		"queue/logical_block_size":     "512",
		"queue/physical_block_size":    "512",
		"queue/hw_sector_size":         "512",
		"queue/minimum_io_size":        "512",
		"queue/optimal_io_size":        "0",
		"queue/discard_granularity":    "0",
		"queue/discard_max_bytes":      "0",
		"queue/discard_zeroes_data":    "0",
		"queue/scheduler":              "[mq-deadline] none",
		"queue/nr_requests":            "64",
		"queue/read_ahead_kb":          "128",
		"queue/zoned":                  "none",
		"queue/dax":                    "0",
		"queue/add_random":             "0",
		"queue/nr_zones":               "0",
		"queue/write_same_max_bytes":   "0",
		"queue/chunk_sectors":          "0",
		"queue/zone_append_max_bytes":  "0",
		"queue/zone_write_granularity": "0",
		"queue/max_open_zones":         "0",
		"queue/max_active_zones":       "0",
	}
	for k, v := range d.Attrs {
		attrs[k] = v
	}
	t.writeAttrs(dir, attrs)
	t.mkdir(filepath.Join(dir, "holders"))
	t.mkdir(filepath.Join(dir, "slaves"))
	t.link(filepath.Join(dir, "subsystem"), "/sys/class/block")
	if d.Device != "" {
		t.mkdir(d.Device)
		t.link(filepath.Join(dir, "device"), d.Device)
	}
	t.link("/sys/block/"+d.Name, dir)
	t.link("/sys/class/block/"+d.Name, dir)
	t.link(fmt.Sprintf("/sys/dev/block/%d:%d", d.Major, d.Minor), dir)
	t.node(d.Name)
	t.devices[d.Name] = &node{name: d.Name, major: d.Major, minor: d.Minor, sysPath: dir}
	return dir
}

func (t *Tree) writeAttrs(dir string, attrs map[string]string) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := attrs[k]
		if v != "" && !strings.HasSuffix(v, "\n") {
			v += "\n"
		}
		t.WriteFile(filepath.Join(dir, k), v)
	}
}

// node creates the /dev entry: an empty regular file, which a fake tree's
// readers only need to exist. Image replaces it with content.
func (t *Tree) node(name string) {
	p := t.Path("/dev/" + name)
	if _, err := os.Lstat(p); err == nil {
		return
	}
	t.WriteFile("/dev/"+name, "")
}

// Image copies size bytes of content into the /dev node of a device, so
// that signature probing of a fake tree reads real on-disk structures.
func (t *Tree) Image(name string, content []byte) *Tree {
	return t.WriteFile("/dev/"+name, string(content))
}

// AddPartition adds partition number n of disk: start and size in bytes.
func (t *Tree) AddPartition(disk, name string, major, minor uint32, n int, start, size uint64) string {
	if t.err != nil {
		return ""
	}
	dn, ok := t.devices[disk]
	if !ok {
		t.fail(fmt.Errorf("%w: partition %s: no disk %s", ErrUnknownDevice, name, disk))
		return ""
	}
	if _, dup := t.devices[name]; dup {
		t.fail(fmt.Errorf("blockdevtest: %s added twice", name))
		return ""
	}
	dir := filepath.Join(dn.sysPath, name)
	t.writeAttrs(dir, map[string]string{
		"dev":               fmt.Sprintf("%d:%d", major, minor),
		"partition":         strconv.Itoa(n),
		"start":             strconv.FormatUint(start/512, 10),
		"size":              strconv.FormatUint(size/512, 10),
		"ro":                "0",
		"alignment_offset":  "0",
		"discard_alignment": "0",
		"inflight":          "       0        0",
		"uevent":            fmt.Sprintf("MAJOR=%d\nMINOR=%d\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=%d\n", major, minor, name, n),
	})
	t.mkdir(filepath.Join(dir, "holders"))
	t.link(filepath.Join(dir, "subsystem"), "/sys/class/block")
	t.link("/sys/class/block/"+name, dir)
	t.link(fmt.Sprintf("/sys/dev/block/%d:%d", major, minor), dir)
	t.node(name)
	t.devices[name] = &node{name: name, major: major, minor: minor, sysPath: dir, disk: dn}
	return dir
}

// Hold stacks holder (a dm or md device already added) on lower: the kernel's
// lower/holders/holder and holder/slaves/lower links.
func (t *Tree) Hold(holder, lower string) *Tree {
	if t.err != nil {
		return t
	}
	h, ok1 := t.devices[holder]
	l, ok2 := t.devices[lower]
	if !ok1 || !ok2 {
		t.fail(fmt.Errorf("%w: hold %s on %s", ErrUnknownDevice, holder, lower))
		return t
	}
	t.link(filepath.Join(l.sysPath, "holders", holder), h.sysPath)
	t.link(filepath.Join(h.sysPath, "slaves", lower), l.sysPath)
	return t
}

// Set writes (or overwrites) one attribute of a device, relative to its
// sysfs directory.
func (t *Tree) Set(name, attr, value string) *Tree {
	n, ok := t.devices[name]
	if !ok {
		t.fail(fmt.Errorf("%w: %s (set %s)", ErrUnknownDevice, name, attr))
		return t
	}
	if value != "" && !strings.HasSuffix(value, "\n") {
		value += "\n"
	}
	return t.WriteFile(filepath.Join(n.sysPath, attr), value)
}

// Remove deletes one attribute (or directory) of a device.
func (t *Tree) Remove(name, attr string) *Tree {
	if t.err != nil {
		return t
	}
	n, ok := t.devices[name]
	if !ok {
		t.fail(fmt.Errorf("%w: %s (remove %s)", ErrUnknownDevice, name, attr))
		return t
	}
	t.fail(os.RemoveAll(t.Path(filepath.Join(n.sysPath, attr))))
	return t
}

// SysPath returns the /sys/devices directory of a device added to the tree.
func (t *Tree) SysPath(name string) (string, bool) {
	n, ok := t.devices[name]
	if !ok {
		return "", false
	}
	return n.sysPath, true
}

// Mount adds a mountinfo line mounting device name at mountpoint. Spaces and
// other special characters are escaped as the kernel does.
func (t *Tree) Mount(name, mountpoint, fstype string) *Tree {
	n, ok := t.devices[name]
	if !ok {
		t.fail(fmt.Errorf("%w: %s (mount)", ErrUnknownDevice, name))
		return t
	}
	return t.MountRaw(n.major, n.minor, "/", mountpoint, fstype, "/dev/"+name)
}

// MountRaw adds a mountinfo line with every field given, for filesystems
// that report an anonymous device number (btrfs) or bind mounts.
func (t *Tree) MountRaw(major, minor uint32, root, mountpoint, fstype, source string) *Tree {
	t.mountID++
	t.mounts = append(t.mounts, fmt.Sprintf("%d 1 %d:%d %s %s rw,relatime shared:%d - %s %s rw",
		t.mountID, major, minor, escape(root), escape(mountpoint), t.mountID, fstype, escape(source)))
	t.writeMounts()
	return t
}

// Swap marks a device as active swap in /proc/swaps.
func (t *Tree) Swap(name string) *Tree {
	if _, ok := t.devices[name]; !ok {
		t.fail(fmt.Errorf("%w: %s (swap)", ErrUnknownDevice, name))
		return t
	}
	t.swaps = append(t.swaps, fmt.Sprintf("%-40s partition\t1048572\t\t0\t\t-2", "/dev/"+name))
	t.writeSwaps()
	return t
}

// Udev writes the udev database record of a device from properties
// (E: lines) and links (S: lines, relative to /dev).
func (t *Tree) Udev(name string, props map[string]string, links ...string) *Tree {
	n, ok := t.devices[name]
	if !ok {
		t.fail(fmt.Errorf("%w: %s (udev)", ErrUnknownDevice, name))
		return t
	}
	var b strings.Builder
	for _, l := range links {
		fmt.Fprintf(&b, "S:%s\n", l)
	}
	b.WriteString("I:1000000\n")
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "E:%s=%s\n", k, props[k])
	}
	b.WriteString("G:systemd\nQ:systemd\nV:1\n")
	return t.WriteFile(fmt.Sprintf("/run/udev/data/b%d:%d", n.major, n.minor), b.String())
}

// PropertyFile writes the udev properties of the device whose node is
// devPath (/dev/sda, /dev/mapper/vg-lv) where lsblk --sysroot reads them:
// into the tree's node itself, one KEY=VALUE line each, as util-linux's
// lsblk test dumps keep the output of udevadm info --query=property (and
// the OWNER=, GROUP= and MODE= lines its mk-input.sh appends). Discover
// reads them as the device's Udev properties.
func (t *Tree) PropertyFile(devPath string, lines ...string) *Tree {
	content := strings.Join(lines, "\n")
	if len(lines) > 0 {
		content += "\n"
	}
	return t.WriteFile(devPath, content)
}

func (t *Tree) writeMounts() {
	content := "1 0 0:1 / / rw,relatime shared:1 - rootfs rootfs rw\n"
	if len(t.mounts) > 0 {
		content += strings.Join(t.mounts, "\n") + "\n"
	}
	t.WriteFile("/proc/self/mountinfo", content)
}

func (t *Tree) writeSwaps() {
	content := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	if len(t.swaps) > 0 {
		content += strings.Join(t.swaps, "\n") + "\n"
	}
	t.WriteFile("/proc/swaps", content)
}

// escape writes the octal escapes the kernel uses in mountinfo.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ErrUnknownDevice is returned by lookups of names never added.
var ErrUnknownDevice = errors.New("blockdevtest: unknown device")
