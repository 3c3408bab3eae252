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

// roundSize checks n and rounds it up to the VG's extents (at least lvm's
// default 4 MiB, which Limits reports).
func roundSize(v *lvm2.VG, field string, n int64) (int64, error) {
	size, err := plugin.RoundSize(limits, field, n)
	if err != nil {
		return 0, err
	}
	if e := v.ExtentSize; e > granularity {
		if size > (1<<62)-e {
			return 0, &plugin.InvalidError{Field: field, Value: fmt.Sprint(n), Reason: "too large"}
		}
		size = (size + e - 1) / e * e
	}
	return size, nil
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
// an operation it depends on.
func lazy(id, kind string, deps []string, res []sched.Resource, build func(ctx context.Context) (sched.Operation, error)) sched.Operation {
	var built sched.Operation
	return sched.Operation{ID: id, Kind: kind, Dependencies: deps, Resources: res,
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

// admitThin checks n more bytes of thin virtual size against the policy,
// or against the ratio when there is none.
func (b *Backend) admitThin(ctx context.Context, v *lvm2.VG, tp *lvm2.LV, n int64) error {
	if b.policy != nil {
		if err := b.policy.Admit(ctx, b.vg, tp.Name, n); err != nil {
			return mapErr(err)
		}
		return nil
	}
	virt := thinVirtual(v, tp.Name) + n
	if limit := int64(b.ratioNow() * float64(tp.Size)); virt > limit {
		return fmt.Errorf("%w: thin volumes would total %d bytes on the %d bytes of thin pool %s/%s (over-provisioning limit %.2f)",
			plugin.ErrNoSpace, virt, tp.Size, b.vg, tp.Name, b.ratioNow())
	}
	return nil
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
// snapshot's clone is a new LV the snapshot's bytes are copied into.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if err := validName("name", req.Name); err != nil {
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
	var snapVol string
	if req.FromSnapshot != "" {
		if err := require(caps, plugin.TechClone, plugin.ModeCreate); err != nil {
			return nil, err
		}
		vol, sn, err := b.splitSnapshotID(req.FromSnapshot)
		if err != nil {
			return nil, err
		}
		if snap = findLV(v, snapLV(vol, sn)); snap == nil || !hasTag(snap.Tags, tagSnapshot) {
			return nil, fmt.Errorf("%w: snapshot %s", plugin.ErrNotFound, req.FromSnapshot)
		}
		snapVol = vol
		tags = append(tags, encodeTag(tagFrom, req.FromSnapshot))
		thin = snap.Attr.Thin()
	}
	if l := findLV(v, req.Name); l != nil {
		got := b.volume(v, l)
		if isVolume(l) && got.SizeBytes == size && got.Thin == thin && got.SnapshotOf == req.FromSnapshot {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: LV %s/%s (%d bytes, thin %v, from %q)", plugin.ErrExists, b.vg, req.Name, l.Size, l.Attr.Thin(), got.SnapshotOf)
	}
	var tp *lvm2.LV
	if thin {
		if err := require(caps, plugin.TechThin, plugin.ModeCreate); err != nil {
			return nil, err
		}
		tp = b.thinPoolLV(v)
		if snap != nil {
			// A thin clone lives in its snapshot's pool.
			if tp = findLV(v, snap.Pool); tp == nil || !tp.Attr.ThinPool() {
				return nil, fmt.Errorf("%w: thin pool %s/%s of snapshot %s", plugin.ErrNotFound, b.vg, snap.Pool, req.FromSnapshot)
			}
		}
	}
	id := "lvm.plugin.create " + b.volID(req.Name)
	switch {
	case snap != nil && thin:
		// The clone has the snapshot's virtual size; a larger request
		// grows it after.
		srcSize := snap.Size
		if size < srcSize {
			return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: fmt.Sprintf("smaller than the snapshot's %d bytes", srcSize)}
		}
		if err := b.admitThin(ctx, v, tp, size); err != nil {
			return nil, err
		}
		op, err := b.m.SnapshotSpecOp(ctx, b.vg, snap.Name, req.Name, lvm2.SnapshotSpec{Activate: true, Tags: tags}, lvm2.WithOpID(id))
		if err != nil {
			return nil, mapErr(err)
		}
		ops := []sched.Operation{op}
		if size > srcSize {
			ops = append(ops, b.lazyResize(req.Name, size, id))
		}
		return wrap(ops...), nil
	case snap != nil:
		origin := findLV(v, snapVol)
		srcSize := snap.Size
		if origin != nil {
			srcSize = origin.Size
		}
		if size < srcSize {
			return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: fmt.Sprintf("smaller than the snapshot's %d bytes", srcSize)}
		}
		if size > v.Free {
			return nil, fmt.Errorf("%w: %d bytes asked, VG %s has %d free", plugin.ErrNoSpace, size, b.vg, v.Free)
		}
		op, err := b.m.LVCreateOp(ctx, b.vg, lvm2.LVSpec{Name: req.Name, Type: lvm2.LVLinear, SizeBytes: size, Tags: tags}, lvm2.WithOpID(id))
		if err != nil {
			return nil, mapErr(err)
		}
		return wrap(op, b.copyOp(snap, req.Name, srcSize, id)), nil
	case thin:
		if err := b.admitThin(ctx, v, tp, size); err != nil {
			return nil, err
		}
		op, err := b.m.LVCreateOp(ctx, b.vg, lvm2.LVSpec{Name: req.Name, Type: lvm2.LVThin, SizeBytes: size, Pool: tp.Name, Tags: tags}, lvm2.WithOpID(id))
		if err != nil {
			return nil, mapErr(err)
		}
		return wrap(op), nil
	default:
		if size > v.Free {
			return nil, fmt.Errorf("%w: %d bytes asked, VG %s has %d free", plugin.ErrNoSpace, size, b.vg, v.Free)
		}
		op, err := b.m.LVCreateOp(ctx, b.vg, lvm2.LVSpec{Name: req.Name, Type: lvm2.LVLinear, SizeBytes: size, Tags: tags}, lvm2.WithOpID(id))
		if err != nil {
			return nil, mapErr(err)
		}
		return wrap(op), nil
	}
}

// lazyResize grows LV name to size once the operation dep made it.
func (b *Backend) lazyResize(name string, size int64, dep string) sched.Operation {
	id := "lvm.plugin.resize " + b.volID(name)
	return lazy(id, lvm2.OpLVResize, []string{dep}, []sched.Resource{b.lvRes(name, true)}, func(ctx context.Context) (sched.Operation, error) {
		return b.m.LVResizeOp(ctx, b.vg, name, size, lvm2.WithOpID(id+" (lvresize)"))
	})
}

// copyOp copies n bytes of the classic snapshot's device into LV dst (made
// by the operation dep), and flushes them. A failure leaves dst partly
// written; the plan's rollback of dep removes it.
func (b *Backend) copyOp(snap *lvm2.LV, dst string, n int64, dep string) sched.Operation {
	return sched.Operation{ID: "lvm.plugin.copy " + b.volID(dst), Kind: OpCopy, Dependencies: []string{dep},
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
// volumes), or shrinks it: a filesystem on it is shrunk first through
// fsys (refused below its minimum, and for xfs); a volume holding
// anything the probe recognises but fsys cannot shrink is refused, and
// only a volume holding nothing recognisable is cut without a check.
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
		blank, err := holdsNothing(ctx, l.Path)
		if err != nil {
			return nil, err
		}
		if blank {
			opts = append(opts, lvm2.WithOverride(lvm2.CodeFsUnknown, "the volume holds nothing the probe recognises", "plugin/lvm"))
		}
	case l.Attr.Thin():
		tp := findLV(v, l.Pool)
		if tp == nil {
			return nil, fmt.Errorf("%w: thin pool %s/%s", plugin.ErrNotFound, b.vg, l.Pool)
		}
		if err := b.admitThin(ctx, v, tp, size-l.Size); err != nil {
			return nil, err
		}
	case size-l.Size > v.Free:
		return nil, fmt.Errorf("%w: %d more bytes asked, VG %s has %d free", plugin.ErrNoSpace, size-l.Size, b.vg, v.Free)
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

// DeleteVolume removes a volume's LV, refused (ErrInUse) while it is open
// or has classic snapshots (which cannot outlive their origin); thin
// snapshots stay, and are still listed by their IDs.
func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	caps, v, err := b.capabilities(ctx)
	if err != nil {
		return nil, err
	}
	var l *lvm2.LV
	if v != nil {
		l = findLV(v, name)
	}
	if l == nil {
		return nil, nil
	}
	if !isVolume(l) {
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

// CreateSnapshot makes a read-only snapshot: a thin snapshot of a thin
// volume, or a classic snapshot of a thick one with COW space of the
// volume's whole size (so it can never overflow and drop).
func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error) {
	vol, err := b.splitVolumeID(volumeID)
	if err != nil {
		return nil, err
	}
	if err := validName("snapshot", name); err != nil {
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
	lv := snapLV(vol, name)
	if l := findLV(v, lv); l != nil {
		if hasTag(l.Tags, tagSnapshot) && l.Origin == vol {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: snapshot %s", plugin.ErrExists, b.snapID(vol, name))
	}
	spec := lvm2.SnapshotSpec{ReadOnly: true, Tags: []string{tagSnapshot, tagCreated + strconv.FormatInt(time.Now().UnixNano(), 10)}}
	if !o.Attr.Thin() {
		spec.SizeBytes = o.Size
		if o.Size > v.Free {
			return nil, fmt.Errorf("%w: a classic snapshot of %s needs %d bytes, VG %s has %d free", plugin.ErrNoSpace, volumeID, o.Size, b.vg, v.Free)
		}
	}
	op, err := b.m.SnapshotSpecOp(ctx, b.vg, vol, lv, spec, lvm2.WithOpID("lvm.plugin.snapshot "+b.snapID(vol, name)))
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
	caps, v, err := b.capabilities(ctx)
	if err != nil {
		return nil, err
	}
	var l *lvm2.LV
	if v != nil {
		l = findLV(v, snapLV(vol, name))
	}
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
