package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/quota"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/blkpg"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/partsafety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpOverride is the journal's operation kind for an override of one of
// the Engine's own refusals (drive_failing, device_saturated): journaled
// before the action it lets through.
const OpOverride = "storage.override"

// JournalOptions are the roll-forward handlers Recover needs: register them
// when opening the journal given to WithJournal (filesystem resizes, label
// and UUID changes, partition-table writes, btrfs subvolume and device
// changes, quota limits, grace times, project ids and enables, LVM
// metadata changes, the Engine's override records).
func JournalOptions(fsOpts ...fsys.Option) []safety.Option {
	out := fsys.RollForward(fsOpts...)
	out = append(out, partsafety.RollForward(),
		safety.WithRollForward(OpOverride, func(context.Context, safety.Entry) error { return nil }))
	out = append(out, btrfs.RollForward()...)
	out = append(out, quota.RollForward()...)
	// LVM changes settle by the VG's seqno, read through lvm; a machine
	// whose runner cannot be made gets no LVM handlers, and recovery then
	// rolls those changes back from their before-images.
	if x, err := command.New(); err == nil {
		if t, err := lvm.NewTool(x); err == nil {
			out = append(out, lvm.RollForward(t)...)
		}
	}
	return out
}

// Apply runs a plan through the scheduler under the journal: every action
// is a guarded operation (preflight, journal, before-images, undo on
// failure); a failed action stops the plan and the finished ones are
// rolled back where they can be. A plan decoded from JSON is compiled
// first.
func (e *Engine) Apply(ctx context.Context, p *Plan) (*sched.Report, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil plan", ErrInvalid)
	}
	if p.Empty() {
		return &sched.Report{}, nil
	}
	if err := e.needJournal(); err != nil {
		return nil, err
	}
	if p.sched == nil {
		if err := e.Compile(p); err != nil {
			return nil, err
		}
	}
	return e.sched.Run(ctx, p.sched)
}

// Recover finishes or undoes what a crash interrupted, as the journal
// says: each interrupted mutation is rolled forward by its handler (see
// JournalOptions) or put back from its before-images.
func (e *Engine) Recover(ctx context.Context) ([]safety.Recovered, error) {
	if err := e.needJournal(); err != nil {
		return nil, err
	}
	rs, err := e.journal.Recover(ctx)
	// A rolled-forward table write is on disk; the kernel still has the
	// partitions it had before the crash: load the new ones (refused, with
	// advice, for a partition in use).
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Entry.Intent.Op != partsafety.Op || r.Err != nil || seen[r.Entry.Intent.Target.Path] {
			continue
		}
		seen[r.Entry.Intent.Target.Path] = true
		if serr := syncKernel(ctx, r.Entry.Intent.Target.Path); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	return rs, err
}

func syncKernel(ctx context.Context, disk string) error {
	d, err := partition.Open(ctx, disk)
	if err != nil {
		return err
	}
	defer d.Close()
	if !d.IsBlockDevice() {
		return nil
	}
	t, err := d.Read(ctx)
	if err != nil {
		return err
	}
	_, err = d.SyncKernel(ctx, t)
	return err
}

func (e *Engine) step(kind, name string) {
	if e.onStep != nil {
		e.onStep(kind, name)
	}
}

// hookJournal calls the step hook after each partition write step is
// journaled.
type hookJournal struct {
	j    partition.Journal
	hook func(kind, step string)
}

func (h hookJournal) Begin(ctx context.Context, in partition.WriteIntent) (partition.Txn, error) {
	t, err := h.j.Begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return hookTxn{t, h.hook}, nil
}

type hookTxn struct {
	partition.Txn
	hook func(kind, step string)
}

func (t hookTxn) Step(ctx context.Context, name string) error {
	if err := t.Txn.Step(ctx, name); err != nil {
		return err
	}
	t.hook(partsafety.Op, name)
	return nil
}

// Journal returns the Engine's journal (nil without WithJournal).
func (e *Engine) Journal() *safety.Journal { return e.journal }

func (e *Engine) minSize(ctx context.Context, dev string) (int64, error) {
	if e.minSizeFn != nil {
		return e.minSizeFn(ctx, dev)
	}
	return e.fs.MinSize(ctx, dev)
}

