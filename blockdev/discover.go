package blockdev

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

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
	return discover(ctx, cfg, nil)
}

// discover is Discover with validated options; cache, when not nil, keeps
// attribute files open between calls (Scanner).
func discover(ctx context.Context, cfg *config, cache *attrCache) (*Graph, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &discovery{cfg: cfg, root: cfg.root, g: newGraph(), cache: cache}
	if err := d.devices(ctx); err != nil {
		return nil, err
	}
	d.stack()
	d.nodeNames()
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
	d.tables()
	return d.g, nil
}

// discovery is the state of one Discover call.
type discovery struct {
	cfg     *config
	root    sysfs.Root
	g       *Graph
	opens   int // files and directories opened, for the opens-per-device test
	unkeyed uint32
	holders map[MajMin][]string // kernel names holding each device
	parts   map[MajMin][]MajMin

	// The device being read: attributes are opened relative to cur (the
	// disk's directory) with prefix ("" for the disk, "sda1/" for its
	// partition). present lists cur's entries, so that absent optional
	// attributes of a disk cost no failed open; nil means unknown.
	cur     *sysfs.Dir
	prefix  string
	present map[string]bool

	// fresh, when not nil, limits mounts, swaps, udev, usage and probing to
	// the devices read in this pass (Watch re-reads one disk at a time, and
	// devices of earlier snapshots are never modified).
	fresh map[MajMin]bool
	// slaves: also link each device to the devices it is built on, from its
	// slaves/ directory (Watch needs it when a holder appears after them).
	slaves map[MajMin][]string
	// listSlaves: a disk reader lists slaves/ too (slaves is not nil in the
	// discovery it reads for).
	listSlaves bool
	// cache keeps attribute files open between Scanner calls; dc is the
	// part of it for the disk being read. Both nil for Discover.
	cache *attrCache
	dc    *diskCache
	// diskSize is the disk's size attribute when it was read already (to
	// leave out empty disks before anything else is read).
	diskSize     string
	haveDiskSize bool
	// nums are the numbers of the live system's disks and partitions by
	// kernel name, from /proc/diskstats (devNumbers), read when detached
	// loop devices are left out: they tell the loop devices (LOOP_MAJOR)
	// without a dev attribute each. Only that: a device's own number is
	// always its dev attribute, read with its other attributes, as the
	// table may be older than the device (a partition table rewritten, a
	// disk replaced, between the two reads). nil on a fake tree, when
	// unreadable, or when every device is listed; a name it lacks has its
	// dev attribute read.
	nums map[string]MajMin
	// sized, when not nil, names the disks /proc/partitions lists: those
	// whose size was not zero when it was read (briefLoop). nil when
	// detached loop devices are read in full, or the table is unreadable.
	sized map[string]bool
	// diskDev likewise is the disk's dev attribute, read first to leave
	// out detached loop devices.
	diskDev     string
	haveDiskDev bool
	// pre, when not nil, holds mountinfo and swaps as a disk worker read
	// them (procRead).
	pre *procRead
	// devList lists the disk's device directory (the device behind it):
	// which of the identity attributes (model, vendor, rev, serial, wwid,
	// type), named for SCSI devices, the device has. A virtio or NVMe
	// device has few of them, and a failed open through the device link
	// costs the kernel most of a successful one. nil: not listed, or the
	// listing failed (then every attribute is tried).
	devList   map[string]bool
	devListed bool
	// devDepth is how many directories up from the disk's directory its
	// device link points (2 for .../virtio1/block/vda), and devSub that
	// device's subsystem, as hardware read them; 0 when unknown. hotplug
	// takes the device's subsystem from here, and skips the directories
	// below it: those are the kernel's class directories ("block"), not
	// devices, and have no subsystem link.
	devDepth int
	devSub   string
	// partNum is the partition attribute of the partition being read, or
	// partErr why it could not be read (the disk reader reads it to tell
	// partitions from other entries).
	partNum string
	partErr error
}

