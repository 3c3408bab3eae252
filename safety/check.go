package safety

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"golang.org/x/sys/unix"
)

// CheckFunc is a caller's own preflight rule (drive health, I/O load...):
// it returns the reasons it refuses, none when it has no objection.
type CheckFunc func(ctx context.Context, f *Facts, op Op) []Reason

// CheckOption configures Check, Gather and Evaluate; validated once.
type CheckOption func(*checkConfig) error

type checkConfig struct {
	root      sysfs.Root
	log       *slog.Logger
	protected []string
	minSize   int64
	tools     []string
	overrides map[Code]Override
	journal   *Journal
	checks    []CheckFunc
	open      DeviceOpener
	timeout   time.Duration
	graph     *blockdev.Graph
	snapshot  *Snapshot
}

// DefaultProbeTimeout bounds the reads of one preflight: a device that does
// not answer by then is unreadable.
const DefaultProbeTimeout = 10 * time.Second

// systemMounts are the mountpoints whose devices are always protected.
var systemMounts = []string{"/", "/boot", "/boot/efi"}

func newCheckConfig(op Op, opts []CheckOption) (*checkConfig, error) {
	if !op.Valid() {
		return nil, fmt.Errorf("%w: unknown operation %q", ErrInvalid, op)
	}
	c := &checkConfig{overrides: map[Code]Override{}, open: openDevice, timeout: DefaultProbeTimeout}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// WithRoot reads /sys, /proc and /dev under dir (a fake tree or a
// --sysroot); "" or "/" is the live system.
func WithRoot(dir string) CheckOption {
	return func(c *checkConfig) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		c.root = r
		return nil
	}
}

// WithCheckLogger sets the logger of a preflight; nil discards.
func WithCheckLogger(l *slog.Logger) CheckOption {
	return func(c *checkConfig) error { c.log = l; return nil }
}

// WithProtected adds devices (by node path) that must never be touched,
// with everything on them, beyond the devices under /, /boot and /boot/efi.
func WithProtected(paths ...string) CheckOption {
	return func(c *checkConfig) error {
		for _, p := range paths {
			if p == "" {
				return fmt.Errorf("%w: empty protected path", ErrInvalid)
			}
		}
		c.protected = append(c.protected, paths...)
		return nil
	}
}

// WithMinSize refuses targets smaller than n bytes (too_small). The default
// is 1 MiB for format and partition, 1 byte otherwise.
func WithMinSize(n int64) CheckOption {
	return func(c *checkConfig) error {
		if n <= 0 {
			return fmt.Errorf("%w: minimum size %d", ErrInvalid, n)
		}
		c.minSize = n
		return nil
	}
}

// WithTools refuses when a program the operation will run is not installed
// (tool_missing). Names are looked up on PATH and in the sbin directories.
func WithTools(names ...string) CheckOption {
	return func(c *checkConfig) error {
		for _, n := range names {
			if n == "" || strings.ContainsRune(n, '/') {
				return fmt.Errorf("%w: tool name %q", ErrInvalid, n)
			}
		}
		c.tools = append(c.tools, names...)
		return nil
	}
}

// WithOverride lets one refusal code through, with the operator's reason.
// There is no blanket override; codes that cannot be overridden
// (Code.Overridable) are rejected. Overrides that were used are journaled
// when WithJournal is given.
func WithOverride(code Code, reason, by string) CheckOption {
	return func(c *checkConfig) error {
		o := Override{Code: code, Reason: reason, By: by}
		if err := o.validate(); err != nil {
			return err
		}
		c.overrides[code] = o
		return nil
	}
}

// WithJournal makes preflight refuse a locked-down target and journal the
// overrides it applied.
func WithJournal(j *Journal) CheckOption {
	return func(c *checkConfig) error {
		if j == nil {
			return fmt.Errorf("%w: nil journal", ErrInvalid)
		}
		c.journal = j
		return nil
	}
}

