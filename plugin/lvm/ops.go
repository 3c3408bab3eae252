package lvm

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
	lvm2 "github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpCopy is the Kind of the operation that fills a thick clone from its
// classic snapshot.
const OpCopy = "lvm.plugin.copy"

// maxDMName is device-mapper's name limit (DM_NAME_LEN less its NUL).
const maxDMName = 127

// roundSize checks n and rounds it up to the VG's extents (lvm's default
// 4 MiB when the VG reports none), as Limits reports them.
func roundSize(v *lvm2.VG, field string, n int64) (int64, error) {
	l := limits
	if v.ExtentSize >= 1<<20 {
		l.Granularity, l.MinSize = v.ExtentSize, v.ExtentSize
	}
	return plugin.RoundSize(l, field, n)
}

// checkDMName refuses an LV name whose device-mapper names (with the VG's,
// dashes doubled, and the "-real"/"-cow" layers of snapshots) pass the
// kernel's limit, before lvm would fail on it.
func (b *Backend) checkDMName(field, lv string) error {
	if n := len(lvm2.DMName(b.vg, lv)) + len("-real"); n > maxDMName {
		return &plugin.InvalidError{Field: field, Value: lv, Reason: fmt.Sprintf("its device-mapper name in VG %s would be %d bytes, over %d", b.vg, n, maxDMName)}
	}
	return checkReserved(lv)
}

// wrap makes every operation's failure carry its plugin meaning.
func wrap(ops ...sched.Operation) []sched.Operation {
	for i := range ops {
		exec := ops[i].Execute
		ops[i].Execute = func(ctx context.Context, p sched.Progress) error { return mapErr(exec(ctx, p)) }
	}
	return ops
}

// lazy is an operation built when it runs: the LV it acts on is made by
// an operation it depends on. It claims the VG as the lvm operation it
// builds does.
func (b *Backend) lazy(id, kind, lv string, deps []string, build func(ctx context.Context) (sched.Operation, error)) sched.Operation {
	var built sched.Operation
	return sched.Operation{ID: id, Kind: kind, Dependencies: deps,
		Resources: []sched.Resource{sched.VG(b.vg).Exclusive(), b.lvRes(lv, true)},
		Execute: func(ctx context.Context, p sched.Progress) error {
			op, err := build(ctx)
			if err != nil {
				return err
			}
			built = op
			return op.Execute(ctx, p)
		},
		Rollback: func(ctx context.Context) error {
			if built.Rollback == nil {
				return nil
			}
			return built.Rollback(ctx)
		}}
}

func (b *Backend) lvRes(lv string, excl bool) sched.Resource {
	if excl {
		return sched.VG(b.vg).LV(lv).Exclusive()
	}
	return sched.VG(b.vg).LV(lv).Shared()
}

// admitThin checks n more bytes of thin virtual size in pool tp against
// the policy, or against the ratio when there is none, on the VG as rep
// has it.
func (b *Backend) admitThin(ctx context.Context, v *lvm2.VG, tp string, n int64) error {
	if b.policy != nil {
		return mapErr(b.policy.Admit(ctx, b.vg, tp, n))
	}
	pool := findLV(v, tp)
	if pool == nil || !pool.Attr.ThinPool() {
		return fmt.Errorf("%w: thin pool %s/%s", plugin.ErrNotFound, b.vg, tp)
	}
	virt := thinVirtual(v, tp) + n
	if limit := int64(b.ratioNow() * float64(pool.Size)); virt > limit {
		return fmt.Errorf("%w: thin volumes would total %d bytes on the %d bytes of thin pool %s/%s (over-provisioning limit %.2f)",
			plugin.ErrNoSpace, virt, pool.Size, b.vg, tp, b.ratioNow())
	}
	return nil
}

// admitOpt re-checks the admission in the operation's preflight, on the
// inventory it reads under the VG's claim: two creates planned at once
// cannot both pass on the same old total.
func (b *Backend) admitOpt(tp string, n int64) lvm2.OpOption {
	return lvm2.WithPreflight(func(ctx context.Context, rep *lvm2.Report) error {
		v := rep.VG(b.vg)
		if v == nil {
			return fmt.Errorf("%w: VG %s", plugin.ErrNotFound, b.vg)
		}
		return b.admitThin(ctx, v, tp, n)
	})
}