// procRead holds /proc/self/mountinfo and /proc/swaps, read by the disk
// worker that takes their item of the queue (diskQueue.claimAt). load
// claims them too, should no worker have: the item is always taken unless
// ctx was cancelled, and then Discover fails before mounts runs.
type procRead struct {
	claimed          atomic.Bool
	done             chan struct{}
	miPath, swPath   string
	mountinfo, swaps []byte
	mErr, sErr       error
}

// claim reads the tables unless someone else has claimed them. Only the
// worker holding the queue's item and procFile (after every worker is done)
// claim, so no worker ever waits for another here.
func (p *procRead) claim() {
	if p.claimed.CompareAndSwap(false, true) {
		p.mountinfo, p.mErr = sysfs.ReadFile(p.miPath)
		p.swaps, p.sErr = sysfs.ReadFile(p.swPath)
		close(p.done)
	}
}

// load returns when the tables are in.
func (p *procRead) load() {
	p.claim()
	<-p.done
}

// procFile returns mountinfo (swaps false) or swaps, read by a disk worker
// or now.
func (x *discovery) procFile(path string, swaps bool) ([]byte, error) {
	if x.pre == nil {
		return sysfs.ReadFile(path)
	}
	x.pre.load()
	if swaps {
		return x.pre.swaps, x.pre.sErr
	}
	return x.pre.mountinfo, x.pre.mErr
}

// devNumbers maps kernel names to numbers from /proc/diskstats, whose lines
// begin "major minor name" for every disk and every partition that is not
// empty; nil when it cannot be read. A name printed differently from its
// sysfs directory (a '/' that sysfs shows as '!') is simply not found, and
// that device's dev attribute is read instead.
func devNumbers(path string) map[string]MajMin {
	data, err := sysfs.ReadFile(path)
	if err != nil {
		return nil
	}
	nums := make(map[string]MajMin, bytes.Count(data, []byte{'\n'}))
	for line := range strings.Lines(string(data)) {
		// The first three fields, split at ASCII white space, without
		// splitting the rest of the line (a dozen counters).
		f0, rest := nextField(line)
		f1, rest := nextField(rest)
		f2, _ := nextField(rest)
		if f2 == "" {
			continue
		}
		maj, err1 := strconv.ParseUint(f0, 10, 32)
		mnr, err2 := strconv.ParseUint(f1, 10, 32)
		if err1 == nil && err2 == nil {
			nums[f2] = MajMin{Major: uint32(maj), Minor: uint32(mnr)}
		}
	}
	return nums
}

// nextField returns the first field of s (split at ASCII white space) and
// what follows it; "" when s has no field.
func nextField(s string) (field, rest string) {
	i := 0
	for i < len(s) && isSpaceByte(s[i]) {
		i++
	}
	j := i
	for j < len(s) && !isSpaceByte(s[j]) {
		j++
	}
	return s[i:j], s[j:]
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isFresh reports whether d was read in this pass.
func (x *discovery) isFresh(d *Device) bool { return x.fresh == nil || x.fresh[d.MajMin] }

// attr reads one attribute of the current device, recording a failure other
// than absence. ok is false when the attribute is absent or unreadable.
func (x *discovery) attr(d *Device, name string) (string, bool) {
	if x.cur == nil {
		return "", false
	}
	if x.present != nil && x.prefix == "" {
		top, rest, _ := strings.Cut(name, "/")
		if !x.present[top] || (top == "device" && rest != "" && !x.inDevice(rest)) {
			return "", false
		}
	}
	x.opens++
	v, err := x.readAttr(x.prefix + name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.addErr(name, err)
		}
		return "", false
	}
	return v, true
}

// inDevice reports whether the current disk's device directory may have the
// entry name: false only when a listing of it says it has not. Without the
// hardware group only the type is read: no listing then. A Scanner lists
// too: one listing per pass measured the same as its failed opens of the
// absent attributes (five on a virtio disk).
func (x *discovery) inDevice(name string) bool {
	if x.cfg.attrs&AttrHardware == 0 {
		return true
	}
	l := x.deviceList()
	return l == nil || l[name]
}