// WithCheck adds a caller's rule.
func WithCheck(f CheckFunc) CheckOption {
	return func(c *checkConfig) error {
		if f == nil {
			return fmt.Errorf("%w: nil check", ErrInvalid)
		}
		c.checks = append(c.checks, f)
		return nil
	}
}

// WithGraph uses an already discovered device graph instead of running
// blockdev.Discover: a caller checking many devices discovers once. The
// graph must be fresh; mounts and holders are taken from it as they are.
func WithGraph(g *blockdev.Graph) CheckOption {
	return func(c *checkConfig) error {
		if g == nil {
			return fmt.Errorf("%w: nil graph", ErrInvalid)
		}
		c.graph = g
		return nil
	}
}

// WithSnapshot makes preflight refuse a target that a journal snapshot
// (ReadJournal) shows locked down or awaiting recovery, without opening the
// journal (which another process may hold). Overrides are not journaled
// this way.
func WithSnapshot(s *Snapshot) CheckOption {
	return func(c *checkConfig) error {
		if s == nil {
			return fmt.Errorf("%w: nil snapshot", ErrInvalid)
		}
		c.snapshot = s
		return nil
	}
}

func pendingOn(es []Entry, t Identity) []string {
	var out []string
	for _, e := range es {
		if e.Intent.Target.sameTarget(t) {
			out = append(out, fmt.Sprintf("mutation %s (%s) interrupted after step %q", e.ID, e.Intent.Op, e.LastStep()))
		}
	}
	return out
}

// WithReader replaces how the target is opened for the signature probe
// (tests inject read errors with it).
func WithReader(o DeviceOpener) CheckOption {
	return func(c *checkConfig) error {
		if o == nil {
			return fmt.Errorf("%w: nil opener", ErrInvalid)
		}
		c.open = o
		return nil
	}
}

// WithProbeTimeout bounds the signature reads (default DefaultProbeTimeout).
func WithProbeTimeout(d time.Duration) CheckOption {
	return func(c *checkConfig) error {
		if d <= 0 {
			return fmt.Errorf("%w: probe timeout %v", ErrInvalid, d)
		}
		c.timeout = d
		return nil
	}
}

// Check is the preflight of op on target: it gathers the facts, evaluates
// them, and journals the overrides it applied. The error is for invalid
// options, a cancelled ctx or a failed override journal write; a refusal is
// a Report with Allowed false (Report.Err turns it into an error).
func Check(ctx context.Context, target string, op Op, opts ...CheckOption) (*Report, error) {
	c, err := newCheckConfig(op, opts)
	if err != nil {
		return nil, err
	}
	f, err := gather(ctx, target, c)
	if err != nil {
		return nil, err
	}
	r := evaluateCtx(ctx, f, op, c)
	if c.journal != nil {
		var used []Override
		for _, x := range r.Reasons {
			if x.Overridden {
				used = append(used, c.overrides[x.Code])
			}
		}
		if len(used) > 0 {
			if err := c.journal.RecordOverride(ctx, f.Identity, used); err != nil {
				return r, fmt.Errorf("safety: journal overrides: %w", err)
			}
		}
	}
	return r, nil
}

// Gather collects the facts about target without deciding anything.
func Gather(ctx context.Context, target string, opts ...CheckOption) (*Facts, error) {
	c, err := newCheckConfig(OpWipe, opts)
	if err != nil {
		return nil, err
	}
	return gather(ctx, target, c)
}

