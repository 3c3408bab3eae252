package lvm

import (
	"context"
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// VGOptions for VGCreateOp.
type VGOptions struct {
	ExtentBytes int64
	Tags        []string
}

// VGCreateOp creates VG name on pvs; its undo is vgremove.
func (m *Manager) VGCreateOp(ctx context.Context, name string, pvs []string, o VGOptions, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	if name == "" || len(pvs) == 0 {
		return sched.Operation{}, fmt.Errorf("lvm: vgcreate needs a name and PVs")
	}
	res, err := m.diskKeys(c, pvs)
	if err != nil {
		return sched.Operation{}, err
	}
	argv := []string{"vgcreate", "-y"}
	if o.ExtentBytes > 0 {
		argv = append(argv, "-s", bytesArg(o.ExtentBytes))
	}
	for _, t := range o.Tags {
		argv = append(argv, "--addtag", t)
	}
	argv = append(append(argv, name), pvs...)
	return m.vgOp(ctx, c, vgChange{kind: OpVGCreate, vg: name, desc: "create VG " + name, res: res, argv: argv, create: true,
		preflight: func(_ context.Context, rep *Report) error {
			if rep.VG(name) != nil {
				return fmt.Errorf("%w: VG %s", ErrExists, name)
			}
			return nil
		}})
}

// VGExtendOp adds pvs to vg; its undo is vgreduce.
func (m *Manager) VGExtendOp(ctx context.Context, vg string, pvs []string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	res, err := m.diskKeys(c, pvs)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpVGExtend, vg: vg, desc: "add " + strings.Join(pvs, ",") + " to VG " + vg, res: res,
		argv: append([]string{"vgextend", "-y", vg}, pvs...), inverse: append([]string{"vgreduce", vg}, pvs...)})
}

// VGReduceOp removes unused pvs from vg; its undo is vgextend.
func (m *Manager) VGReduceOp(ctx context.Context, vg string, pvs []string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	res, err := m.diskKeys(c, pvs)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpVGReduce, vg: vg, desc: "remove " + strings.Join(pvs, ",") + " from VG " + vg, res: res,
		argv: append([]string{"vgreduce", vg}, pvs...), inverse: append([]string{"vgextend", "-y", vg}, pvs...)})
}

// VGRenameOp renames vg; its undo renames it back.
func (m *Manager) VGRenameOp(ctx context.Context, vg, newName string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpVGRename, vg: vg, newVG: newName, desc: "rename VG " + vg + " to " + newName,
		res:  []sched.Resource{sched.VG(newName).Exclusive()},
		argv: []string{"vgrename", vg, newName}, inverse: []string{"vgrename", newName, vg},
		preflight: func(_ context.Context, rep *Report) error {
			if rep.VG(newName) != nil {
				return fmt.Errorf("%w: VG %s", ErrExists, newName)
			}
			return nil
		}})
}

// VGRemoveOp removes vg, refused while any of its LVs is open; its undo
// restores the metadata backup (vgcfgrestore).
func (m *Manager) VGRemoveOp(ctx context.Context, vg string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpVGRemove, vg: vg, desc: "remove VG " + vg,
		argv: []string{"vgremove", "-f", "-y", vg},
		preflight: func(_ context.Context, rep *Report) error {
			v := rep.VG(vg)
			if v == nil {
				return fmt.Errorf("%w: VG %s", ErrNotFound, vg)
			}
			for _, l := range v.LVs {
				// A thin pool (and its hidden sub-LVs) is open because its
				// own active thin LVs hold it; those are checked themselves.
				if l.Attr.IsOpen() && !l.Attr.ThinPool() && !strings.HasPrefix(l.Name, "[") {
					if err := c.refuse(CodeOpen, "LV %s/%s is open", vg, l.Name); err != nil {
						return err
					}
				}
			}
			return nil
		}})
}
