package fsys

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpLabel and OpUUID are the journal's kinds for label and UUID changes.
const (
	OpLabel = "fsys.label"
	OpUUID  = "fsys.uuid"
)

type idParams struct {
	Type   Type   `json:"type"`
	FSUUID string `json:"fs_uuid"` // the filesystem's UUID when the change was planned
	Old    string `json:"old"`
	New    string `json:"new"`
}

// LabelOp returns the operation that sets dev's filesystem label: online
// (FS_IOC_SETFSLABEL) when mounted and the type allows, offline by the
// type's tool otherwise. Its undo sets the old label back.
func (m *Manager) LabelOp(ctx context.Context, dev, label string, opts ...OpOption) (sched.Operation, error) {
	return m.identityOp(ctx, dev, label, false, opts)
}

// UUIDOp returns the operation that sets dev's filesystem UUID (offline
// only: a mounted filesystem keeps its UUID). An empty uuid asks for a new
// random one, chosen here rather than by the tool, so that the journal's
// intent names the value recovery must find and Execute can verify it. Its
// undo sets the old one back.
func (m *Manager) UUIDOp(ctx context.Context, dev, uuid string, opts ...OpOption) (sched.Operation, error) {
	if uuid == "" {
		info, err := m.Inspect(ctx, dev)
		if err != nil {
			return sched.Operation{}, err
		}
		uuid = randomUUID(Type(info.Type))
	}
	return m.identityOp(ctx, dev, uuid, true, opts)
}

// randomUUID returns a new random identifier in the form t uses: a version 4
// UUID, or for vfat a 32-bit volume id as XXXX-XXXX.
func randomUUID(t Type) string {
	u := uuid.New()
	if t == VFAT {
		return strings.ToUpper(fmt.Sprintf("%02x%02x-%02x%02x", u[0], u[1], u[2], u[3]))
	}
	return u.String()
}

// SetLabel sets dev's filesystem label: LabelOp run alone.
func (m *Manager) SetLabel(ctx context.Context, dev, label string, opts ...OpOption) error {
	op, err := m.LabelOp(ctx, dev, label, opts...)
	if err != nil {
		return err
	}
	return run(ctx, op, nil)
}

// SetUUID sets dev's filesystem UUID: UUIDOp run alone.
func (m *Manager) SetUUID(ctx context.Context, dev, uuid string, opts ...OpOption) error {
	op, err := m.UUIDOp(ctx, dev, uuid, opts...)
	if err != nil {
		return err
	}
	return run(ctx, op, nil)
}

func (m *Manager) identityOp(ctx context.Context, dev, value string, uuid bool, opts []OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return sched.Operation{}, err
	}
	t := Type(info.Type)
	f, err := m.Features(ctx, t)
	if err != nil {
		return sched.Operation{}, err
	}
	mp := ""
	if len(info.Mountpoints) > 0 {
		mp = info.Mountpoints[0]
	}
	kind, capOn, capOff, old := OpLabel, CapLabelOnline, CapLabelOffline, info.Label
	if uuid {
		kind, capOn, capOff, old = OpUUID, CapUUIDOnline, CapUUIDOffline, info.UUID
	}
	if info.Active {
		return sched.Operation{}, fmt.Errorf("%w: %s is active swap", ErrMounted, dev)
	}
	need := capOff
	if mp != "" {
		need = capOn
	}
	if err := f.Available(need); err != nil {
		if mp != "" && f.Has(capOff) {
			return sched.Operation{}, fmt.Errorf("%w: %s is mounted at %s: %v", ErrMounted, dev, mp, err)
		}
		return sched.Operation{}, err
	}
	if !uuid && len(value) > f.LabelMax {
		return sched.Operation{}, fmt.Errorf("%w: a %s label has at most %d bytes, %q has %d", ErrInvalid, t, f.LabelMax, value, len(value))
	}
	d, err := m.Driver(t)
	if err != nil {
		return sched.Operation{}, err
	}
	key, err := m.targetKey(dev, c)
	if err != nil {
		return sched.Operation{}, err
	}
	set := func(ctx context.Context, v string) error {
		if uuid {
			return d.SetUUID(ctx, dev, mp, v)
		}
		return d.SetLabel(ctx, dev, mp, v)
	}
	current := func(ctx context.Context) (string, error) {
		i, err := m.Inspect(ctx, dev)
		if err != nil {
			return "", err
		}
		if uuid {
			return i.UUID, nil
		}
		return i.Label, nil
	}
	res := []sched.Resource{key.Exclusive()}
	pre := safety.OpOnline // mounted: everything but the mount still refuses
	if mp != "" {
		res = []sched.Resource{key.Shared(), key.Filesystem().Exclusive(), sched.MountPath(mp).Shared()}
	} else {
		pre = safety.OpResize // the device must be unused while its tool rewrites the superblock
	}
	what := "label"
	if uuid {
		what = "UUID"
	}
	g := safety.Guarded{
		Op: sched.Operation{
			ID: idOr(c, kind+" "+dev), Kind: kind, Priority: c.priority, Dependencies: c.deps, Resources: res,
		},
		Target:        dev,
		Preflight:     pre,
		PreflightOpts: append(m.preflight(c), safety.WithCheck(sameType(t))),
		Intent: safety.Intent{
			Description: fmt.Sprintf("set the %s of the %s filesystem on %s from %q to %q", what, t, dev, old, value),
			Params:      params(idParams{Type: t, FSUUID: info.UUID, Old: old, New: value}),
		},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, _ sched.Progress) error {
			if err := set(ctx, value); err != nil {
				return err
			}
			if err := m.step(ctx, mut, kind, "set", value); err != nil {
				return err
			}
			got, err := current(ctx)
			if err != nil {
				return err
			}
			if !uuid && got != value || uuid && !sameUUID(got, value) {
				return fmt.Errorf("fsys: %s reads %s %q after setting %q", dev, what, got, value)
			}
			return nil
		},
		// A failed change is undone by setting the old value again (when the
		// tool got as far as changing it); so is a rollback.
		OnFailure: func(ctx context.Context, _ *safety.DeviceLock, _ error) error {
			got, err := current(ctx)
			if err != nil {
				return err
			}
			if got == old {
				return nil
			}
			return set(ctx, old)
		},
		Compensate: func(ctx context.Context, _ *safety.DeviceLock) error { return set(ctx, old) },
	}
	return safety.Guard(m.journal, g)
}

// sameUUID compares UUIDs as blkid prints them, ignoring case.
func sameUUID(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
