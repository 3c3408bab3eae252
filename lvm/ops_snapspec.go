package lvm

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// SnapshotSpec is what SnapshotSpecOp makes beyond SnapshotOp's defaults.
type SnapshotSpec struct {
	// SizeBytes is a classic snapshot's COW size; 0 on a thin origin makes
	// a thin snapshot.
	SizeBytes int64
	// ReadOnly creates the snapshot without write permission (-p r).
	ReadOnly bool
	// Activate clears a thin snapshot's skip-activation flag (-k n) and
	// activates it, which a clone meant for use needs; a classic snapshot
	// is always active with its origin.
	Activate bool
	Tags     []string
}

// SnapshotSpecOp is SnapshotOp with permissions, activation and tags in
// the same lvcreate, so a snapshot is never seen half made (untagged, or
// writable when it should not be). Its undo is lvremove; it is journaled
// as OpSnapshot, so RollForward settles it.
func (m *Manager) SnapshotSpecOp(ctx context.Context, vg, origin, name string, s SnapshotSpec, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	a := []string{"lvcreate", "-y"}
	switch {
	case !m.tool.driverLoaded:
		a = append(a, "-an")
	case s.Activate:
		a = append(a, "-kn", "-ay")
	}
	if s.ReadOnly {
		a = append(a, "-p", "r")
	} else {
		a = append(a, "-p", "rw")
	}
	if s.SizeBytes > 0 {
		a = append(a, "-L", bytesArg(s.SizeBytes))
	}
	for _, t := range s.Tags {
		a = append(a, "--addtag", t)
	}
	a = append(a, "-s", "-n", name, vg+"/"+origin)
	return m.vgOp(ctx, c, vgChange{kind: OpSnapshot, vg: vg, desc: fmt.Sprintf("snapshot %s/%s as %s", vg, origin, name),
		res: []sched.Resource{sched.VG(vg).LV(origin).Shared(), m.lvKey(vg, name)}, argv: a,
		inverse: []string{"lvremove", "-f", "-y", vg + "/" + name},
		preflight: func(_ context.Context, rep *Report) error {
			o := rep.LV(vg, origin)
			if o == nil {
				return fmt.Errorf("%w: LV %s/%s", ErrNotFound, vg, origin)
			}
			if rep.LV(vg, name) != nil {
				return fmt.Errorf("%w: LV %s/%s", ErrExists, vg, name)
			}
			if s.SizeBytes == 0 && !o.Attr.Thin() {
				return fmt.Errorf("lvm: a snapshot of non-thin LV %s/%s needs a size", vg, origin)
			}
			return nil
		}})
}

// LVTagsOp adds and deletes tags of an LV (lvchange --addtag/--deltag);
// its undo does the opposite. It is journaled as OpLVTags, which
// RollForward settles.
func (m *Manager) LVTagsOp(ctx context.Context, vg, lv string, add, del []string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	if len(add)+len(del) == 0 {
		return sched.Operation{}, fmt.Errorf("lvm: no tags to change on %s/%s", vg, lv)
	}
	argv, inv := []string{"lvchange", "-y"}, []string{"lvchange", "-y"}
	for _, t := range add {
		argv, inv = append(argv, "--addtag", t), append(inv, "--deltag", t)
	}
	for _, t := range del {
		argv, inv = append(argv, "--deltag", t), append(inv, "--addtag", t)
	}
	return m.vgOp(ctx, c, vgChange{kind: OpLVTags, vg: vg, desc: fmt.Sprintf("change the tags of %s/%s", vg, lv),
		res: []sched.Resource{m.lvKey(vg, lv)}, argv: append(argv, vg+"/"+lv), inverse: append(inv, vg+"/"+lv),
		preflight: func(_ context.Context, rep *Report) error {
			if rep.LV(vg, lv) == nil {
				return fmt.Errorf("%w: LV %s/%s", ErrNotFound, vg, lv)
			}
			return nil
		}})
}

// OpLVTags is LVTagsOp's journal kind.
const OpLVTags = "lvm.lvchange.tags"
