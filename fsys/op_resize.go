package fsys

import (
	"context"
	"errors"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpResize is the journal's kind for a resize.
const OpResize = "fsys.resize"

// ResizePlan is how Resize will change a filesystem, decided before
// anything is touched.
type ResizePlan struct {
	Device     string     `json:"device"`
	Type       Type       `json:"type"`
	UUID       string     `json:"uuid"`
	Mountpoint string     `json:"mountpoint,omitempty"` // "" for offline
	From       int64      `json:"from_bytes"`           // the filesystem's size now (btrfs: on this device)
	To         int64      `json:"to_bytes"`             // rounded down to whole blocks
	Capability Capability `json:"capability"`           // online_grow, offline_shrink, ...
	MinSize    int64      `json:"min_size_bytes,omitempty"`
	Way        string     `json:"way"` // how: the ioctl or the tools
}

// Grow reports whether the plan grows the filesystem.
func (p *ResizePlan) Grow() bool { return p.To > p.From }

// sizeOnDevice is the filesystem's size on dev: for btrfs the member's
// share, for the others the whole filesystem.
func sizeOnDevice(info *Info, dev string) int64 {
	if Type(info.Type) != Btrfs || info.NumDevices <= 1 {
		return info.SizeBytes
	}
	want, err := rdevOf(dev)
	for _, d := range info.Devices {
		if d.Path != "" && err == nil {
			if got, e := rdevOf(d.Path); e == nil && got == want {
				return d.TotalBytes
			}
		} else if d.ID == info.DevID {
			return d.TotalBytes
		}
	}
	return info.SizeBytes
}

// PlanResize decides how dev's filesystem would be resized to newBytes and
// refuses, with a *RefusedError, a direction or mode the matrix forbids (an
// XFS shrink, an ext online shrink, a size below the minimum or beyond the
// device), or a *NotSupportedError when a tool is missing. It writes
// nothing.
func (m *Manager) PlanResize(ctx context.Context, dev string, newBytes int64) (*ResizePlan, *Info, error) {
	if newBytes <= 0 {
		return nil, nil, fmt.Errorf("%w: new size %d", ErrInvalid, newBytes)
	}
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return nil, nil, err
	}
	t := Type(info.Type)
	f, err := m.Features(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	p := &ResizePlan{Device: dev, Type: t, UUID: info.UUID, From: sizeOnDevice(info, dev)}
	bs := info.BlockSize
	if bs <= 0 {
		bs = 4096
	}
	p.To = newBytes / bs * bs
	if newBytes > info.DeviceBytes {
		return nil, nil, &RefusedError{Code: "exceeds_device",
			Reason: fmt.Sprintf("%d bytes asked, %s has %d", newBytes, dev, info.DeviceBytes)}
	}
	// The mountpoint first: a resize of a mounted filesystem to its own
	// size is nothing to do online, not an offline resize preflight would
	// refuse as mounted.
	mounted := info.Mounted()
	if mounted && len(info.Mountpoints) > 0 {
		p.Mountpoint = info.Mountpoints[0]
	}
	if p.To == p.From {
		p.Capability = ""
		return p, info, nil
	}
	switch {
	case mounted && p.Grow():
		p.Capability = CapOnlineGrow
	case mounted:
		p.Capability = CapOnlineShrink
	case p.Grow():
		p.Capability = CapOfflineGrow
	default:
		p.Capability = CapOfflineShrink
	}
	if t == Swap {
		return nil, nil, &RefusedError{Code: "not_resizable", Reason: "swap is remade, not resized"}
	}
	if !f.Has(p.Capability) {
		code := "shrink_not_supported"
		switch {
		case p.Capability == CapOnlineShrink && f.Has(CapOfflineShrink):
			code = "online_shrink_not_supported"
		case p.Capability == CapOfflineGrow && f.Has(CapOnlineGrow), p.Capability == CapOfflineShrink && f.Has(CapOnlineShrink):
			code = "needs_mount"
		case p.Grow():
			code = "grow_not_supported"
		}
		return nil, nil, &RefusedError{Code: code, Reason: fmt.Sprintf("%s: %s: %s", t, p.Capability, f.Caps[p.Capability].Note)}
	}
	if err := f.Available(p.Capability); err != nil {
		return nil, nil, err
	}
	p.Way = f.Caps[p.Capability].Note
	if smallest := max(f.SmallestBytes, f.ResizeMinBytes); p.To < smallest {
		return nil, nil, &RefusedError{Code: "below_min_size",
			Reason: fmt.Sprintf("%d bytes is smaller than the smallest %s filesystem a resize may reach (%d)", p.To, t, smallest)}
	}
	if !p.Grow() {
		if err := f.Available(CapMinSize); err != nil {
			return nil, nil, err
		}
		d, err := m.Driver(t)
		if err != nil {
			return nil, nil, err
		}
		min, err := d.MinSize(ctx, dev, p.Mountpoint)
		if err != nil {
			return nil, nil, fmt.Errorf("fsys: minimum size of %s: %w", dev, err)
		}
		p.MinSize = min
		if p.To < min {
			return nil, nil, &RefusedError{Code: "below_min_size",
				Reason: fmt.Sprintf("%d bytes is below the minimum of %d for the data on %s", p.To, min, dev)}
		}
	}
	return p, info, nil
}

// MinSize is the smallest size dev's filesystem can be shrunk to.
func (m *Manager) MinSize(ctx context.Context, dev string) (int64, error) {
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return 0, err
	}
	t := Type(info.Type)
	f, err := m.Features(ctx, t)
	if err != nil {
		return 0, err
	}
	if err := f.Available(CapMinSize); err != nil {
		return 0, err
	}
	d, err := m.Driver(t)
	if err != nil {
		return 0, err
	}
	mp := ""
	if len(info.Mountpoints) > 0 {
		mp = info.Mountpoints[0]
	}
	return d.MinSize(ctx, dev, mp)
}