// check reads the capabilities and the VG once, and returns the VG when
// every t × m asked for is available.
func (b *Backend) check(ctx context.Context, need ...[2]string) (plugin.Capabilities, *lvm2.VG, error) {
	caps, v, err := b.capabilities(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range need {
		if err := plugin.Require(Name, caps, plugin.Technology(n[0]), plugin.Mode(n[1])); err != nil {
			return nil, nil, err
		}
	}
	if v == nil {
		return nil, nil, fmt.Errorf("%w: VG %s", plugin.ErrNotFound, b.vg)
	}
	return caps, v, nil
}

func need(t plugin.Technology, m plugin.Mode) [2]string { return [2]string{string(t), string(m)} }

func require(caps plugin.Capabilities, t plugin.Technology, m plugin.Mode) error {
	return plugin.Require(Name, caps, t, m)
}

// CreateVolume makes a linear LV in the VG's pool, a thin LV in the thin
// pool (req.Thin, or req.Pool naming it), or a clone of a snapshot: a thin
// snapshot's clone is a writable thin snapshot of it (instant); a classic
// snapshot's clone is a new LV, tagged incomplete until the snapshot's
// bytes are copied into it and synced. A half-made clone of the same name
// (a crash mid-copy, a crash before a thin clone's grow) is finished or
// made again.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if err := validName("name", req.Name); err != nil {
		return nil, err
	}
	if err := b.checkDMName("name", req.Name); err != nil {
		return nil, err
	}
	if _, err := plugin.RoundSize(limits, "size", req.SizeBytes); err != nil {
		return nil, err
	}
	if req.Kind != "" && req.Kind != plugin.TechBlock {
		return nil, &plugin.UnavailableError{Backend: Name, Technology: req.Kind, Mode: plugin.ModeCreate, Reason: "LVs are block devices"}
	}
	thin := req.Thin
	switch {
	case req.Pool == "" || req.Pool == b.vg:
	case b.thinPool != "" && req.Pool == b.thinPool:
		thin = true
	default:
		return nil, fmt.Errorf("%w: pool %s", plugin.ErrNotFound, req.Pool)
	}
	for _, t := range req.Tags {
		if t == "" || len(t) > 600 {
			return nil, &plugin.InvalidError{Field: "tag", Value: t, Reason: "want 1 to 600 bytes"}
		}
	}
	var snapVol, snapName string
	if req.FromSnapshot != "" {
		var err error
		if snapVol, snapName, err = b.splitSnapshotID(req.FromSnapshot); err != nil {
			return nil, err
		}
	}
	caps, v, err := b.check(ctx, need(plugin.TechVolume, plugin.ModeCreate))
	if err != nil {
		return nil, err
	}
	size, err := roundSize(v, "size", req.SizeBytes)
	if err != nil {
		return nil, err
	}
	tags := []string{tagVolume}
	for _, t := range req.Tags {
		tags = append(tags, encodeTag(tagUser, t))
	}
	var snap *lvm2.LV
	if req.FromSnapshot != "" {
		if err := require(caps, plugin.TechClone, plugin.ModeCreate); err != nil {
			return nil, err
		}
		if snap = findLV(v, snapLV(snapVol, snapName)); snap == nil || !hasTag(snap.Tags, tagSnapshot) {
			return nil, fmt.Errorf("%w: snapshot %s", plugin.ErrNotFound, req.FromSnapshot)
		}
		tags = append(tags, encodeTag(tagFrom, req.FromSnapshot))
		thin = snap.Attr.Thin()
	}
	id := "lvm.plugin.create " + b.volID(req.Name)
	var redo []sched.Operation // removes a half-made clone first
	if l := findLV(v, req.Name); l != nil {
		got := b.volume(l)
		same := got.Thin == thin && got.SnapshotOf == req.FromSnapshot
		switch {
		case isVolume(l) && same && got.SizeBytes == size:
			return nil, nil
		case isVolume(l) && same && snap != nil && thin && got.SizeBytes < size && got.SizeBytes == snap.Size:
			// A thin clone made but not yet grown.
			return b.ResizeVolume(ctx, got.ID, size)
		case owned(l) && !isVolume(l) && same:
			op, err := b.m.LVRemoveOp(ctx, b.vg, req.Name, lvm2.WithOpID("lvm.plugin.remove-incomplete "+b.volID(req.Name)))
			if err != nil {
				return nil, mapErr(err)
			}
			redo = append(redo, op)
		default:
			return nil, fmt.Errorf("%w: LV %s/%s (%d bytes, thin %v, from %q)", plugin.ErrExists, b.vg, req.Name, l.Size, l.Attr.Thin(), got.SnapshotOf)
		}
	}
	after := func(o ...lvm2.OpOption) []lvm2.OpOption {
		o = append(o, lvm2.WithOpID(id))
		if len(redo) > 0 {
			o = append(o, lvm2.WithDependencies(redo[0].ID))
		}
		return o
	}
	if thin {
		if err := require(caps, plugin.TechThin, plugin.ModeCreate); err != nil {
			return nil, err
		}
	}
	switch {
	case snap != nil && thin:
		// The clone has the snapshot's virtual size, in its snapshot's
		// pool; a larger request grows it after.
		if size < snap.Size {
			return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: fmt.Sprintf("smaller than the snapshot's %d bytes", snap.Size)}
		}
		if err := b.admitThin(ctx, v, snap.Pool, size); err != nil {
			return nil, err
		}
		op, err := b.m.SnapshotSpecOp(ctx, b.vg, snap.Name, req.Name, lvm2.SnapshotSpec{Activate: true, Tags: tags}, after(b.admitOpt(snap.Pool, size))...)
		if err != nil {
			return nil, mapErr(err)
		}
		ops := append(redo, op)
		if size > snap.Size {
			rid := "lvm.plugin.resize " + b.volID(req.Name)
			ops = append(ops, b.lazy(rid, lvm2.OpLVResize, req.Name, []string{id}, func(ctx context.Context) (sched.Operation, error) {
				return b.m.LVResizeOp(ctx, b.vg, req.Name, size, lvm2.WithOpID(rid+" (lvresize)"))
			}))
		}
		return wrap(ops...), nil
	case snap != nil:
		srcSize := snap.Size
		if origin := findLV(v, snapVol); origin != nil {
			srcSize = origin.Size
		}
		if size < srcSize {
			return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: fmt.Sprintf("smaller than the snapshot's %d bytes", srcSize)}
		}
		if size > v.Free {
			return nil, fmt.Errorf("%w: %d bytes asked, VG %s has %d free", plugin.ErrNoSpace, size, b.vg, v.Free)
		}
		op, err := b.m.LVCreateOp(ctx, b.vg, lvm2.LVSpec{Name: req.Name, Type: lvm2.LVLinear, SizeBytes: size, Tags: append(tags, tagIncomplete)}, after()...)
		if err != nil {
			return nil, mapErr(err)
		}
		cid := "lvm.plugin.copy " + b.volID(req.Name)
		done := b.lazy("lvm.plugin.complete "+b.volID(req.Name), lvm2.OpLVTags, req.Name, []string{cid}, func(ctx context.Context) (sched.Operation, error) {
			return b.m.LVTagsOp(ctx, b.vg, req.Name, nil, []string{tagIncomplete}, lvm2.WithOpID("lvm.plugin.complete "+b.volID(req.Name)+" (lvchange)"))
		})
		return wrap(append(redo, op, b.copyOp(cid, snap, req.Name, srcSize, id), done)...), nil
	case thin:
		tp := b.thinPoolLV(v)
		if err := b.admitThin(ctx, v, tp.Name, size); err != nil {
			return nil, err
		}
		op, err := b.m.LVCreateOp(ctx, b.vg, lvm2.LVSpec{Name: req.Name, Type: lvm2.LVThin, SizeBytes: size, Pool: tp.Name, Tags: tags}, after(b.admitOpt(tp.Name, size))...)
		if err != nil {
			return nil, mapErr(err)
		}
		return wrap(append(redo, op)...), nil
	default:
		if size > v.Free {
			return nil, fmt.Errorf("%w: %d bytes asked, VG %s has %d free", plugin.ErrNoSpace, size, b.vg, v.Free)
		}
		op, err := b.m.LVCreateOp(ctx, b.vg, lvm2.LVSpec{Name: req.Name, Type: lvm2.LVLinear, SizeBytes: size, Tags: tags}, after()...)
		if err != nil {
			return nil, mapErr(err)
		}
		return wrap(append(redo, op)...), nil
	}
}