// deviceList lists the current disk's device directory, once per disk; nil
// when it cannot be listed.
func (x *discovery) deviceList() map[string]bool {
	if !x.devListed {
		x.devListed = true
		x.opens++
		if dir, err := x.cur.Sub("device"); err == nil {
			if names, err := dir.Names(); err == nil {
				x.devList = make(map[string]bool, len(names))
				for _, n := range names {
					x.devList[n] = true
				}
			}
			dir.Close()
		}
	}
	return x.devList
}

// readAttr reads rel relative to the current disk's directory, through the
// Scanner's kept files when there are some.
func (x *discovery) readAttr(rel string) (string, error) {
	if x.dc != nil {
		return x.dc.read(x.cur, rel)
	}
	return x.cur.ReadAttr(rel)
}

// rawAttr is attr keeping the value's white space (sysfs.Dir.ReadAttrRaw).
func (x *discovery) rawAttr(d *Device, name string) (string, bool) {
	if x.cur == nil {
		return "", false
	}
	if x.present != nil && x.prefix == "" {
		top, rest, _ := strings.Cut(name, "/")
		if !x.present[top] || (top == "device" && rest != "" && !x.inDevice(rest)) {
			return "", false
		}
	}
	x.opens++
	var v string
	var err error
	if x.dc != nil {
		v, err = x.dc.readRaw(x.cur, x.prefix+name)
	} else {
		v, err = x.cur.ReadAttrRaw(x.prefix + name)
	}
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.addErr(name, err)
		}
		return "", false
	}
	return v, true
}

func (x *discovery) uintAttr(d *Device, name string) *uint64 {
	s, ok := x.attr(d, name)
	if !ok {
		return nil
	}
	return x.parseUint(d, name, s)
}

func (x *discovery) parseUint(d *Device, name, s string) *uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		d.addErr(name, fmt.Errorf("%w: %q is not a number", ErrSyntax, s))
		return nil
	}
	return &v
}

func (x *discovery) intAttr(d *Device, name string) *int64 {
	s, ok := x.attr(d, name)
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

func (x *discovery) boolAttr(d *Device, name string) *bool {
	s, ok := x.attr(d, name)
	if !ok {
		return nil
	}
	return parseBool(d, name, s)
}

// parseBool parses a 0/1 attribute, recording anything else as ErrSyntax.
func parseBool(d *Device, name, s string) *bool {
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

func (x *discovery) strAttr(d *Device, name string) string {
	s, _ := x.attr(d, name)
	return s
}

// devices reads /sys/block and the partitions inside each entry.
//
// Nearly all of Discover's time is the kernel opening, filling and releasing
// sysfs files (about 8 µs of CPU per attribute, twenty-odd attributes per
// disk). Disks are read by as many workers as there are CPUs (at most
// maxDiskWorkers; the caller is one of them), each taking the next disk and
// reading it into a diskRead of its own; the graph is then built from them
// in name order by one goroutine, so numbering of unkeyed devices and the
// choice between duplicates do not depend on which worker finished first.
// Finer pieces (a disk's queue/ files on a goroutine of their own) were
// slower: the kernel's sysfs locks and the goroutine hand-offs ate the gain.
func (x *discovery) devices(ctx context.Context) error {
	workers := min(runtime.GOMAXPROCS(0), maxDiskWorkers)
	if x.cfg.diskWorkers > 0 {
		workers = x.cfg.diskWorkers
	}
	q := &diskQueue{x: x, ctx: ctx, claimAt: -1}
	var wg sync.WaitGroup
	// Deferred first, so run last: the helper may be reading through
	// block until wg.Wait returns, even when the caller's part panics.
	var block *sysfs.Dir
	defer func() {
		if block != nil {
			block.Close()
		}
	}()
	defer wg.Wait()
	if workers > 1 {
		// A second CPU takes a while to start working: 50 µs typically
		// and up to 470 µs after the machine was idle, measured on a
		// two-CPU virtual machine where all of Discover takes 500. So the
		// first helper is started before anything is read, and takes
		// disks as soon as it runs. The two /proc tables are a work item
		// of their own (mountinfo alone costs the kernel as much as half
		// a disk: it formats every mount of the namespace), taken after
		// as many disks as there are workers.
		x.pre = &procRead{done: make(chan struct{}), miPath: x.root.Proc("self", "mountinfo"), swPath: x.root.Proc("swaps")}
		q.listed = make(chan struct{})
		defer q.release() // an early return leaves the helper no disks
		wg.Go(func() {
			<-q.listed
			q.work()
		})
	}
	block, err := sysfs.OpenDir(x.root.Sys("block"))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDevices, err)
	}
	names, err := block.Names()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDevices, err)
	}
	slices.Sort(names)
	x.parts = map[MajMin][]MajMin{}
	x.holders = map[MajMin][]string{}
	if x.cache != nil {
		x.cache.begin(names)
	}
	if x.root.IsLive() && !x.cfg.detached || x.briefing() {
		// One read tells the loop devices among all entries (each
		// then costs an fstatat to tell whether it is bound) instead
		// of a dev attribute each. (A fake tree has no diskstats
		// unless a test writes one; then every number is read.)
		x.nums = devNumbers(x.root.Proc("diskstats"))
		x.opens++
	}
	if x.briefing() {
		x.sized = sizedNames(x.root.Proc("partitions"))
		x.opens++
	}
	q.block, q.names, q.reads = block, names, make([]*diskRead, len(names))
	if x.pre != nil {
		q.claimAt = min(workers, len(names))
	}
	q.release()
	// The caller is one of the workers, the early helper another.
	for range min(workers, len(names)) - 2 {
		wg.Go(q.work)
	}
	q.work()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if x.cache != nil {
		x.cache.sweep(names)
	}
	for _, r := range q.reads {
		x.merge(r)
	}
	return nil
}

