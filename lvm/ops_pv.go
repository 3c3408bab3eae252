package lvm

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Journal kinds of lvm mutations.
const (
	OpPVCreate    = "lvm.pvcreate"
	OpPVResize    = "lvm.pvresize"
	OpPVRemove    = "lvm.pvremove"
	OpVGCreate    = "lvm.vgcreate"
	OpVGExtend    = "lvm.vgextend"
	OpVGReduce    = "lvm.vgreduce"
	OpVGRename    = "lvm.vgrename"
	OpVGRemove    = "lvm.vgremove"
	OpLVCreate    = "lvm.lvcreate"
	OpLVResize    = "lvm.lvresize"
	OpLVRename    = "lvm.lvrename"
	OpLVRemove    = "lvm.lvremove"
	OpActivate    = "lvm.activate"
	OpSnapshot    = "lvm.snapshot"
	OpMerge       = "lvm.merge"
	OpThinExtend  = "lvm.thinpool.extend"
	OpCacheAttach = "lvm.cache.attach"
	OpCacheDetach = "lvm.cache.detach"
)

// labelRange is what pvcreate and pvremove write: the label (sector 1) and
// the first metadata area, inside the first MiB. It is saved as the
// before-image, so undoing either leaves the device reading as before.
var labelRange = []safety.Range{{Offset: 0, Length: 1 << 20}}

// PVCreateOp makes dev a PV. Preflight is safety's format check: dev must
// be positively blank (no signature, not mounted, unused...); pvcreate runs
// with -y and without --force.
func (m *Manager) PVCreateOp(ctx context.Context, dev string, opts ...OpOption) (sched.Operation, error) {
	return m.pvOp(dev, OpPVCreate, safety.OpFormat, "make "+dev+" an LVM physical volume",
		[]string{"pvcreate", "-y", dev}, opts)
}

// PVRemoveOp wipes the PV label of dev; a PV still in a VG is refused.
func (m *Manager) PVRemoveOp(ctx context.Context, dev string, opts ...OpOption) (sched.Operation, error) {
	return m.pvOp(dev, OpPVRemove, "", "remove the LVM label of "+dev, []string{"pvremove", "-y", dev}, opts)
}

func (m *Manager) pvOp(dev, kind string, pre safety.Op, desc string, argv []string, opts []OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	res, err := m.diskKeys(c, []string{dev})
	if err != nil {
		return sched.Operation{}, err
	}
	g := safety.Guarded{
		Op:            sched.Operation{ID: idOr(c, kind+" "+dev), Kind: kind, Dependencies: c.deps, Resources: res},
		Target:        dev,
		Preflight:     pre,
		PreflightOpts: m.checkOpts(c),
		Intent:        safety.Intent{Description: desc, Ranges: labelRange},
		// pvcreate's own label must not refuse its undo as an LVM member.
		RollbackAllows: []safety.Code{safety.CodeLVMMember},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, _ sched.Progress) error {
			if kind == OpPVRemove {
				rep, err := m.tool.Inventory(ctx)
				if err != nil && rep == nil {
					return err
				}
				for _, pv := range rep.PVs {
					if pv.Name == dev && pv.VGName != "" {
						if err := c.refuse(CodeNotOrphan, "%s belongs to VG %s; vgreduce it first", dev, pv.VGName); err != nil {
							return err
						}
					}
				}
			}
			if err := m.tool.Run(ctx, argv[0], argv[1:]...); err != nil {
				return err
			}
			return m.step(ctx, mut, kind, "written", "")
		},
	}
	return safety.Guard(m.journal, g)
}

// PVResizeOp sets the PV's size (0: the device's) — a VG metadata change
// when the PV is in a VG; its undo is vgcfgrestore of the metadata backed
// up before. A size below the end of the PV's last allocated extent is
// refused (CodePVShrink, naming the LV there), and so is one beyond the
// device (CodePVBeyondDevice); neither can be overridden.
func (m *Manager) PVResizeOp(ctx context.Context, dev string, newBytes int64, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	if newBytes < 0 {
		return sched.Operation{}, fmt.Errorf("lvm: pvresize %s to %d bytes", dev, newBytes)
	}
	rep, err := m.tool.Inventory(ctx)
	if err != nil && rep == nil {
		return sched.Operation{}, err
	}
	vg := ""
	for _, pv := range rep.PVs {
		if pv.Name == dev {
			vg = pv.VGName
		}
	}
	if vg == "" {
		return sched.Operation{}, fmt.Errorf("%w: %s is not a PV in a VG", ErrNotFound, dev)
	}
	argv := []string{"pvresize", "-y"}
	if newBytes > 0 {
		argv = append(argv, "--setphysicalvolumesize", bytesArg(newBytes))
	}
	res, err := m.diskKeys(c, []string{dev})
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpPVResize, vg: vg, desc: "resize PV " + dev, res: res, argv: append(argv, dev),
		preflight: func(_ context.Context, rep *Report) error { return pvResizeCheck(rep, vg, dev, newBytes) }})
}

// pvResizeCheck refuses a PV size that would cut off allocated extents or
// reach past the device.
func pvResizeCheck(rep *Report, vg, dev string, newBytes int64) error {
	v := rep.VG(vg)
	if v == nil {
		return fmt.Errorf("%w: VG %s", ErrNotFound, vg)
	}
	var p *PV
	for _, x := range v.PVs {
		if x.Name == dev {
			p = x
		}
	}
	if p == nil {
		return fmt.Errorf("%w: PV %s in VG %s", ErrNotFound, dev, vg)
	}
	if newBytes == 0 {
		return nil
	}
	if p.DevSize > 0 && newBytes > p.DevSize {
		return &RefusedError{Code: CodePVBeyondDevice, Reason: fmt.Sprintf("%s is %d bytes; a PV of %d bytes would reach past it", dev, p.DevSize, newBytes)}
	}
	var end int64
	var lv string
	for _, s := range p.Segments {
		if s.LVUUID != "" && s.StartExtent+s.Extents > end {
			end, lv = s.StartExtent+s.Extents, s.LV
		}
	}
	if need := p.PEStart + end*v.ExtentSize; end > 0 && newBytes < need {
		return &RefusedError{Code: CodePVShrink, Reason: fmt.Sprintf("%s: extents up to %d are allocated (LV %s): it needs at least %d bytes, not %d",
			dev, end, lv, need, newBytes)}
	}
	return nil
}