// copyOp copies n bytes of the classic snapshot's device into LV dst (made
// by the operation dep), and syncs them. A failure leaves dst tagged
// incomplete: the plan's rollback of dep removes it, and a later create of
// the name removes and redoes it.
func (b *Backend) copyOp(id string, snap *lvm2.LV, dst string, n int64, dep string) sched.Operation {
	return sched.Operation{ID: id, Kind: OpCopy, Dependencies: []string{dep},
		Resources: []sched.Resource{b.lvRes(snap.Name, false), b.lvRes(dst, true)},
		Execute: func(ctx context.Context, p sched.Progress) error {
			return copyDevice(ctx, snap.Path, "/dev/"+b.vg+"/"+dst, n, p)
		}}
}

func copyDevice(ctx context.Context, src, dst string, n int64, p sched.Progress) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_EXCL, 0)
	if err != nil {
		return err
	}
	defer out.Close()
	buf := make([]byte, 4<<20)
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(int64(len(buf)), n-done)
		if _, err := io.ReadFull(in, buf[:k]); err != nil {
			return fmt.Errorf("lvm plugin: reading %s at %d: %w", src, done, err)
		}
		if _, err := out.Write(buf[:k]); err != nil {
			return fmt.Errorf("lvm plugin: writing %s at %d: %w", dst, done, err)
		}
		done += k
		if p != nil {
			p(done, n, "copying the snapshot")
		}
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// ResizeVolume grows a volume (thin grows are admitted like new thin
// volumes; a thick volume with a classic snapshot cannot grow while
// active: ErrInUse), or shrinks it: never while it is open (ErrInUse); a
// filesystem on it is shrunk first through fsys (refused below its
// minimum, and for xfs: ErrInvalid); a volume holding anything the probe
// recognises but fsys cannot shrink is refused (ErrNotSupported), and only
// a volume holding nothing recognisable is cut without a check.
func (b *Backend) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	if _, err := plugin.RoundSize(limits, "size", newBytes); err != nil {
		return nil, err
	}
	caps, v, err := b.check(ctx, need(plugin.TechVolume, plugin.ModeModify))
	if err != nil {
		return nil, err
	}
	size, err := roundSize(v, "size", newBytes)
	if err != nil {
		return nil, err
	}
	l := findLV(v, name)
	if l == nil || !isVolume(l) {
		return nil, fmt.Errorf("%w: volume %s", plugin.ErrNotFound, id)
	}
	var opts []lvm2.OpOption
	switch {
	case size == l.Size:
		return nil, nil
	case size < l.Size:
		if err := require(caps, plugin.TechShrink, plugin.ModeModify); err != nil {
			return nil, err
		}
		if l.Attr.IsOpen() {
			return nil, fmt.Errorf("%w: volume %s is open: a shrink would cut it under its user", plugin.ErrInUse, id)
		}
		blank, err := holdsNothing(ctx, l.Path)
		if err != nil {
			return nil, err
		}
		if blank {
			opts = append(opts, lvm2.WithOverride(lvm2.CodeFsUnknown, "the volume holds nothing the probe recognises", "plugin/lvm"))
		}
	case l.Attr.Thin():
		if err := b.admitThin(ctx, v, l.Pool, size-l.Size); err != nil {
			return nil, err
		}
		opts = append(opts, b.admitOpt(l.Pool, size-l.Size))
	default:
		for _, o := range v.LVs {
			if o.Origin == name && !o.Attr.Thin() {
				return nil, fmt.Errorf("%w: volume %s has classic snapshot %s, and lvm resizes such an origin only inactive", plugin.ErrInUse, id, o.Name)
			}
		}
		if size-l.Size > v.Free {
			return nil, fmt.Errorf("%w: %d more bytes asked, VG %s has %d free", plugin.ErrNoSpace, size-l.Size, b.vg, v.Free)
		}
	}
	op, err := b.m.LVResizeOp(ctx, b.vg, name, size, append(opts, lvm2.WithOpID("lvm.plugin.resize "+id))...)
	if err != nil {
		return nil, mapErr(err)
	}
	return wrap(op), nil
}