// diskQueue hands the entries of /sys/block to the workers, from the end of
// the sorted names: the many cheap virtual devices (dm-*, loop*, md*) sort
// before physical disks (nvme*, sd*, vd*), so the long reads start first
// and the short ones fill in around them instead of one long read
// finishing alone. Item claimAt (after as many disks as there are workers)
// is the reading of the two /proc tables.
type diskQueue struct {
	x       *discovery
	ctx     context.Context
	block   *sysfs.Dir
	names   []string
	reads   []*diskRead
	next    atomic.Int64
	claimAt int
	listed  chan struct{} // closed when names are set (nil: no helper)
	once    sync.Once
}

func (q *diskQueue) release() {
	if q.listed != nil {
		q.once.Do(func() { close(q.listed) })
	}
}

// work reads disks until none is left.
func (q *diskQueue) work() {
	for {
		k := int(q.next.Add(1) - 1)
		if k == q.claimAt {
			q.x.pre.claim()
			continue
		}
		if q.claimAt >= 0 && k > q.claimAt {
			k--
		}
		i := len(q.names) - 1 - k
		if i < 0 || q.ctx.Err() != nil {
			return
		}
		q.reads[i] = q.x.readDisk(q.ctx, q.block, q.names[i])
	}
}

// maxDiskWorkers bounds the goroutines reading disks at once; beyond the
// CPUs there is nothing to gain, as sysfs reads never wait for a device.
const maxDiskWorkers = 4

// diskRead is what one worker read of one /sys/block entry: the disk, then
// its partitions, each with the names in its holders/ (and slaves/).
type diskRead struct {
	devs  []readDev
	opens int
}

type readDev struct {
	d       *Device
	holders []string
	slaves  []string
}

// disk reads one /sys/block entry and its partitions into the graph.
func (x *discovery) disk(ctx context.Context, block *sysfs.Dir, name string) {
	x.merge(x.readDisk(ctx, block, name))
}