// ResizeOp returns the operation that resizes dev's filesystem to newBytes
// as PlanResize decided: online by ioctl when mounted, offline (ext:
// e2fsck -f then resize2fs; xfs and btrfs: through a private temporary
// mount) when not. The plan is decided again at each attempt, and an
// attempt whose plan changed (mounted meanwhile, resized by someone else)
// fails before touching anything. Each step is journaled; a failed resize
// is followed by a read-only check, and a target that is not consistent
// afterwards is locked down.
func (m *Manager) ResizeOp(ctx context.Context, dev string, newBytes int64, opts ...OpOption) (sched.Operation, *ResizePlan, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, nil, err
	}
	plan, _, err := m.PlanResize(ctx, dev, newBytes)
	if err != nil {
		return sched.Operation{}, nil, err
	}
	key, err := m.targetKey(dev, c)
	if err != nil {
		return sched.Operation{}, nil, err
	}
	d, err := m.Driver(plan.Type)
	if err != nil {
		return sched.Operation{}, nil, err
	}
	online := plan.Mountpoint != ""
	res := []sched.Resource{key.Exclusive()}
	pre := safety.OpOnline // mounted: everything but the mount still refuses
	if online {
		// The device stays in use by its mount: others may read the disk,
		// nobody may change the filesystem or its mounts meanwhile.
		res = []sched.Resource{key.Shared(), key.Filesystem().Exclusive(), sched.MountPath(plan.Mountpoint).Shared()}
	} else {
		pre = safety.OpResize // unused: not mounted, no holders, nobody has it open
	}
	if plan.Type == Btrfs && plan.UUID != "" {
		// A btrfs spans devices: a resize of one member must not overlap a
		// balance, scrub, device change or resize of the same filesystem
		// through another member, which fsys/btrfs claims by this key.
		res = append(res, btrfs.FilesystemKey(plan.UUID).Exclusive())
	}
	g := safety.Guarded{
		Op: sched.Operation{
			ID: idOr(c, OpResize+" "+dev), Kind: OpResize, Priority: c.priority, Dependencies: c.deps,
			Resources: res,
		},
		Target:        dev,
		Preflight:     pre,
		PreflightOpts: append(m.preflight(c), safety.WithCheck(sameType(plan.Type))),
		Intent: safety.Intent{
			Description: fmt.Sprintf("resize the %s filesystem on %s from %d to %d bytes (%s)", plan.Type, dev, plan.From, plan.To, plan.Capability),
			Params:      params(plan),
		},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, progress sched.Progress) error {
			now, _, err := m.PlanResize(ctx, dev, newBytes)
			if err != nil {
				return err
			}
			if now.UUID != plan.UUID || now.Capability != plan.Capability || now.From != plan.From || now.Mountpoint != plan.Mountpoint {
				return fmt.Errorf("%w: %s changed since the resize was planned (%s %d -> %s %d)", ErrRefused, dev,
					plan.Capability, plan.From, now.Capability, now.From)
			}
			if now.To == now.From {
				return m.step(ctx, mut, OpResize, "nothing_to_do", "")
			}
			step := func(name string) { _ = m.step(ctx, mut, OpResize, name, "") }
			if online {
				step("resizing")
				err = d.ResizeOnline(ctx, dev, plan.Mountpoint, plan.To)
			} else {
				// Once started, an offline resize runs to its end, as an
				// ioctl does: a resize2fs killed midway leaves a filesystem
				// only a repair makes consistent (what recovery does after
				// a crash), while one run to its end is simply resized.
				err = d.ResizeOffline(context.WithoutCancel(ctx), dev, plan.To, step, note(progress))
			}
			if err != nil {
				return err
			}
			// The resize is made: its verification is finished whatever
			// the caller's context says now, or a cancellation arriving
			// during it would fail a resize that is done.
			ctx = context.WithoutCancel(ctx)
			if online {
				step("resized") // the offline drivers journal their own steps
			}
			info, err := m.Inspect(ctx, dev)
			if err != nil {
				return err
			}
			got := sizeOnDevice(info, dev)
			if !reached(plan, got) {
				return fmt.Errorf("fsys: %s reads %d bytes after the resize to %d", dev, got, plan.To)
			}
			// resize2fs drops a last block group too small to keep, and the
			// kernel's XFS grow a last AG under 64 blocks: the size reached
			// may be a little short of the one asked, and is what is journaled.
			return m.step(ctx, mut, OpResize, "verified", fmt.Sprintf("%d bytes (asked %d)", got, plan.To))
		},
		// A failed resize leaves no before-images to restore (it rewrote
		// metadata all over the filesystem): the filesystem must prove
		// itself consistent, or the target is locked down.
		OnFailure: func(ctx context.Context, _ *safety.DeviceLock, cause error) error {
			return m.consistentAfter(ctx, dev, plan, cause)
		},
	}
	op, err := safety.Guard(m.journal, g)
	return op, plan, err
}