// holdsNothing probes the device: true when no filesystem, table or other
// signature is there. The probe is what preflight trusts before a format.
func holdsNothing(ctx context.Context, dev string) (bool, error) {
	r, err := probe.Path(ctx, dev)
	if err != nil {
		return false, fmt.Errorf("lvm plugin: probing %s: %w", dev, err)
	}
	return r.Type == "" && r.PTType == "", nil
}

// DeleteVolume removes a volume's LV (or a half-made clone's), refused
// (ErrInUse) while it is open or has classic snapshots (which cannot
// outlive their origin); thin snapshots stay, and are still listed by
// their IDs.
func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	caps, v, err := b.forDelete(ctx)
	if err != nil || v == nil {
		return nil, err
	}
	l := findLV(v, name)
	if l == nil {
		return nil, nil
	}
	if !owned(l) {
		return nil, fmt.Errorf("%w: LV %s/%s is not a volume of this backend", plugin.ErrInUse, b.vg, name)
	}
	for _, o := range v.LVs {
		if o.Origin == name && !o.Attr.Thin() {
			return nil, fmt.Errorf("%w: volume %s has classic snapshot %s", plugin.ErrInUse, id, o.Name)
		}
	}
	if err := require(caps, plugin.TechVolume, plugin.ModeRemove); err != nil {
		return nil, err
	}
	op, err := b.m.LVRemoveOp(ctx, b.vg, name, lvm2.WithOpID("lvm.plugin.delete "+id))
	if err != nil {
		return nil, mapErr(err)
	}
	return wrap(op), nil
}