// merge adds what readDisk read to the graph: numbers that collide with a
// device already there, or that could not be read, get a key of their own
// (major 0, which is never a block device) so that both devices are kept.
func (x *discovery) merge(r *diskRead) {
	if r == nil {
		return
	}
	x.opens += r.opens
	var disk *Device
	for i, rd := range r.devs {
		d := rd.d
		if other, dup := x.g.devs[d.MajMin]; dup && d.MajMin != (MajMin{}) {
			// Two devices cannot share a number in a real kernel; keep both.
			d.addErr("dev", fmt.Errorf("%w: %s is also the number of %s", ErrSyntax, d.MajMin, other.KName))
			d.MajMin = MajMin{}
		}
		if d.MajMin == (MajMin{}) {
			for {
				x.unkeyed++
				if _, taken := x.g.devs[MajMin{0, x.unkeyed}]; !taken {
					break
				}
			}
			d.MajMin = MajMin{0, x.unkeyed}
		}
		x.holders[d.MajMin] = rd.holders
		if x.slaves != nil {
			x.slaves[d.MajMin] = rd.slaves
		}
		if x.fresh != nil {
			x.fresh[d.MajMin] = true
		}
		x.g.add(d)
		if i == 0 {
			disk = d
		} else {
			x.parts[disk.MajMin] = append(x.parts[disk.MajMin], d.MajMin)
		}
	}
}

// readDisk reads one /sys/block entry and its partitions. It touches no
// shared state but the configuration, so workers can run it at once. A
// diskRead with no devices means the entry is not listed (a hidden disk, or
// an empty one when empty devices are left out).
func (x *discovery) readDisk(ctx context.Context, block *sysfs.Dir, name string) *diskRead {
	// A reader of its own: cur, prefix and present describe the device
	// being read.
	w := &discovery{cfg: x.cfg, root: x.root, listSlaves: x.slaves != nil, nums: x.nums, sized: x.sized}
	if x.cache != nil {
		w.dc = x.cache.disks[name]
	}
	r := w.readDiskInto(ctx, block, name)
	if r != nil {
		r.opens = w.opens
	}
	return r
}

