package lvm

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// LVType is the kind of LV to create.
type LVType string

const (
	LVLinear    LVType = "linear"
	LVStriped   LVType = "striped"
	LVRAID1     LVType = "raid1"
	LVThinPool  LVType = "thin-pool"
	LVThin      LVType = "thin"
	LVCachePool LVType = "cache-pool"
)

// LVSpec describes an LV to create.
type LVSpec struct {
	Name string
	Type LVType
	// SizeBytes is the size (the virtual size for LVThin).
	SizeBytes       int64
	Stripes         int
	StripeSizeBytes int64
	Mirrors         int
	// Pool is the thin pool of an LVThin.
	Pool string
	// MetadataBytes sizes a thin or cache pool's metadata LV (0: lvm's).
	MetadataBytes int64
	PVs           []string
	Tags          []string
}

// createFlags are lvcreate's non-interactive flags: wipe signatures and
// zero the start when device-mapper is there; without it (metadata only)
// nothing can be activated, zeroed or wiped.
func (m *Manager) createFlags() []string {
	if !m.tool.driverLoaded {
		return []string{"-y", "-an", "-Zn", "-Wn"}
	}
	return []string{"-y", "--wipesignatures", "y"}
}

func (m *Manager) lvKey(vg, lv string) sched.Resource { return sched.VG(vg).LV(lv).Exclusive() }

// LVCreateOp creates an LV of spec in vg; its undo is lvremove.
func (m *Manager) LVCreateOp(ctx context.Context, vg string, spec LVSpec, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	if spec.Name == "" || spec.SizeBytes <= 0 {
		return sched.Operation{}, fmt.Errorf("lvm: an LV needs a name and a size")
	}
	a := []string{"lvcreate"}
	switch spec.Type {
	case LVLinear, "", LVStriped, LVRAID1:
		a = append(a, m.createFlags()...)
	default:
		// Pools and thin LVs take neither --wipesignatures nor -Z (lvm
		// refuses them): a new pool is empty and a thin LV reads zeros.
		a = append(a, "-y")
		if !m.tool.driverLoaded {
			a = append(a, "-an")
		}
	}
	switch spec.Type {
	case LVLinear, "":
		a = append(a, "-L", bytesArg(spec.SizeBytes))
	case LVStriped:
		n := spec.Stripes
		if n < 2 {
			n = 2
		}
		a = append(a, "-L", bytesArg(spec.SizeBytes), "-i", strconv.Itoa(n))
		if spec.StripeSizeBytes > 0 {
			a = append(a, "-I", bytesArg(spec.StripeSizeBytes))
		}
	case LVRAID1:
		n := spec.Mirrors
		if n < 1 {
			n = 1
		}
		a = append(a, "--type", "raid1", "-m", strconv.Itoa(n), "-L", bytesArg(spec.SizeBytes))
	case LVThinPool, LVCachePool:
		a = append(a, "--type", string(spec.Type), "-L", bytesArg(spec.SizeBytes))
		if spec.MetadataBytes > 0 {
			a = append(a, "--poolmetadatasize", bytesArg(spec.MetadataBytes))
		}
	case LVThin:
		if spec.Pool == "" {
			return sched.Operation{}, fmt.Errorf("lvm: a thin LV needs its pool")
		}
		a = append(a, "--type", "thin", "-V", bytesArg(spec.SizeBytes), "--thinpool", spec.Pool)
	default:
		return sched.Operation{}, fmt.Errorf("lvm: LV type %q", spec.Type)
	}
	for _, t := range spec.Tags {
		a = append(a, "--addtag", t)
	}
	a = append(append(a, "-n", spec.Name, vg), spec.PVs...)
	res, err := m.diskKeys(c, spec.PVs)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpLVCreate, vg: vg, desc: fmt.Sprintf("create %s LV %s/%s", spec.Type, vg, spec.Name),
		res: append(res, m.lvKey(vg, spec.Name)), argv: a, inverse: []string{"lvremove", "-f", "-y", vg + "/" + spec.Name}})
}