func gather(ctx context.Context, target string, c *checkConfig) (*Facts, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := &Facts{Path: target, Identity: Identity{Path: target}}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return f, nil
		}
		f.Exists = true
		f.Unreadable = "stat: " + err.Error()
		return f, nil
	}
	f.Exists = true
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return f, nil
	}
	f.IsBlock = true
	mm := blockdev.MajMin{Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)}
	f.MajMin = mm.String()
	// A partial identity (maj:min at least) still finds lock-downs and
	// interrupted mutations of the target.
	ictx, cancel := context.WithTimeout(ctx, c.timeout)
	id, err := identityAt(ictx, c.root, target, c.open)
	cancel()
	if err == nil {
		f.Identity = id
	} else {
		c.log.Warn("safety: target identity incomplete", "target", target, "err", err)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			f.addUnreadable(fmt.Sprintf("the device did not answer within %v", c.timeout))
		}
		if id.Path != "" {
			f.Identity = id
		}
	}
	g := c.graph
	if g == nil {
		var err error
		g, err = blockdev.Discover(ctx, blockdev.WithSysfsRoot(c.root), blockdev.WithProbe(false), blockdev.WithLogger(c.log))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.log.Warn("safety: discovery failed; preflight goes on with what the node tells", "err", err)
		}
	}
	var dev *blockdev.Device
	if g != nil {
		dev, _ = g.Device(mm)
	}
	journalFacts(f, g, dev, c)
	switch {
	case dev != nil:
		graphFacts(f, g, dev, c)
	case g == nil:
		// Without a graph nothing says what is mounted on, built on or
		// protected above the target: those facts are unknown, not absent.
		f.addUnreadable("device discovery failed, so mounts, holders and partitions are unknown")
	default:
		f.addUnreadable(fmt.Sprintf("%s (%s) is not in sysfs, so its mounts, holders and partitions are unknown", target, mm))
	}
	// The device itself has the last word on its size: a graph taken
	// before the device grew would point the scan of its last sectors
	// into the middle of it, where a RAID member's metadata is not.
	if sz, err := deviceSize(target); err == nil {
		if dev != nil && sz != f.Size {
			f.addUnreadable(fmt.Sprintf("the device has %d bytes but the device graph says %d: what else it says may be out of date too", sz, f.Size))
		}
		f.Size = sz
	}
	// Discovery treats an unreadable mountinfo or swaps file as "nothing
	// mounted": for a preflight that is a fact it could not gather.
	procFacts(f, c.root)
	gatherBusy(f, target)
	if err := gatherSignatures(ctx, f, target, g, dev, c); err != nil {
		return nil, err
	}
	for _, t := range c.tools {
		if _, err := lookTool(t); err != nil {
			f.MissingTools = append(f.MissingTools, t)
		}
	}
	return f, nil
}

// journalFacts finds lock-downs and interrupted mutations of the target and
// of everything in its stack (what it is built on, what is built on it): a
// disk whose table restore failed leaves its partitions in doubt, and a
// partition in doubt must not have its table rewritten.
func journalFacts(f *Facts, g *blockdev.Graph, dev *blockdev.Device, c *checkConfig) {
	var locks []Lockdown
	var pending []Entry
	switch {
	case c.journal != nil:
		locks, pending = c.journal.Lockdowns(), c.journal.Interrupted()
	case c.snapshot != nil:
		locks, pending = c.snapshot.Lockdowns, c.snapshot.Interrupted()
	default:
		return
	}
	ids := []Identity{f.Identity}
	if dev != nil && g != nil {
		for _, d := range append(g.Ancestors(dev), g.Descendants(dev)...) {
			ids = append(ids, Identity{Path: d.Path, Major: d.MajMin.Major, Minor: d.MajMin.Minor, Serial: d.Serial, WWN: d.WWN})
		}
	}
	for i, id := range ids {
		for _, l := range locks {
			if f.Lockdown == nil && l.Target.sameTarget(id) {
				l := l
				if i > 0 {
					l.Reason = fmt.Sprintf("%s (locked down: %s, in the stack of %s)", l.Reason, id.Path, f.Path)
				}
				f.Lockdown = &l
			}
		}
		for _, p := range pendingOn(pending, id) {
			if i > 0 {
				p += " on " + id.Path
			}
			f.Pending = append(f.Pending, p)
		}
	}
}