// consistentAfter checks a filesystem after a failed change: nil when it is
// consistent (mounted: it reads back; unmounted: the type's read-only check
// is clean), an error naming what is wrong otherwise.
func (m *Manager) consistentAfter(ctx context.Context, dev string, plan *ResizePlan, cause error) error {
	var pe *PermissionError
	var re *RefusedError
	if errors.As(cause, &pe) || errors.As(cause, &re) || errors.Is(cause, ErrRefused) || errors.Is(cause, ErrNotSupported) {
		return nil // refused before any write
	}
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return fmt.Errorf("fsys: after the failed resize %s does not read: %w", dev, err)
	}
	if info.UUID != plan.UUID {
		return fmt.Errorf("fsys: after the failed resize %s holds another filesystem (%s)", dev, info.UUID)
	}
	// Old means the old size: a resize that got anywhere (the ioctl ran,
	// resize2fs moved the end) is not undone by being consistent.
	if got := sizeOnDevice(info, dev); got != plan.From {
		if reached(plan, got) {
			return fmt.Errorf("fsys: %s is at the new size %d: the resize was made and what failed came after it (%v), so it is not undone", dev, got, cause)
		}
		return fmt.Errorf("fsys: after the failed resize %s is %d bytes, neither its old %d nor the %d asked", dev, got, plan.From, plan.To)
	}
	if info.Mounted() {
		return nil // the kernel's resize is all or nothing, and the size is the old one
	}
	d, err := m.Driver(Type(info.Type))
	if err != nil {
		return err
	}
	res, err := d.Check(ctx, dev, CheckReadOnly, false, nil)
	if errors.Is(err, ErrNotSupported) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fsys: check after the failed resize: %w", err)
	}
	if res.Verdict != VerdictClean {
		return fmt.Errorf("fsys: after the failed resize %s checks %s", dev, res.Verdict)
	}
	return nil
}

// Resize resizes dev's filesystem to newBytes: ResizeOp run alone. A size
// equal to the current one does nothing.
func (m *Manager) Resize(ctx context.Context, dev string, newBytes int64, progress func(string), opts ...OpOption) (*ResizePlan, error) {
	op, plan, err := m.ResizeOp(ctx, dev, newBytes, opts...)
	if err != nil {
		return nil, err
	}
	return plan, run(ctx, op, progress)
}

// reached reports whether got is the size a resize to plan.To reached: the
// size asked, or short of it by less than the type's last-group trim, in
// the direction planned.
func reached(plan *ResizePlan, got int64) bool {
	if got == plan.To {
		return true
	}
	const slack = 256 << 20 // more than an ext block group (128 MiB at 4 KiB blocks) or a trimmed XFS AG
	if plan.Grow() {
		return got > plan.From && got < plan.To && plan.To-got < slack
	}
	// A shrink may end below the size asked (resize2fs drops the short
	// last group), never above it: the filesystem must fit what it was
	// shrunk for.
	return got < plan.To && plan.To-got < slack && got >= plan.MinSize
}