// operation turns an action into a sched.Operation whose real operation is
// built when it runs: the devices it acts on may not exist before the
// actions it depends on have run.
func (e *Engine) operation(a Action) sched.Operation {
	var inner sched.Operation
	return sched.Operation{
		ID:           a.ID,
		Kind:         a.Kind,
		Dependencies: a.Depends,
		Execute: func(ctx context.Context, progress sched.Progress) error {
			if e.journal == nil {
				return ErrNoJournal
			}
			if a.Heavy {
				if err := e.gate(ctx, a); err != nil {
					return err
				}
			}
			op, err := e.build(ctx, a)
			if err != nil {
				return fmt.Errorf("%s: %w", a.ID, err)
			}
			if op.Execute == nil {
				e.step("storage.action", a.ID)
				return nil // done by the builder (a partition write)
			}
			inner = op
			if progress == nil {
				progress = func(int64, int64, string) {}
			}
			if err := op.Execute(ctx, progress); err != nil {
				return err
			}
			e.step("storage.action", a.ID)
			return nil
		},
		Rollback: func(ctx context.Context) error {
			if inner.Rollback == nil {
				return nil
			}
			return inner.Rollback(ctx)
		},
	}
}

// gate is the health- and load-aware part of the preflight of a heavy
// action: a drive the plan saw failing was refused by Plan unless
// overridden; here a saturated drive defers the action (retryable), and
// every override used is journaled first.
func (e *Engine) gate(ctx context.Context, a Action) error {
	var satOverride *OverrideSpec
	for i, o := range a.Overrides {
		if Code(o.Code) == CodeDeviceSaturated {
			satOverride = &a.Overrides[i]
		}
	}
	for _, o := range a.Overrides {
		if Code(o.Code) == CodeDriveFailing {
			if err := e.journalOverride(ctx, a, o); err != nil {
				return err
			}
		}
	}
	for _, dr := range a.Drives {
		util, err := e.utilOf(ctx, filepath.Base(dr))
		if err != nil || util < e.utilLimit {
			continue // unknown load does not defer
		}
		if satOverride != nil {
			if err := e.journalOverride(ctx, a, *satOverride); err != nil {
				return err
			}
			continue
		}
		return fmt.Errorf("storage: %s deferred: %s is %.0f%% busy, at or above %.0f%% (%s): %w",
			a.ID, dr, util, e.utilLimit, CodeDeviceSaturated, sched.ErrRetryable)
	}
	return nil
}

func (e *Engine) journalOverride(ctx context.Context, a Action, o OverrideSpec) error {
	target := a.Device
	if len(a.Drives) > 0 {
		target = a.Drives[0]
	}
	id, err := safety.IdentityOf(ctx, target)
	if err != nil {
		return fmt.Errorf("storage: journal override %s: %w", o.Code, err)
	}
	p, _ := json.Marshal(map[string]string{"action": a.ID})
	m, err := e.journal.Begin(ctx, safety.Intent{Op: OpOverride, Target: id, Params: p,
		Description: fmt.Sprintf("override %s for %s: %s", o.Code, a.ID, o.Reason),
		Overrides:   []safety.Override{{Code: safety.Code(o.Code), Reason: o.Reason, By: o.By}}})
	if err != nil {
		return fmt.Errorf("storage: journal override %s: %w", o.Code, err)
	}
	return m.Done(ctx)
}

// utilOf samples one device's %util over the Engine's rate interval.
func (e *Engine) utilOf(ctx context.Context, name string) (float64, error) {
	if e.utilFn != nil {
		return e.utilFn(ctx, name)
	}
	dc, err := perf.NewDiskstatsCollector(e.root, perf.WithDeviceFilter(func(n string) bool { return n == name }))
	if err != nil {
		return 0, err
	}
	defer dc.Close()
	if _, _, err := dc.Sample(); err != nil {
		return 0, err
	}
	t := time.NewTimer(e.rateInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-t.C:
	}
	_, rates, err := dc.Sample()
	if err != nil {
		return 0, err
	}
	for _, r := range rates {
		if r.Name == name {
			return r.Util, nil
		}
	}
	return 0, fmt.Errorf("storage: %s not in diskstats", name)
}

func fsOpts(a Action) []fsys.OpOption {
	o := []fsys.OpOption{fsys.WithOpID(a.ID)}
	if a.Disposable {
		o = append(o, fsys.WithOverride(safety.CodeNotEmpty, "the spec marks the filesystem disposable", "spec"),
			fsys.WithOverride(safety.CodeUnrecognizedData, "the spec marks the filesystem disposable", "spec"))
	}
	for _, ov := range a.Overrides {
		if c := Code(ov.Code); c != CodeDriveFailing && c != CodeDeviceSaturated {
			o = append(o, fsys.WithOverride(safety.Code(ov.Code), ov.Reason, ov.By))
		}
	}
	return o
}

