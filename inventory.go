package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/smart"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Inventory is one typed view of the machine. Every read that failed is in
// Errors with its source and device: a missing fact is never an empty
// answer.
type Inventory struct {
	Time        time.Time          `json:"time"`
	Devices     []Device           `json:"devices"`
	Tables      []PartitionTable   `json:"partition_tables,omitempty"`
	Filesystems []fsys.Info        `json:"filesystems,omitempty"`
	LVM         *lvm.Report        `json:"lvm,omitempty"`
	Backends    []BackendInventory `json:"backends,omitempty"`
	Health      []DriveHealth      `json:"health,omitempty"`
	Rates       []perf.Rates       `json:"rates,omitempty"`
	Errors      []InventoryError   `json:"errors,omitempty"`
}

// Device is one block device of the graph.
type Device struct {
	Name        string   `json:"name"`
	Path        string   `json:"path"`
	Type        string   `json:"type"`
	SizeBytes   int64    `json:"size_bytes"`
	Serial      string   `json:"serial,omitempty"`
	WWN         string   `json:"wwn,omitempty"`
	Model       string   `json:"model,omitempty"`
	Rotational  *bool    `json:"rotational,omitempty"`
	ReadOnly    bool     `json:"read_only,omitempty"`
	Parents     []string `json:"parents,omitempty"`
	Children    []string `json:"children,omitempty"`
	PartNumber  int      `json:"part_number,omitempty"`
	Mountpoints []string `json:"mountpoints,omitempty"`
	Swap        bool     `json:"swap,omitempty"`
	// FSType is the signature the probe found ("" none or unknown).
	FSType string `json:"fstype,omitempty"`
}

// PartitionTable is a disk's table.
type PartitionTable struct {
	Disk       string      `json:"disk"`
	Label      string      `json:"label"`
	SectorSize int         `json:"sector_size"`
	Sectors    uint64      `json:"sectors"`
	Partitions []Partition `json:"partitions"`
}

// Partition is one entry of a table, in bytes.
type Partition struct {
	Number     int    `json:"number"`
	StartBytes int64  `json:"start_bytes"`
	SizeBytes  int64  `json:"size_bytes"`
	Name       string `json:"name,omitempty"`
	Type       string `json:"type,omitempty"`
	UUID       string `json:"uuid,omitempty"`
}

// BackendInventory is one backend's answer.
type BackendInventory struct {
	Name    string          `json:"name"`
	Pools   []plugin.Pool   `json:"pools,omitempty"`
	Volumes []plugin.Volume `json:"volumes,omitempty"`
}

// DriveHealth is one drive's SMART verdict: "unknown" when it could not be
// read (the reason is in Inventory.Errors).
type DriveHealth struct {
	Device  string   `json:"device"`
	Verdict string   `json:"verdict"`
	Reasons []string `json:"reasons,omitempty"`
}

// InventoryError is one failed read.
type InventoryError struct {
	Source string `json:"source"` // blockdev, partition, fsys, lvm, smart, perf, backend:NAME
	Device string `json:"device,omitempty"`
	Err    string `json:"error"`
}

func (e InventoryError) Error() string {
	if e.Device == "" {
		return e.Source + ": " + e.Err
	}
	return e.Source + " " + e.Device + ": " + e.Err
}

// Device returns the device at path (or with that kernel name), nil if none.
func (inv *Inventory) Device(path string) *Device {
	for i := range inv.Devices {
		d := &inv.Devices[i]
		if d.Path == path || d.Name == path {
			return d
		}
	}
	return nil
}

// Filesystem returns the filesystem on dev, nil if none was found.
func (inv *Inventory) Filesystem(dev string) *fsys.Info {
	for i := range inv.Filesystems {
		if inv.Filesystems[i].Device == dev {
			return &inv.Filesystems[i]
		}
	}
	return nil
}

// Table returns the partition table of disk, nil if none was read.
func (inv *Inventory) Table(disk string) *PartitionTable {
	for i := range inv.Tables {
		if inv.Tables[i].Disk == disk {
			return &inv.Tables[i]
		}
	}
	return nil
}

