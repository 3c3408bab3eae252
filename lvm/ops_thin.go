package lvm

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// SnapshotOp: sizeBytes 0 on a thin origin makes a thin snapshot; otherwise
// a classic (thick, COW) snapshot of that size. Its undo is lvremove. It is
// SnapshotSpecOp with lvm's defaults (writable, a thin one skipped at
// activation).
func (m *Manager) SnapshotOp(ctx context.Context, vg, origin, name string, sizeBytes int64, opts ...OpOption) (sched.Operation, error) {
	return m.SnapshotSpecOp(ctx, vg, origin, name, SnapshotSpec{SizeBytes: sizeBytes}, opts...)
}

// MergeSnapshotOp merges a snapshot back into its origin (lvconvert
// --merge; deferred by lvm to the next activation while the origin is
// open). A merge cannot be undone once it started: a failure is settled
// from the metadata backup.
func (m *Manager) MergeSnapshotOp(ctx context.Context, vg, snapshot string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpMerge, vg: vg, desc: "merge snapshot " + vg + "/" + snapshot,
		res: []sched.Resource{m.lvKey(vg, snapshot)}, argv: []string{"lvconvert", "-y", "--merge", vg + "/" + snapshot}})
}

// ThinPoolExtendOp sets the pool's data and metadata sizes (0 keeps one).
// Pools do not shrink, so there is no inverse; a failure is settled from
// the seqno (and vgcfgrestore only when overridden, as for every thin VG).
func (m *Manager) ThinPoolExtendOp(ctx context.Context, vg, pool string, dataBytes, metaBytes int64, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	if dataBytes > 0 && metaBytes > 0 {
		return sched.Operation{}, fmt.Errorf("lvm: extend data and metadata in two operations")
	}
	var argv []string
	switch {
	case dataBytes > 0:
		argv = []string{"lvextend", "-y", "-L", bytesArg(dataBytes), vg + "/" + pool}
	case metaBytes > 0:
		argv = []string{"lvextend", "-y", "--poolmetadatasize", bytesArg(metaBytes), vg + "/" + pool}
	default:
		return sched.Operation{}, fmt.Errorf("lvm: nothing to extend")
	}
	return m.vgOp(ctx, c, vgChange{kind: OpThinExtend, vg: vg, desc: "extend thin pool " + vg + "/" + pool,
		res: []sched.Resource{m.lvKey(vg, pool)}, argv: argv})
}

// GrowPool extends a thin pool's data and then its metadata (0 keeps one):
// the thin-pool policy's adapter.
func (m *Manager) GrowPool(ctx context.Context, vg, pool string, dataBytes, metaBytes int64) error {
	if dataBytes > 0 {
		op, err := m.ThinPoolExtendOp(ctx, vg, pool, dataBytes, 0)
		if err != nil {
			return err
		}
		if err := runOp(ctx, op); err != nil {
			return err
		}
	}
	if metaBytes > 0 {
		op, err := m.ThinPoolExtendOp(ctx, vg, pool, 0, metaBytes)
		if err != nil {
			return err
		}
		return runOp(ctx, op)
	}
	return nil
}