// LVResizeOp is filesystem-aware: a reduce shrinks the filesystem first
// through fsys (refused below its MinSize, and for xfs), an extend grows it
// after. A reduce of an origin with snapshots is refused, and so is a
// reduce whose filesystem cannot be read (an inactive LV) unless
// CodeFsUnknown is overridden.
func (m *Manager) LVResizeOp(ctx context.Context, vg, lv string, newBytes int64, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	rep, err := m.tool.Inventory(ctx)
	if err != nil && rep == nil {
		return sched.Operation{}, err
	}
	l := rep.LV(vg, lv)
	if l == nil {
		return sched.Operation{}, fmt.Errorf("%w: LV %s/%s", ErrNotFound, vg, lv)
	}
	reduce := newBytes < l.Size
	dev := l.Path
	active := l.Attr.Active()
	if _, err := os.Stat(dev); err != nil {
		active = false
	}
	hasFS := false
	if active && m.fs != nil {
		if info, err := m.fs.Inspect(ctx, dev); err == nil && info.Type != "" {
			hasFS = true
		}
	}
	ch := vgChange{kind: OpLVResize, vg: vg, desc: fmt.Sprintf("resize LV %s/%s from %d to %d bytes", vg, lv, l.Size, newBytes),
		res: []sched.Resource{m.lvKey(vg, lv)}, argv: []string{"lvresize", "-y", "-f", "-L", bytesArg(newBytes), vg + "/" + lv},
		inverse: []string{"lvresize", "-y", "-f", "-L", bytesArg(l.Size), vg + "/" + lv}}
	if reduce {
		for _, o := range rep.VG(vg).LVs {
			if o.Origin == lv {
				if err := c.refuse(CodeHasSnapshots, "LV %s/%s has snapshot %s", vg, lv, o.Name); err != nil {
					return sched.Operation{}, err
				}
			}
		}
		if !hasFS {
			if err := c.refuse(CodeFsUnknown, "LV %s/%s is not active or no filesystem manager: its filesystem cannot be checked", vg, lv); err != nil {
				return sched.Operation{}, err
			}
		} else {
			if _, _, err := m.fs.PlanResize(ctx, dev, newBytes); err != nil {
				if c.overridden(CodeFsShrink) {
					hasFS = false
				} else {
					return sched.Operation{}, &RefusedError{Code: CodeFsShrink, Reason: err.Error()}
				}
			}
			if hasFS {
				ch.before = func(ctx context.Context) error { _, err := m.fs.Resize(ctx, dev, newBytes, nil); return err }
			}
		}
	} else if hasFS {
		ch.after = func(ctx context.Context) error { _, err := m.fs.Resize(ctx, dev, newBytes, nil); return err }
	}
	return m.vgOp(ctx, c, ch)
}

// LVRenameOp renames an LV; its undo renames it back.
func (m *Manager) LVRenameOp(ctx context.Context, vg, lv, newName string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpLVRename, vg: vg, desc: "rename LV " + vg + "/" + lv + " to " + newName,
		res:  []sched.Resource{m.lvKey(vg, lv), m.lvKey(vg, newName)},
		argv: []string{"lvrename", vg, lv, newName}, inverse: []string{"lvrename", vg, newName, lv}})
}

// LVRemoveOp removes an LV, refused while it is open; its undo restores
// the metadata backup (the data of a removed thin LV cannot come back, so
// that is refused for thin VGs unless overridden).
func (m *Manager) LVRemoveOp(ctx context.Context, vg, lv string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpLVRemove, vg: vg, desc: "remove LV " + vg + "/" + lv,
		res: []sched.Resource{m.lvKey(vg, lv)}, argv: []string{"lvremove", "-f", "-y", vg + "/" + lv},
		preflight: func(_ context.Context, rep *Report) error {
			l := rep.LV(vg, lv)
			if l == nil {
				return fmt.Errorf("%w: LV %s/%s", ErrNotFound, vg, lv)
			}
			if l.Attr.IsOpen() {
				return c.refuse(CodeOpen, "LV %s/%s is open", vg, lv)
			}
			return nil
		}})
}

// ActivateOp activates (or deactivates) an LV; its undo does the opposite.
func (m *Manager) ActivateOp(ctx context.Context, vg, lv string, active bool, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	on, off := "-ay", "-an"
	if !active {
		on, off = off, on
	}
	ch := vgChange{kind: OpActivate, vg: vg, desc: fmt.Sprintf("lvchange %s %s/%s", on, vg, lv),
		res: []sched.Resource{m.lvKey(vg, lv)}, argv: []string{"lvchange", "-y", on, "-K", vg + "/" + lv},
		inverse: []string{"lvchange", "-y", off, "-K", vg + "/" + lv}}
	if !active {
		ch.preflight = func(_ context.Context, rep *Report) error {
			if l := rep.LV(vg, lv); l != nil && l.Attr.IsOpen() {
				return c.refuse(CodeOpen, "LV %s/%s is open", vg, lv)
			}
			return nil
		}
	}
	return m.vgOp(ctx, c, ch)
}