// ErrorsFor returns the read errors about dev.
func (inv *Inventory) ErrorsFor(dev string) []InventoryError {
	var out []InventoryError
	for _, e := range inv.Errors {
		if e.Device == dev {
			out = append(out, e)
		}
	}
	return out
}

type invCollector struct {
	mu  sync.Mutex
	inv *Inventory
}

func (c *invCollector) fail(source, dev string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inv.Errors = append(c.inv.Errors, InventoryError{Source: source, Device: dev, Err: err.Error()})
}

// Inventory reads the machine. The readers that need no device graph (I/O
// rates over the Engine's rate interval, backends) start first and run
// while the graph is read; the others (tables, filesystems, LVM, SMART
// with a deadline per drive) run concurrently after it. It fails only when
// the device graph itself cannot be read.
func (e *Engine) Inventory(ctx context.Context) (*Inventory, error) {
	inv := &Inventory{Time: time.Now().UTC()}
	c := &invCollector{inv: inv}
	var wg sync.WaitGroup
	// Whatever returns, the readers started are stopped and waited for:
	// none of them outlives the call.
	rctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	fork := func(f func(context.Context)) { wg.Go(func() { f(rctx) }) }
	fork(func(ctx context.Context) { e.readRates(ctx, c) })
	fork(func(ctx context.Context) { e.readBackends(ctx, c) })
	bo := []blockdev.Option{blockdev.WithLogger(e.log),
		// What deviceView takes: the core, the hardware identity and,
		// of the queue, rotational; detached loop devices (often a
		// hundred: the kernel makes them ahead) with what makes them
		// one, not twenty-odd attributes each that nothing here shows.
		blockdev.WithAttributes(blockdev.AttrHardware | blockdev.AttrRotational),
		blockdev.WithBriefDetachedLoops(true)}
	if e.root != "" {
		bo = append(bo, blockdev.WithRoot(e.root))
	}
	g, err := blockdev.Discover(ctx, bo...)
	if err != nil {
		return nil, fmt.Errorf("storage: device graph: %w", err)
	}
	var disks, leaves []*blockdev.Device
	c.mu.Lock()
	for _, ge := range g.Errs() {
		inv.Errors = append(inv.Errors, InventoryError{Source: "blockdev", Err: ge.Error()})
	}
	for _, d := range g.All() {
		inv.Devices = append(inv.Devices, deviceView(g, d))
		for _, ae := range d.Errs {
			inv.Errors = append(inv.Errors, InventoryError{Source: "blockdev", Device: d.Path, Err: ae.Error()})
		}
		if d.Type == blockdev.TypeDisk || d.Type == blockdev.TypeLoop {
			disks = append(disks, d)
		}
		if d.Size != nil && *d.Size > 0 {
			leaves = append(leaves, d)
		}
	}
	c.mu.Unlock()
	fork(func(ctx context.Context) { e.readTables(ctx, c, disks) })
	fork(func(ctx context.Context) { e.readFilesystems(ctx, c, leaves) })
	fork(func(ctx context.Context) { e.readLVM(ctx, c, leaves) })
	fork(func(ctx context.Context) { e.readHealth(ctx, c, disks) })
	wg.Wait()
	sort.Slice(inv.Tables, func(i, j int) bool { return inv.Tables[i].Disk < inv.Tables[j].Disk })
	sort.Slice(inv.Filesystems, func(i, j int) bool { return inv.Filesystems[i].Device < inv.Filesystems[j].Device })
	sort.Slice(inv.Health, func(i, j int) bool { return inv.Health[i].Device < inv.Health[j].Device })
	sort.SliceStable(inv.Errors, func(i, j int) bool {
		a, b := inv.Errors[i], inv.Errors[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Device < b.Device
	})
	return inv, nil
}

func deviceView(g *blockdev.Graph, d *blockdev.Device) Device {
	v := Device{Name: d.Name, Path: d.Path, Type: string(d.Type), Serial: d.Serial, WWN: d.WWN,
		Model: d.Model, Rotational: d.Rotational, Mountpoints: d.MountPoints(), Swap: d.Swap}
	if d.Size != nil {
		v.SizeBytes = int64(*d.Size)
	}
	if d.ReadOnly != nil {
		v.ReadOnly = *d.ReadOnly
	}
	if d.PartNumber != nil {
		v.PartNumber = int(*d.PartNumber)
	}
	for _, p := range g.Parents(d) {
		v.Parents = append(v.Parents, p.Path)
	}
	for _, ch := range g.Children(d) {
		v.Children = append(v.Children, ch.Path)
	}
	if d.Probe != nil {
		v.FSType = d.Probe.Type
	}
	return v
}

// readerWorkers bounds the devices whose tables, or whose filesystems, are
// read at once. The reads wait for the device (fsys.Inspect reads with
// O_DIRECT, past the page cache), so a few at a time overlap those waits;
// more would only queue behind one another on a small machine.
const readerWorkers = 4

// eachDevice runs f for every device of devs, readerWorkers at a time, and
// returns when all are done (or ctx is, for those not started).
func eachDevice(ctx context.Context, devs []*blockdev.Device, f func(*blockdev.Device)) {
	next := make(chan *blockdev.Device)
	var wg sync.WaitGroup
	for range min(readerWorkers, len(devs)) {
		wg.Go(func() {
			for d := range next {
				f(d)
			}
		})
	}
	for _, d := range devs {
		if ctx.Err() != nil {
			break
		}
		next <- d
	}
	close(next)
	wg.Wait()
}

func (e *Engine) readTables(ctx context.Context, c *invCollector, disks []*blockdev.Device) {
	var sized []*blockdev.Device
	for _, d := range disks {
		if d.Size != nil && *d.Size > 0 {
			sized = append(sized, d)
		}
	}
	eachDevice(ctx, sized, func(d *blockdev.Device) {
		t, err := readTable(ctx, d.Path)
		if errors.Is(err, partition.ErrNoTable) {
			return
		}
		if err != nil {
			c.fail("partition", d.Path, err)
			return
		}
		c.mu.Lock()
		c.inv.Tables = append(c.inv.Tables, *t)
		c.mu.Unlock()
	})
}

func readTable(ctx context.Context, path string) (*PartitionTable, error) {
	pd, err := partition.Open(ctx, path, partition.WithReadOnly())
	if err != nil {
		return nil, err
	}
	defer pd.Close()
	t, err := pd.Read(ctx)
	if err != nil {
		return nil, err
	}
	ss := int64(t.SectorSize)
	pt := &PartitionTable{Disk: path, Label: string(t.Label), SectorSize: t.SectorSize, Sectors: t.Sectors}
	for _, p := range t.Partitions {
		pp := Partition{Number: p.Number, StartBytes: int64(p.Start) * ss, SizeBytes: int64(p.Size) * ss, Name: p.Name}
		if t.Label == partition.LabelGPT {
			pp.Type, pp.UUID = p.Type.String(), p.UUID.String()
		} else {
			pp.Type = fmt.Sprintf("0x%02x", p.MBRType)
		}
		pt.Partitions = append(pt.Partitions, pp)
	}
	return pt, nil
}

func (e *Engine) readFilesystems(ctx context.Context, c *invCollector, devs []*blockdev.Device) {
	var fss []*blockdev.Device
	for _, d := range devs {
		if d.Probe == nil && d.ProbeErr == nil {
			continue
		}
		if d.ProbeErr != nil {
			c.fail("probe", d.Path, d.ProbeErr)
			continue
		}
		if d.Probe.Type == "" || !fsys.Type(d.Probe.Type).Valid() {
			continue
		}
		fss = append(fss, d)
	}
	eachDevice(ctx, fss, func(d *blockdev.Device) {
		info, err := e.fs.Inspect(ctx, d.Path)
		if err != nil {
			c.fail("fsys", d.Path, err)
			return
		}
		c.mu.Lock()
		c.inv.Filesystems = append(c.inv.Filesystems, *info)
		c.mu.Unlock()
	})
}

// readLVM reads the LVM labels and metadata of every device that could be
// a PV (any sized leaf: a disk, a partition, a loop or dm device). A device
// that cannot be opened is an error of its own, not a reason to read no
// LVM at all.
func (e *Engine) readLVM(ctx context.Context, c *invCollector, leaves []*blockdev.Device) {
	var devs []string
	for _, d := range leaves {
		if d.Probe != nil {
			// The probe opened and read it a moment ago.
			devs = append(devs, d.Path)
			continue
		}
		f, err := os.Open(d.Path)
		if err != nil {
			c.fail("lvm", d.Path, err)
			continue
		}
		f.Close()
		devs = append(devs, d.Path)
	}
	r, err := lvm.ReadOrRun(ctx, e.lvmTool, devs)
	if err != nil {
		c.fail("lvm", "", err)
		return
	}
	c.mu.Lock()
	c.inv.LVM = r
	c.mu.Unlock()
}

func (e *Engine) readBackends(ctx context.Context, c *invCollector) {
	for _, n := range e.backends.Names() {
		b, err := e.backends.Lookup(n)
		if err != nil {
			c.fail("backend:"+n, "", err)
			continue
		}
		bi := BackendInventory{Name: n}
		if bi.Pools, err = b.Pools(ctx); err != nil {
			c.fail("backend:"+n, "", fmt.Errorf("pools: %w", err))
		}
		if bi.Volumes, err = b.Volumes(ctx, ""); err != nil {
			c.fail("backend:"+n, "", fmt.Errorf("volumes: %w", err))
		}
		c.mu.Lock()
		c.inv.Backends = append(c.inv.Backends, bi)
		c.mu.Unlock()
	}
}

func (e *Engine) readHealth(ctx context.Context, c *invCollector, disks []*blockdev.Device) {
	var wg sync.WaitGroup
	for _, d := range disks {
		if d.Type != blockdev.TypeDisk {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, e.smartDeadline)
			defer cancel()
			so := []smart.Option{smart.WithLogs(false)}
			if e.root != "" {
				so = append(so, smart.WithRoot(e.root))
			}
			h := DriveHealth{Device: d.Path, Verdict: smart.VerdictUnknown.String()}
			r, err := smart.Read(dctx, d.Path, so...)
			if err != nil {
				if !errors.Is(err, smart.ErrNotSupported) {
					c.fail("smart", d.Path, err)
				}
			} else {
				a := smart.Health(r, nil)
				h.Verdict = a.Verdict.String()
				for _, rs := range a.Reasons {
					h.Reasons = append(h.Reasons, string(rs.Code)+": "+rs.Message)
				}
			}
			c.mu.Lock()
			c.inv.Health = append(c.inv.Health, h)
			c.mu.Unlock()
		}()
	}
	wg.Wait()
}