func lvmOpts(a Action) []lvm.OpOption {
	o := []lvm.OpOption{lvm.WithOpID(a.ID)}
	for _, ov := range a.Overrides {
		if c := Code(ov.Code); c != CodeDriveFailing && c != CodeDeviceSaturated {
			o = append(o, lvm.WithOverride(safety.Code(ov.Code), ov.Reason, ov.By))
		}
	}
	return o
}

// build makes the real operation of an action, now.
func (e *Engine) build(ctx context.Context, a Action) (sched.Operation, error) {
	switch a.Kind {
	case KindPartitionWrite, KindPartitionShrink:
		return sched.Operation{}, e.writePartitions(ctx, a)
	case KindMkfs:
		return e.fs.MakeOp(ctx, a.Device, fsys.Type(a.FSType), fsys.MakeOptions{Label: a.Label}, fsOpts(a)...)
	case KindFSResize:
		op, _, err := e.fs.ResizeOp(ctx, a.Device, a.SizeBytes, fsOpts(a)...)
		return op, err
	case KindMount:
		if err := os.MkdirAll(a.Target, 0o755); err != nil {
			return sched.Operation{}, err
		}
		return e.fs.MountOp(ctx, a.Device, a.Target, fsys.Type(a.FSType), fsys.MountOptions{ReadOnly: a.ReadOnly, Data: a.Options}, fsOpts(a)...)
	case KindBackendCreate, KindBackendResize:
		return sched.Operation{}, e.backendCall(ctx, a)
	}
	m, err := e.lvmManager()
	if err != nil {
		return sched.Operation{}, err
	}
	switch a.Kind {
	case KindPVCreate:
		return m.PVCreateOp(ctx, a.Device, lvmOpts(a)...)
	case KindPVResize:
		return m.PVResizeOp(ctx, a.Device, a.SizeBytes, lvmOpts(a)...)
	case KindVGCreate:
		return m.VGCreateOp(ctx, a.VG, a.PVs, lvm.VGOptions{ExtentBytes: a.ExtentBytes}, lvmOpts(a)...)
	case KindVGExtend:
		return m.VGExtendOp(ctx, a.VG, a.PVs, lvmOpts(a)...)
	case KindThinPoolCreate:
		return m.LVCreateOp(ctx, a.VG, lvm.LVSpec{Name: a.LV, Type: lvm.LVThinPool, SizeBytes: a.SizeBytes, MetadataBytes: a.MetadataBytes}, lvmOpts(a)...)
	case KindThinPoolExtend:
		return m.ThinPoolExtendOp(ctx, a.VG, a.LV, a.SizeBytes, a.MetadataBytes, lvmOpts(a)...)
	case KindLVCreate:
		s := lvm.LVSpec{Name: a.LV, Type: lvm.LVLinear, SizeBytes: a.SizeBytes}
		if a.Pool != "" {
			s.Type, s.Pool = lvm.LVThin, a.Pool
		}
		return m.LVCreateOp(ctx, a.VG, s, lvmOpts(a)...)
	case KindLVResize:
		return m.LVResizeOp(ctx, a.VG, a.LV, a.SizeBytes, lvmOpts(a)...)
	}
	return sched.Operation{}, fmt.Errorf("%w: unknown action kind %q", ErrInvalid, a.Kind)
}

func (e *Engine) lvmManager() (*lvm.Manager, error) {
	e.lvmOnce.Do(func() {
		opts := []lvm.ManagerOption{lvm.WithJournal(e.journal), lvm.WithFsys(e.fs), lvm.WithLogger(e.log)}
		if e.root != "" {
			opts = append(opts, lvm.WithRoot(e.root))
		}
		e.lvm, e.lvmErr = lvm.NewManager(e.lvmTool, opts...)
	})
	return e.lvm, e.lvmErr
}