func (x *discovery) readDiskInto(ctx context.Context, block *sysfs.Dir, name string) *diskRead {
	dir := filepath.Join(block.Path(), name)
	if !x.cfg.empty {
		// Most empty devices are disks (unbound loop devices, an unused
		// zram): one read tells, before the directory is opened and listed.
		x.opens++
		v, err := block.ReadAttr(name + "/size")
		if err == nil && v == "0" {
			x.cfg.log.Debug("skipping empty device", "name", name)
			return &diskRead{}
		}
		// Not read twice: device takes it from here (a failed read is
		// done again there, where its error is recorded).
		x.diskSize, x.haveDiskSize = v, err == nil
	}
	if !x.cfg.detached {
		// A detached loop device: the loop major (LOOP_MAJOR, reserved by
		// the kernel) and no loop/ directory, which the driver creates
		// when a file is bound and removes when it is released. Anything
		// that cannot be examined is listed.
		m, known := x.nums[name]
		if !known {
			x.opens++
			v, err := block.ReadAttr(name + "/dev")
			// Not read twice: device takes it from here and reports a
			// bad number there (a failed read is done again there).
			x.diskDev, x.haveDiskDev = v, err == nil
			if err == nil {
				m, err = ParseMajMin(v)
				known = err == nil
			}
		}
		if known && m.Major == 7 {
			x.opens++
			var st unix.Stat_t
			if err := block.Fstatat(name+"/loop", &st); errors.Is(err, fs.ErrNotExist) {
				x.cfg.log.Debug("skipping detached loop device", "name", name)
				return &diskRead{}
			}
		}
	}
	sysPath := x.resolve(block, name, "/sys/block")
	if x.briefing() {
		if d := x.briefLoop(block, name, sysPath); d != nil {
			return &diskRead{devs: []readDev{{d: d}}}
		}
	}
	x.opens++
	cur, openErr := block.Sub(name)
	x.cur, x.prefix, x.present = cur, "", nil
	defer func() {
		if x.cur != nil {
			x.cur.Close()
		}
		x.cur, x.present = nil, nil
	}()
	// One listing of the disk's directory finds its partitions and tells
	// which optional attributes (dm/, md/, loop/, device, diskseq) exist.
	var list []string
	var listErr error
	if cur != nil {
		if x.cfg.listFn != nil {
			list, listErr = x.cfg.listFn(cur)
		} else {
			list, listErr = cur.Names()
		}
		if listErr == nil {
			x.present = make(map[string]bool, len(list))
			for _, l := range list {
				x.present[l] = true
			}
		} else {
			// A partial listing could name some partitions and not others:
			// none is trusted, and the error says the set is unknown.
			list = nil
		}
	}
	if x.present["hidden"] {
		x.opens++
		if v, err := x.readAttr("hidden"); err == nil && v == "1" {
			// Hidden disks (the per-path devices of NVMe multipath) have
			// no node in /dev; lsblk does not list them either.
			x.cfg.log.Debug("skipping hidden device", "name", name, "dir", dir)
			return &diskRead{}
		}
	}
	r := &diskRead{}
	disk, ok := x.device(name, sysPath, nil, r)
	if !ok {
		x.cfg.log.Debug("skipping empty device", "name", name)
		return r
	}
	// Unopened or unlisted, the directory told nothing about partitions:
	// the disk is listed with an error, never as a disk without any.
	if openErr != nil {
		disk.addErr(".", fmt.Errorf("%w: %w", ErrPartitions, openErr))
	} else if listErr != nil {
		disk.addErr(".", fmt.Errorf("%w: %w", ErrPartitions, listErr))
	}
	x.present = nil
	slices.Sort(list)
	for _, p := range list {
		if ctx.Err() != nil {
			return r
		}
		// A partition's directory is named after its disk (sda1, nvme0n1p1);
		// the "partition" attribute, not the name, decides. Only its
		// absence says "not a partition": an entry that cannot be examined
		// is listed with the error, never dropped. The value read here is
		// the partition number, so this costs no extra open.
		if !strings.HasPrefix(p, name) || p == name {
			continue
		}
		x.opens++
		v, err := x.readAttr(p + "/partition")
		if err != nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
			continue
		}
		x.partNum, x.partErr = v, err
		x.prefix = p + "/"
		x.device(p, filepath.Join(disk.SysPath, p), disk, r)
		x.prefix = ""
	}
	return r
}