// graphFacts takes what discovery knows: size, ro, mounts, swap, holders,
// partitions, and whether the target is or carries a protected device.
func graphFacts(f *Facts, g *blockdev.Graph, dev *blockdev.Device, c *checkConfig) {
	if dev.Size != nil {
		f.Size = int64(*dev.Size)
	}
	if dev.ReadOnly != nil {
		f.ReadOnly = *dev.ReadOnly
	}
	for _, d := range append([]*blockdev.Device{dev}, g.Descendants(dev)...) {
		for _, err := range d.Errs {
			var ae *blockdev.AttrError
			if errors.As(err, &ae) && decisiveAttr[ae.Attr] {
				f.addUnreadable(ae.Error())
			}
		}
		for _, m := range d.Mounts {
			f.Mounts = append(f.Mounts, MountFact{Device: d.Path, MountPoint: m.MountPoint, FSType: m.FSType})
		}
		if d.Swap {
			f.Swap = append(f.Swap, d.Path)
		}
		if d == dev {
			continue
		}
		if d.Type == blockdev.TypePart {
			f.Partitions = append(f.Partitions, d.Path)
			continue
		}
		f.Holders = append(f.Holders, fmt.Sprintf("%s (%s, %s)", d.KName, d.Name, d.Type))
		if d.MDLevel != "" || d.Type == blockdev.TypeMD || strings.HasPrefix(string(d.Type), "raid") || d.Type == "linear" {
			f.MDMember = append(f.MDMember, "held by md device "+d.KName)
		}
	}
	// System devices: the device mounted at /, /boot, /boot/efi and
	// everything it is built on.
	for _, d := range g.All() {
		for _, m := range d.Mounts {
			if !slices.Contains(systemMounts, m.MountPoint) {
				continue
			}
			if d == dev || slices.Contains(g.Ancestors(d), dev) {
				f.Protected = append(f.Protected, fmt.Sprintf("%s is mounted from %s", m.MountPoint, d.Path))
			}
		}
	}
	// The caller's devices: they, what they are built on and what is on them.
	for _, p := range c.protected {
		pd, ok := protectedDevice(g, p)
		if !ok {
			continue
		}
		if pd == dev || slices.Contains(g.Ancestors(pd), dev) || slices.Contains(g.Descendants(pd), dev) {
			f.Protected = append(f.Protected, "protected by the caller: "+p)
		}
	}
}

// decisiveAttr are the sysfs entries preflight decides from: when one
// exists but cannot be read, the device's size, read-only flag, holders or
// partitions are unknown, never "none".
var decisiveAttr = map[string]bool{".": true, "dev": true, "size": true, "ro": true, "holders": true, "slaves": true, "partition": true}

// protectedDevice finds a caller-protected device by its node's number,
// or by name when the path is no device node (a fake tree, a node that
// vanished).
func protectedDevice(g *blockdev.Graph, p string) (*blockdev.Device, bool) {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		return g.Device(blockdev.MajMin{Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)})
	}
	return g.ByPath(p)
}

// gatherBusy tries the exclusive open the kernel uses to keep two claimers
// apart: EBUSY means a mount, swap, holder or another O_EXCL opener.
func gatherBusy(f *Facts, target string) {
	fd, err := unix.Open(target, unix.O_RDONLY|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		return
	}
	if errors.Is(err, unix.EBUSY) {
		f.Busy = true
		f.BusyDetail = "open(O_EXCL): " + err.Error()
		return
	}
	// Any other failure (ENXIO, ENOMEDIUM, EACCES, EIO...) leaves it unproven
	// that nothing claims the device.
	f.addUnreadable("open(O_EXCL): " + err.Error())
}

// procFacts checks that the files discovery took mounts and swap from could
// be read: a missing /proc/swaps is a kernel without swap, anything else
// unreadable leaves "not mounted" and "not swap" unproven.
func procFacts(f *Facts, root sysfs.Root) {
	if err := readable(root.Proc("self", "mountinfo")); err != nil {
		f.addUnreadable("mount table: " + err.Error())
	}
	if err := readable(root.Proc("swaps")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		f.addUnreadable("swap table: " + err.Error())
	}
}