// readRates samples /proc/diskstats twice, the Engine's rate interval
// apart. It reads the table with a StatReader and computes rates with a
// Rater of its own rather than a DiskstatsCollector: the collector reads
// every device's diskseq when it first sees it (a hundred sysfs reads on a
// machine with a hundred loop devices, most of what a sample costs), which
// pays only for a collector that runs on: over one interval a device whose
// name was reused shows as restarted by its counters alone, as it would
// between the collector's diskseq checks.
func (e *Engine) readRates(ctx context.Context, c *invCollector) {
	sr, err := perf.OpenDiskstats(e.root)
	if err != nil {
		c.fail("perf", "", err)
		return
	}
	defer sr.Close()
	rater := perf.NewRater(nil, 0)
	var first, sm perf.Sample
	if err := sr.Read(&first); err != nil {
		c.fail("perf", "", err)
		return
	}
	rater.Update(&first, nil)
	t := time.NewTimer(e.rateInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		c.fail("perf", "", ctx.Err())
		return
	case <-t.C:
	}
	if err := sr.Read(&sm); err != nil {
		c.fail("perf", "", err)
		return
	}
	rs := rater.Update(&sm, nil)
	c.mu.Lock()
	c.inv.Rates = rs
	c.mu.Unlock()
	if e.sink != nil {
		snap := &perf.Snapshot{Seq: 1, Time: sm.Time, Interval: e.rateInterval}
		for _, r := range rs {
			dm := perf.DiskMetrics{Rates: r, HasRates: true}
			if st := sm.Find(r.Name); st != nil {
				dm.Stat = *st
			}
			snap.Disks = append(snap.Disks, dm)
		}
		if err := e.sink.Write(ctx, snap); err != nil {
			c.fail("perf", "", fmt.Errorf("sink: %w", err))
		}
	}
}