// writePartitions edits one disk's table under the journal (partsafety)
// after partsafety's preflight. Run again after a crash it finds the
// partitions already there and does only what is left.
func (e *Engine) writePartitions(ctx context.Context, a Action) error {
	var pj partition.Journal = partsafety.Journal(e.journal)
	if e.onStep != nil {
		pj = hookJournal{pj, e.onStep}
	}
	d, err := partition.Open(ctx, a.Device, partition.WithJournal(pj))
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := d.Read(ctx)
	switch {
	case errors.Is(err, partition.ErrNoTable) && a.NewTable:
		if t, err = partition.NewGPT(d.Geometry()); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	ss := uint64(t.SectorSize)
	for _, c := range a.Partitions {
		size := partition.Size{Rest: true}
		if c.SizeBytes > 0 {
			size = partition.Size{Bytes: uint64(c.SizeBytes)}
		}
		cur, exists := t.Partition(c.Number)
		switch c.Op {
		case "add":
			if exists {
				continue
			}
			typ := c.Type
			if typ == "" {
				typ = "linux"
			}
			if _, err := t.Add(partition.AddSpec{Number: c.Number, Size: size, Type: typ, Name: c.Name}); err != nil {
				return fmt.Errorf("add partition %d: %w", c.Number, err)
			}
		case "resize":
			if !exists {
				return fmt.Errorf("resize partition %d: %w", c.Number, ErrConflict)
			}
			if c.SizeBytes > 0 && cur.Size*ss == uint64(c.SizeBytes) {
				continue
			}
			if _, err := t.Resize(c.Number, size); err != nil {
				return fmt.Errorf("resize partition %d: %w", c.Number, err)
			}
		}
	}
	var po []safety.CheckOption
	if a.Disposable {
		po = append(po, safety.WithOverride(safety.CodeNotEmpty, "the spec marks the disk disposable", "spec"))
	}
	if a.Kind == KindPartitionWrite {
		// Adds and grows only (shrinks are their own action, after what is
		// on the partition shrank): a grown partition keeps its start and
		// data, and the kernel resizes it in place, in use or not, as
		// growpart does for a mounted root.
		const why = "growing a partition in place keeps its start and its data"
		po = append(po, safety.WithOverride(safety.CodeMounted, why, "storage"),
			safety.WithOverride(safety.CodeInUse, why, "storage"),
			safety.WithOverride(safety.CodeHasHolders, why, "storage"))
	}
	if e.root != "" {
		po = append(po, safety.WithRoot(e.root))
	}
	if err := partsafety.Preflight(ctx, d, t, po...); err != nil {
		return err
	}
	var grows []partition.KernelChange
	if d.IsBlockDevice() && a.Kind == KindPartitionWrite {
		if grows, err = inPlaceGrows(ctx, d, t); err != nil {
			return err
		}
	}
	if err := d.Write(ctx, t); err != nil {
		return err
	}
	if !d.IsBlockDevice() {
		return nil
	}
	if len(grows) > 0 {
		if err := growKernel(a.Device, grows); err != nil {
			return err
		}
	}
	_, err = d.SyncKernel(ctx, t)
	return err
}

// inPlaceGrows are the kernel resizes of t that keep a partition's start
// and make it bigger: the engine makes those itself (BLKPG_RESIZE_PARTITION
// is safe on a partition in use when it only grows, as growpart relies on),
// since the partition editor's kernel sync refuses any change to a
// partition in use. Any other change to a partition in use is left to the
// editor, which refuses it before its first call.
func inPlaceGrows(ctx context.Context, d *partition.Disk, t *partition.Table) ([]partition.KernelChange, error) {
	plan, err := d.KernelPlan(ctx, t)
	if err != nil {
		return nil, err
	}
	have, err := d.KernelPartitions(ctx)
	if err != nil {
		return nil, err
	}
	cur := map[int]partition.KernelPartition{}
	for _, h := range have {
		cur[h.Number] = h
	}
	var out []partition.KernelChange
	for _, c := range plan {
		h, ok := cur[c.Partition]
		if c.Op == "resize" && ok && h.Start == c.Start && c.Size > h.Size {
			out = append(out, c)
		}
	}
	return out, nil
}

func growKernel(disk string, grows []partition.KernelChange) error {
	f, err := os.OpenFile(disk, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, c := range grows {
		if err := blkpg.Resize(f.Fd(), c.Partition, int64(c.Start)*512, int64(c.Size)*512); err != nil {
			return fmt.Errorf("storage: kernel grow of partition %d of %s (the table on disk is written; `partx -u %s` loads it): %w", c.Partition, disk, disk, err)
		}
	}
	return nil
}

// backendCall asks the backend for the operations now (none when the
// volume already holds) and runs them in order on a one-worker scheduler.
func (e *Engine) backendCall(ctx context.Context, a Action) error {
	b, err := e.backends.Lookup(a.Backend)
	if err != nil {
		return err
	}
	var ops []sched.Operation
	if a.Kind == KindBackendCreate {
		ops, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: a.Pool, Name: a.Name, SizeBytes: a.SizeBytes, Thin: a.Thin})
	} else {
		ops, err = b.ResizeVolume(ctx, a.Pool+"/"+a.Name, a.SizeBytes)
	}
	if err != nil || len(ops) == 0 {
		return err
	}
	s, err := sched.New(sched.WithWorkers(1), sched.WithLogger(e.log))
	if err != nil {
		return err
	}
	_, err = s.Run(ctx, sched.NewPlan(ops...))
	return err
}