func readable(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	var b [512]byte
	if _, err := fh.Read(b[:]); err != nil && !errors.Is(err, io.EOF) {
		return &os.PathError{Op: "read", Path: path, Err: err}
	}
	return nil
}

// gatherSignatures reads the target (and its partitions) directly: the
// probe for primary signatures and tables, then the backup-location scan.
// A device that fails or does not answer is unreadable.
func gatherSignatures(ctx context.Context, f *Facts, target string, g *blockdev.Graph, dev *blockdev.Device, c *checkConfig) error {
	type result struct {
		res   *probe.Result
		sigs  []Signature
		parts map[string]*probe.Result
		psigs map[string][]Signature
		data  []DataRange
		disk  []string // RAID membership of the disk holding a partition target
		err   error
	}
	pctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var parts []string
	if dev != nil && g != nil {
		for _, ch := range g.Children(dev) {
			if ch.Type == blockdev.TypePart {
				parts = append(parts, c.root.Dev(ch.KName))
			}
		}
	}
	// A partition of a disk that is an md or firmware RAID member is part
	// of that array's data: writing it behind md's back corrupts the array
	// (on RAID5, the reconstruction of the other disks).
	var disk string
	if dev != nil && g != nil && dev.Type == blockdev.TypePart {
		if d := g.Disk(dev); d != nil && d != dev {
			disk = c.root.Dev(d.KName)
		}
	}
	done := make(chan result, 1)
	// A read from a hung device cannot be interrupted: it runs in its own
	// goroutine, and on timeout that goroutine is left to finish on its own.
	go func() {
		var r result
		if disk != "" {
			dr, dsigs, err := readSignatures(pctx, disk, -1, c.open)
			if err != nil {
				r.err = err
				done <- r
				return
			}
			r.disk = raidEvidence(dr, dsigs)
		}
		r.res, r.sigs, r.err = readSignatures(pctx, target, f.Size, c.open)
		for _, p := range parts {
			if r.err != nil {
				break
			}
			pr, psigs, err := readSignatures(pctx, p, -1, c.open)
			if err != nil {
				// An unreadable partition may be an LVM PV or md member:
				// the whole report is then unproven.
				r.err = err
				break
			}
			if pr != nil {
				if r.parts == nil {
					r.parts = map[string]*probe.Result{}
				}
				r.parts[p] = pr
			}
			if len(psigs) > 0 {
				if r.psigs == nil {
					r.psigs = map[string][]Signature{}
				}
				r.psigs[p] = psigs
			}
		}
		// Nothing recognised is not blank: read where formats keep metadata.
		if r.err == nil && len(parts) == 0 && len(r.sigs) == 0 && (r.res == nil || r.res.Empty()) {
			r.data, r.err = readData(pctx, target, f.Size, c.open)
		}
		done <- r
	}()
	var r result
	select {
	case r = <-done:
	case <-pctx.Done():
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.addUnreadable(fmt.Sprintf("the device did not answer within %v", c.timeout))
		return nil
	}
	if r.err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.addUnreadable(r.err.Error())
		return nil
	}
	if res := r.res; res != nil {
		if res.Type != "" {
			where := "primary superblock"
			if res.Version != "" {
				where += " version " + res.Version
			}
			f.Signatures = append(f.Signatures, Signature{Type: res.Type, Offset: -1, Where: where})
			if res.Type == "LVM2_member" || res.Type == "LVM1_member" {
				f.LVMMember = append(f.LVMMember, strings.TrimSuffix(res.Type, "_member")+" PV label on "+target+" (uuid "+res.UUID+")")
			}
			if isRAIDMember(res.Type) {
				f.MDMember = append(f.MDMember, raidWhat(res.Type)+" on "+target)
			}
		}
		f.PartTable = res.PTType
		f.Ambiguous = res.Ambiguous
	}
	for _, e := range r.disk {
		f.MDMember = append(f.MDMember, e+" on "+disk+", the disk holding "+target)
	}
	f.UnrecognizedData = r.data
	for _, s := range r.sigs {
		f.Signatures = append(f.Signatures, s)
		if s.Type == "linux_raid_member" {
			f.MDMember = append(f.MDMember, s.String()+" on "+target)
		}
	}
	// What the partitions hold decides membership of the disk: an LVM PV
	// or md member on a partition is on the disk. (Their other signatures
	// need no repeating: a kernel partition is already "not empty".)
	for _, p := range parts {
		if pr := r.parts[p]; pr != nil {
			switch pr.Type {
			case "LVM2_member", "LVM1_member":
				f.LVMMember = append(f.LVMMember, strings.TrimSuffix(pr.Type, "_member")+" PV label on partition "+p+" (uuid "+pr.UUID+")")
			default:
				if isRAIDMember(pr.Type) {
					f.MDMember = append(f.MDMember, raidWhat(pr.Type)+" on partition "+p)
				}
			}
		}
		for _, s := range r.psigs[p] {
			if s.Type == "linux_raid_member" {
				f.MDMember = append(f.MDMember, s.String()+" on partition "+p)
			}
		}
	}
	return nil
}