// forDelete reads the capabilities and the VG for a delete: a VG that is
// not there holds nothing to delete (nil VG, no error), but without lvm
// nothing can be known, which is an *UnavailableError, never a success.
func (b *Backend) forDelete(ctx context.Context) (plugin.Capabilities, *lvm2.VG, error) {
	caps, v, err := b.capabilities(ctx)
	if err != nil || v != nil {
		return caps, v, err
	}
	if c, _ := caps.Lookup(plugin.TechVolume, plugin.ModeRemove); c.MissingTool != "" {
		return nil, nil, &plugin.UnavailableError{Backend: Name, Technology: plugin.TechVolume, Mode: plugin.ModeRemove, Reason: c.Reason, MissingTool: c.MissingTool}
	}
	return caps, nil, nil
}

// cowSize is a classic snapshot's COW space for an origin of n bytes: the
// origin itself, lvm's exception metadata (16 bytes per 4 KiB chunk, about
// 1/256) and a header chunk, rounded up to the VG's extents, so it can
// never fill and be dropped (lvm trims what is above its maximum).
func cowSize(v *lvm2.VG, n int64) int64 {
	c := n + n/128 + 1<<20
	if e := v.ExtentSize; e > 0 {
		c = (c + e - 1) / e * e
	}
	return c
}

// CreateSnapshot makes a read-only snapshot: a thin snapshot of a thin
// volume (admitted like a new thin volume of its size: it may diverge that
// far), or a classic snapshot of a thick one with COW space for the whole
// volume (cowSize).
func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error) {
	vol, err := b.splitVolumeID(volumeID)
	if err != nil {
		return nil, err
	}
	if err := validName("snapshot", name); err != nil {
		return nil, err
	}
	lv := snapLV(vol, name)
	if err := b.checkDMName("snapshot", lv); err != nil {
		return nil, err
	}
	_, v, err := b.check(ctx, need(plugin.TechSnapshot, plugin.ModeCreate))
	if err != nil {
		return nil, err
	}
	o := findLV(v, vol)
	if o == nil || !isVolume(o) {
		return nil, fmt.Errorf("%w: volume %s", plugin.ErrNotFound, volumeID)
	}
	if l := findLV(v, lv); l != nil {
		if hasTag(l.Tags, tagSnapshot) && l.Origin == vol {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: snapshot %s", plugin.ErrExists, b.snapID(vol, name))
	}
	spec := lvm2.SnapshotSpec{ReadOnly: true, Tags: []string{tagSnapshot, tagCreated + strconv.FormatInt(time.Now().UnixNano(), 10)}}
	opts := []lvm2.OpOption{lvm2.WithOpID("lvm.plugin.snapshot " + b.snapID(vol, name))}
	if o.Attr.Thin() {
		if err := b.admitThin(ctx, v, o.Pool, o.Size); err != nil {
			return nil, err
		}
		opts = append(opts, b.admitOpt(o.Pool, o.Size))
	} else {
		spec.SizeBytes = cowSize(v, o.Size)
		if spec.SizeBytes > v.Free {
			return nil, fmt.Errorf("%w: a classic snapshot of %s needs %d bytes, VG %s has %d free", plugin.ErrNoSpace, volumeID, spec.SizeBytes, b.vg, v.Free)
		}
	}
	op, err := b.m.SnapshotSpecOp(ctx, b.vg, vol, lv, spec, opts...)
	if err != nil {
		return nil, mapErr(err)
	}
	return wrap(op), nil
}

// DeleteSnapshot removes a snapshot's LV (its clones are independent LVs
// and stay).
func (b *Backend) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	vol, name, err := b.splitSnapshotID(snapshotID)
	if err != nil {
		return nil, err
	}
	caps, v, err := b.forDelete(ctx)
	if err != nil || v == nil {
		return nil, err
	}
	l := findLV(v, snapLV(vol, name))
	if l == nil {
		return nil, nil
	}
	if !hasTag(l.Tags, tagSnapshot) {
		return nil, fmt.Errorf("%w: LV %s/%s is not a snapshot of this backend", plugin.ErrInUse, b.vg, l.Name)
	}
	if err := require(caps, plugin.TechSnapshot, plugin.ModeRemove); err != nil {
		return nil, err
	}
	op, err := b.m.LVRemoveOp(ctx, b.vg, l.Name, lvm2.WithOpID("lvm.plugin.delete-snapshot "+snapshotID))
	if err != nil {
		return nil, mapErr(err)
	}
	return wrap(op), nil
}

var _ plugin.Backend = (*Backend)(nil)