// resolve turns the /sys/block/<name> symlink into the device's path under
// /sys/devices without walking every component (one readlink).
func (x *discovery) resolve(block *sysfs.Dir, name, under string) string {
	l, err := block.Readlink(name)
	if err != nil {
		return filepath.Join(under, name)
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

// device reads one device's attributes and appends it to r. parent is the
// disk of a partition. ok is false when the device is left out: it is known
// to be empty and WithEmpty(false) was given.
func (x *discovery) device(name, sysPath string, parent *Device, r *diskRead) (d *Device, ok bool) {
	d = &Device{Name: name, KName: name, SysPath: sysPath}
	d.Path = filepath.Join("/dev", name)
	s, ok := x.diskDev, parent == nil && x.haveDiskDev
	if !ok {
		s, ok = x.attr(d, "dev")
	}
	if ok {
		m, err := ParseMajMin(s)
		if err != nil {
			d.addErr("dev", err)
		} else {
			d.MajMin = m
		}
	}
	var size *uint64
	if parent == nil && x.haveDiskSize {
		size = x.parseUint(d, "size", x.diskSize)
	} else {
		size = x.uintAttr(d, "size")
	}
	if s := size; s != nil {
		if *s > math.MaxUint64/512 {
			d.addErr("size", fmt.Errorf("%w: %d sectors overflow a byte count", ErrSyntax, *s))
		} else {
			b := *s * 512
			d.Size = &b
		}
	}
	// Only a size read as zero is empty: an unreadable size is not.
	if !x.cfg.empty && d.Size != nil && *d.Size == 0 {
		return d, false
	}
	rd := readDev{d: d}
	d.ReadOnly = x.boolAttr(d, "ro")
	if x.cfg.attrs&AttrAlignment != 0 {
		d.Alignment = x.intAttr(d, "alignment_offset")
		d.DiscardAlignment = x.intAttr(d, "discard_alignment")
	}
	rd.holders = x.listHolders(d, "holders")
	if x.listSlaves {
		rd.slaves = x.listHolders(d, "slaves")
	}
	r.devs = append(r.devs, rd)

	if parent != nil {
		d.Type = TypePart
		if x.partErr != nil {
			d.addErr("partition", x.partErr)
		} else {
			d.PartNumber = x.parseUint(d, "partition", x.partNum)
		}
		d.Start = x.uintAttr(d, "start")
		x.inherit(d, parent)
		if x.cfg.attrs&AttrSubsystems != 0 {
			d.Subsystems = x.partSubsystems(parent)
		}
		if x.cfg.attrs&AttrNode != 0 {
			d.Node = x.node(d)
		}
		return d, true
	}
	d.DiskSeq = x.uintAttr(d, "diskseq")
	d.Removable = x.boolAttr(d, "removable")
	if x.cfg.attrs&AttrQueue != 0 {
		x.queue(d)
	} else if x.cfg.attrs&AttrRotational != 0 {
		d.Rotational = x.boolAttr(d, "queue/rotational")
	}
	if x.cfg.attrs&AttrQueueExtra != 0 {
		d.AddRandom = x.boolAttr(d, "queue/add_random")
		d.WriteSameMax = x.uintAttr(d, "queue/write_same_max_bytes")
	}
	if x.cfg.attrs&AttrZones != 0 {
		x.zones(d)
	}
	x.kind(d)
	if x.cfg.attrs&AttrHardware != 0 {
		x.hardware(d)
	}
	if x.cfg.attrs&AttrState != 0 && d.DMUUID == "" && d.Type != TypeDM {
		// lsblk's STATE: a device-mapper device's is dm/suspended (kind).
		d.State = x.strAttr(d, "device/state")
	}
	if x.cfg.attrs&AttrSubsystems != 0 {
		d.Subsystems = x.subsystems(d)
	}
	if x.cfg.attrs&AttrHardware != 0 {
		d.Hotplug = x.hotplug(d)
	}
	if x.cfg.attrs&AttrNode != 0 {
		d.Node = x.node(d)
	}
	return d, true
}

// zones reads the request queue's zone limits.
func (x *discovery) zones(d *Device) {
	if s := x.uintAttr(d, "queue/chunk_sectors"); s != nil {
		if *s > math.MaxUint64/512 {
			d.addErr("queue/chunk_sectors", fmt.Errorf("%w: %d sectors overflow a byte count", ErrSyntax, *s))
		} else {
			b := *s * 512
			d.ZoneSize = &b
		}
	}
	d.ZoneWriteGranularity = x.uintAttr(d, "queue/zone_write_granularity")
	d.ZoneAppendMax = x.uintAttr(d, "queue/zone_append_max_bytes")
	d.Zones = x.uintAttr(d, "queue/nr_zones")
	d.MaxOpenZones = x.uintAttr(d, "queue/max_open_zones")
	d.MaxActiveZones = x.uintAttr(d, "queue/max_active_zones")
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
	d.AddRandom = p.AddRandom
	d.WriteSameMax = p.WriteSameMax
	d.ZoneSize = p.ZoneSize
	d.ZoneWriteGranularity = p.ZoneWriteGranularity
	d.ZoneAppendMax = p.ZoneAppendMax
	d.Zones = p.Zones
	d.MaxOpenZones = p.MaxOpenZones
	d.MaxActiveZones = p.MaxActiveZones
}

// listHolders lists the holders/ (or slaves/) directory of the current device.
func (x *discovery) listHolders(d *Device, sub string) []string {
	if x.cur == nil || (x.prefix == "" && x.present != nil && !x.present[sub]) {
		return nil
	}
	x.opens++
	h, err := x.cur.Sub(x.prefix + sub)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.addErr(sub, err)
		}
		return nil
	}
	defer h.Close()
	names, err := h.Names()
	if err != nil {
		d.addErr(sub, err)
	}
	return names
}