// isRAIDMember reports whether a probed type is metadata mdadm (or dmraid)
// assembles into an array: md's own superblock and the firmware RAID
// formats (Intel IMSM, DDF, and the other *_raid_member types of blkid).
// Wiping or resizing one breaks an array, like an md member.
func isRAIDMember(typ string) bool {
	return typ == "linux_raid_member" || strings.HasSuffix(typ, "_raid_member")
}

// raidEvidence says what makes a probed device an array member: its own
// superblock's type, or an md superblock the backup scan found.
func raidEvidence(res *probe.Result, sigs []Signature) []string {
	var ev []string
	if res != nil && isRAIDMember(res.Type) {
		ev = append(ev, raidWhat(res.Type))
	}
	for _, s := range sigs {
		if s.Type == "linux_raid_member" {
			ev = append(ev, s.String())
		}
	}
	return ev
}

func raidWhat(typ string) string {
	if typ == "linux_raid_member" {
		return "md superblock"
	}
	return typ + " metadata"
}

// readSignatures probes one device or partition. size < 0 means ask the device.
func readSignatures(ctx context.Context, path string, size int64, open DeviceOpener) (*probe.Result, []Signature, error) {
	d, err := open(path, os.O_RDONLY)
	if err != nil {
		return nil, nil, err // an *os.PathError names the path
	}
	defer d.Close()
	if size < 0 {
		if size, err = deviceSize(path); err != nil {
			return nil, nil, err
		}
	}
	var popts []probe.Option
	if ss, err := sectorSize(path); err == nil && (ss == 512 || ss == 4096) {
		popts = append(popts, probe.WithSectorSize(ss))
	}
	res, err := probe.ReaderAt(ctx, d, size, popts...)
	if err != nil {
		return nil, nil, fmt.Errorf("probe %s: %w", path, err)
	}
	sigs, err := scanBackups(ctx, d, size)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return res, sigs, nil
}

// readData scans the metadata regions of a device on which nothing was
// recognised (scanData).
func readData(ctx context.Context, path string, size int64, open DeviceOpener) ([]DataRange, error) {
	d, err := open(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	data, err := scanData(ctx, d, size)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

func deviceSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, os.NewSyscallError("fstat", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return st.Size, nil
	}
	n, err := unix.IoctlGetUint64(int(f.Fd()), unix.BLKGETSIZE64)
	if err != nil {
		return 0, os.NewSyscallError("ioctl BLKGETSIZE64", err)
	}
	return int64(n), nil
}

func sectorSize(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET)
	if err != nil {
		return 0, err
	}
	return n, nil
}

func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

var _ io.ReaderAt = Device(nil)
