package fsys

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpRepair is the journal's kind for a repair.
const OpRepair = "fsys.repair"

// CheckOptions configures Check and Repair.
type CheckOptions struct {
	// Mode is CheckReadOnly for Check; Repair uses CheckPreen or CheckRepair.
	Mode CheckMode
	// Override allows the type's repairs that may lose data: xfs_repair -L
	// (zeroes a dirty log) and btrfs check --repair.
	Override bool
	// Progress receives the checker's progress, when it reports any.
	Progress func(CheckProgress) `json:"-"`
}

// notMounted refuses a mounted filesystem (or active swap) for a check or
// an offline change. btrfs's online check is scrub.
func (m *Manager) notMounted(ctx context.Context, dev string) (*Info, error) {
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return nil, err
	}
	if info.Mounted() {
		what := "mounted at " + fmt.Sprint(info.Mountpoints)
		if info.Active {
			what = "active swap"
		}
		if Type(info.Type) == Btrfs {
			what += "; a mounted btrfs is checked by scrub"
		}
		return info, fmt.Errorf("%w: %s is %s", ErrMounted, dev, what)
	}
	return info, nil
}

// Check runs the type's checker read-only on the unmounted filesystem of
// dev and returns its verdict. Nothing is written, so nothing is journaled.
func (m *Manager) Check(ctx context.Context, dev string, o CheckOptions) (*CheckResult, error) {
	if o.Mode != CheckReadOnly {
		return nil, fmt.Errorf("%w: Check is read-only; use Repair", ErrInvalid)
	}
	info, err := m.notMounted(ctx, dev)
	if err != nil {
		return nil, err
	}
	t := Type(info.Type)
	if err := m.available(ctx, t, CapCheck); err != nil {
		return nil, err
	}
	d, err := m.Driver(t)
	if err != nil {
		return nil, err
	}
	return d.Check(ctx, dev, CheckReadOnly, false, o.Progress)
}

func (m *Manager) available(ctx context.Context, t Type, c Capability) error {
	f, err := m.Features(ctx, t)
	if err != nil {
		return err
	}
	return f.Available(c)
}

// RepairOp returns the operation that repairs dev's unmounted filesystem.
// Preflight proves the device unused; the run is journaled with the
// verdict. A repair has no before-images (it may rewrite any block), so a
// repair that fails is followed by a read-only check, and a device that
// does not read afterwards is locked down.
func (m *Manager) RepairOp(ctx context.Context, dev string, o CheckOptions, result *CheckResult, opts ...OpOption) (sched.Operation, error) {
	if o.Mode == CheckReadOnly {
		return sched.Operation{}, fmt.Errorf("%w: a repair needs CheckPreen or CheckRepair", ErrInvalid)
	}
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	info, err := m.notMounted(ctx, dev)
	if err != nil {
		return sched.Operation{}, err
	}
	t := Type(info.Type)
	if err := m.available(ctx, t, CapRepair); err != nil {
		return sched.Operation{}, err
	}
	d, err := m.Driver(t)
	if err != nil {
		return sched.Operation{}, err
	}
	key, err := m.targetKey(dev, c)
	if err != nil {
		return sched.Operation{}, err
	}
	var undoFile string // set once Execute placed it
	g := safety.Guarded{
		Op: sched.Operation{
			ID: idOr(c, OpRepair+" "+dev), Kind: OpRepair, Priority: c.priority, Dependencies: c.deps,
			Resources: []sched.Resource{key.Exclusive()},
		},
		Target:        dev,
		Preflight:     safety.OpResize,
		PreflightOpts: append(m.preflight(c), safety.WithCheck(sameType(t))),
		Intent: safety.Intent{
			Description: fmt.Sprintf("repair the %s filesystem on %s (mode %d, override %v)", t, dev, o.Mode, o.Override),
			Params:      params(o),
		},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, progress sched.Progress) error {
			var res *CheckResult
			var err error
			if t.IsExt() && m.journal != nil {
				// e2fsck -z keeps what it overwrites in the journal's
				// images: a failed repair is put back as it was.
				undoFile = filepath.Join(m.journal.Dir(), "images", mut.ID(), "e2fsck.e2undo")
				if err := os.MkdirAll(filepath.Dir(undoFile), 0o700); err != nil {
					return fmt.Errorf("fsys: %w", err)
				}
				if err := m.step(ctx, mut, OpRepair, "undo_file", undoFile); err != nil {
					return err
				}
				res, err = m.checkUndo(ctx, dev, t, o.Mode, o.Override, undoFile, o.Progress)
			} else {
				res, err = d.Check(ctx, dev, o.Mode, o.Override, o.Progress)
			}
			if err != nil {
				return err
			}
			if result != nil {
				*result = *res
			}
			return m.step(ctx, mut, OpRepair, "checked", string(res.Verdict))
		},
		// A failed ext repair is undone with its undo file (exactly old).
		// Other checkers keep no undo: a failed repair leaves what they
		// wrote, so the mutation is not called undone; the before-images
		// (none) cannot either, and the target is locked down for an
		// operator, unless the filesystem, checked read-only, is clean:
		// then the repair got as far as it needed and the state is new.
		OnFailure: func(ctx context.Context, _ *safety.DeviceLock, cause error) error {
			if undoFile != "" {
				if _, err := os.Stat(undoFile); err == nil {
					return m.e2undo(ctx, undoFile, dev)
				}
				return nil // e2fsck makes the file before its first write
			}
			r, err := d.Check(ctx, dev, CheckReadOnly, false, nil)
			if err != nil {
				return fmt.Errorf("fsys: after the failed repair, a read-only check of %s failed too: %w", dev, err)
			}
			if r.Verdict != VerdictClean {
				return fmt.Errorf("fsys: after the failed repair %s checks %s", dev, r.Verdict)
			}
			return nil
		},
	}
	return safety.Guard(m.journal, g)
}

// Repair repairs dev's unmounted filesystem: RepairOp run alone.
func (m *Manager) Repair(ctx context.Context, dev string, o CheckOptions, opts ...OpOption) (*CheckResult, error) {
	var res CheckResult
	op, err := m.RepairOp(ctx, dev, o, &res, opts...)
	if err != nil {
		return nil, err
	}
	if err := run(ctx, op, nil); err != nil {
		return nil, err
	}
	return &res, nil
}