func (x *discovery) queue(d *Device) {
	d.Rotational = x.boolAttr(d, "queue/rotational")
	d.LogicalSectorSize = x.uintAttr(d, "queue/logical_block_size")
	d.PhysicalSectorSize = x.uintAttr(d, "queue/physical_block_size")
	d.MinIO = x.uintAttr(d, "queue/minimum_io_size")
	d.OptIO = x.uintAttr(d, "queue/optimal_io_size")
	d.DiscardGranularity = x.uintAttr(d, "queue/discard_granularity")
	d.DiscardMax = x.uintAttr(d, "queue/discard_max_bytes")
	d.DiscardZeroes = x.boolAttr(d, "queue/discard_zeroes_data")
	if s, ok := x.attr(d, "queue/scheduler"); ok {
		d.Scheduler = activeScheduler(s)
	}
	d.NrRequests = x.uintAttr(d, "queue/nr_requests")
	d.ReadAheadKiB = x.uintAttr(d, "queue/read_ahead_kb")
	d.Zoned = x.strAttr(d, "queue/zoned")
	d.DAX = x.boolAttr(d, "queue/dax")
}

// activeScheduler picks the bracketed entry of queue/scheduler
// ("none [mq-deadline] kyber"). A queue that cannot have a scheduler (a
// bio-based dm device) shows a bare "none": there is no active scheduler
// then, as lsblk also reports.
func activeScheduler(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return ""
}

// kind sets the type and the dm/md/loop attributes from the subdirectories
// the kernel creates for them (dm/, md/, loop/), never from the name.
func (x *discovery) kind(d *Device) {
	if uuid, ok := x.attr(d, "dm/uuid"); ok {
		d.DMUUID = uuid
		d.DMName = x.strAttr(d, "dm/name")
		if d.DMName != "" {
			d.Name = d.DMName
			d.Path = filepath.Join("/dev/mapper", d.DMName)
		}
		d.Type = dmType(uuid)
		x.dmState(d)
		return
	}
	if x.isDM() {
		d.DMName = x.strAttr(d, "dm/name")
		if d.DMName != "" {
			d.Name = d.DMName
			d.Path = filepath.Join("/dev/mapper", d.DMName)
		}
		d.Type = TypeDM
		x.dmState(d)
		return
	}
	if lvl, ok := x.attr(d, "md/level"); ok {
		d.MDLevel = lvl
		d.Type = Type(lvl)
		if lvl == "" {
			d.Type = TypeMD
		}
		return
	}
	if bf, ok := x.attr(d, "loop/backing_file"); ok {
		d.LoopBackingFile = bf
		d.Type = TypeLoop
		if x.cfg.attrs&AttrHardware != 0 {
			d.Transport = "loop"
		}
		return
	}
	// A detached loop device has no loop/ directory; its major number, which
	// the kernel reserves for loop (LOOP_MAJOR), still says what it is.
	if d.MajMin.Major == 7 {
		d.Type = TypeLoop
		if x.cfg.attrs&AttrHardware != 0 {
			d.Transport = "loop"
		}
		return
	}
	d.Type = TypeDisk
	if t, ok := x.attr(d, "device/type"); ok {
		d.Type = scsiType(t)
	}
}

// isDM reports whether the current disk has the dm/ directory the kernel
// gives device-mapper devices (kind has found no readable dm/uuid).
func (x *discovery) isDM() bool {
	return x.present["dm"] || (x.present == nil && x.cur != nil && x.cur.Exists(x.prefix+"dm"))
}

// dmState reads dm/suspended with the state group.
func (x *discovery) dmState(d *Device) {
	if x.cfg.attrs&AttrState != 0 {
		d.DMSuspended = x.boolAttr(d, "dm/suspended")
	}
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
