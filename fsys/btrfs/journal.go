package btrfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpOption configures one operation.
type OpOption func(*opConfig) error

type opConfig struct {
	journal *safety.Journal
	onStep  func(kind, step string)
	opts    []Option
}

// WithJournal makes the operation a safety.Guard mutation journaled in j:
// its intent before anything changes, a "requested" step before the
// ioctl and a "done" step after it, the outcome at the end. A process
// killed in between leaves it interrupted, and j's Recover (with
// RollForward's options) finishes it: the result is the new state, and the
// journal says rolled_forward. Scrub and balance are not journaled: the
// kernel keeps a balance's own item and resumes it at mount, and a scrub
// changes nothing but bad copies.
func WithJournal(j *safety.Journal) OpOption {
	return func(c *opConfig) error {
		if j == nil {
			return fmt.Errorf("%w: nil journal", ErrInvalid)
		}
		c.journal = j
		return nil
	}
}

// WithStepHook calls fn after each journaled step (tests: crash at a step).
func WithStepHook(fn func(kind, step string)) OpOption {
	return func(c *opConfig) error { c.onStep = fn; return nil }
}

// WithOptions passes refusal overrides (WithOverride) to a delete.
func WithOptions(opts ...Option) OpOption {
	return func(c *opConfig) error {
		if _, err := newOptions(opts); err != nil {
			return err
		}
		c.opts = append(c.opts, opts...)
		return nil
	}
}

func newOpConfig(opts []OpOption) (*opConfig, error) {
	c := &opConfig{}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// opParams is what the journal keeps of a mutation: enough for recovery
// to finish it.
type opParams struct {
	Mountpoint string   `json:"mountpoint"`
	FSID       string   `json:"fsid"`
	Path       string   `json:"path,omitempty"` // create, delete: the subvolume; snapshot: dst
	Src        string   `json:"src,omitempty"`
	ReadOnly   bool     `json:"read_only,omitempty"`
	Dev        string   `json:"dev,omitempty"` // device add
	Devid      uint64   `json:"devid,omitempty"`
	Size       int64    `json:"size,omitempty"`
	Overrides  []string `json:"overrides,omitempty"`
}

// mutation is one journaled change: how to do it, whether it is done (the
// new state), and how to undo it (nil: it cannot be undone).
type mutation struct {
	kind   string
	params opParams
	target string // the device the journal names
	pre    safety.Op
	do     func(ctx context.Context, f *FS) error
	isNew  func(ctx context.Context, f *FS) (bool, error)
	undo   func(ctx context.Context, f *FS) error
}

func (p opParams) open() (*FS, error) {
	f, err := Open(p.Mountpoint)
	if err != nil {
		return nil, err
	}
	if p.FSID != "" && f.FSID().String() != p.FSID {
		f.Close()
		return nil, fmt.Errorf("%w: %s now holds filesystem %s, not %s", ErrInvalid, p.Mountpoint, f.FSID(), p.FSID)
	}
	return f, nil
}

// mutationOf rebuilds a journaled mutation from its kind and params.
func mutationOf(kind string, p opParams) (*mutation, error) {
	m := &mutation{kind: kind, params: p}
	switch kind {
	case OpSubvolumeCreate:
		m.do = func(ctx context.Context, f *FS) error { return f.CreateSubvolume(ctx, p.Path) }
		m.isNew = func(ctx context.Context, f *FS) (bool, error) { return isSubvolume(f.abs(p.Path)) }
		m.undo = func(ctx context.Context, f *FS) error { return f.DeleteSubvolume(ctx, p.Path) }
	case OpSnapshot:
		m.do = func(ctx context.Context, f *FS) error { return f.Snapshot(ctx, p.Src, p.Path, p.ReadOnly) }
		m.isNew = func(ctx context.Context, f *FS) (bool, error) { return isSubvolume(f.abs(p.Path)) }
		m.undo = func(ctx context.Context, f *FS) error { return f.DeleteSubvolume(ctx, p.Path) }
	case OpSubvolumeDelete:
		m.do = func(ctx context.Context, f *FS) error {
			return f.DeleteSubvolume(ctx, p.Path, WithOverride(p.Overrides...))
		}
		m.isNew = func(ctx context.Context, f *FS) (bool, error) {
			ok, err := isSubvolume(f.abs(p.Path))
			return !ok, err
		}
	case OpDeviceAdd:
		m.do = func(ctx context.Context, f *FS) error { return f.AddDevice(ctx, p.Dev) }
		m.isNew = func(ctx context.Context, f *FS) (bool, error) {
			id, err := f.devidOf(ctx, p.Dev)
			return id != 0, err
		}
		m.undo = func(ctx context.Context, f *FS) error {
			id, err := f.devidOf(ctx, p.Dev)
			if err != nil || id == 0 {
				return err
			}
			return f.RemoveDevice(ctx, id)
		}
	case OpDeviceRemove:
		m.do = func(ctx context.Context, f *FS) error { return f.RemoveDevice(ctx, p.Devid) }
		m.isNew = func(ctx context.Context, f *FS) (bool, error) {
			devs, err := f.Devices(ctx)
			for _, d := range devs {
				if d.Devid == p.Devid {
					return false, err
				}
			}
			return err == nil, err
		}
	default:
		return nil, fmt.Errorf("%w: no journaled btrfs operation %q", ErrInvalid, kind)
	}
	return m, nil
}

// isSubvolume reports whether path is the root directory of a subvolume
// (inode 256 on btrfs); false when it does not exist.
func isSubvolume(path string) (bool, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return st.Ino == 256 && st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// devidOf is the devid of the member whose device is dev's (by device
// number), 0 when dev is no member.
func (f *FS) devidOf(ctx context.Context, dev string) (uint64, error) {
	var want unix.Stat_t
	if err := unix.Stat(dev, &want); err != nil {
		return 0, &os.PathError{Op: "stat", Path: dev, Err: err}
	}
	devs, err := f.Devices(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range devs {
		var st unix.Stat_t
		if unix.Stat(d.Path, &st) == nil && st.Rdev == want.Rdev {
			return d.Devid, nil
		}
	}
	return 0, nil
}

// firstDevice is the path of the member with the lowest devid: the device
// a journaled change of the filesystem names.
func firstDevice(ctx context.Context, mountpoint string) (string, string, error) {
	f, err := Open(mountpoint)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	devs, err := f.Devices(ctx)
	if err != nil {
		return "", "", err
	}
	if len(devs) == 0 {
		return "", "", fmt.Errorf("%w: %s lists no device", ErrMalformed, mountpoint)
	}
	return devs[0].Path, f.FSID().String(), nil
}

// guard wraps op (data only: ID, kind, resources) around m: journaled by
// safety.Guard when c has a journal, a plain operation otherwise.
func (m *mutation) guard(op sched.Operation, c *opConfig, description string) (sched.Operation, error) {
	step := func(ctx context.Context, mut *safety.Mutation, name string) error {
		if mut != nil {
			if err := mut.Step(context.WithoutCancel(ctx), name, ""); err != nil {
				return err
			}
		}
		if c.onStep != nil {
			c.onStep(m.kind, name)
		}
		return nil
	}
	run := func(ctx context.Context, mut *safety.Mutation) error {
		f, err := m.params.open()
		if err != nil {
			return err
		}
		defer f.Close()
		if err := step(ctx, mut, "requested"); err != nil {
			return err
		}
		if err := m.do(ctx, f); err != nil {
			return err
		}
		return step(ctx, mut, "done")
	}
	undo := func(ctx context.Context) error {
		if m.undo == nil {
			return fmt.Errorf("btrfs: %s cannot be undone", m.kind)
		}
		f, err := m.params.open()
		if err != nil {
			return err
		}
		defer f.Close()
		return m.undo(ctx, f)
	}
	if c.journal == nil {
		op.Execute = func(ctx context.Context, _ sched.Progress) error { return run(ctx, nil) }
		if m.undo != nil {
			op.Rollback = undo
		}
		return op, nil
	}
	g := safety.Guarded{
		Op:        op,
		Target:    m.target,
		Preflight: m.pre,
		Intent:    safety.Intent{Description: description, Params: mustJSON(m.params)},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, _ sched.Progress) error {
			return run(ctx, mut)
		},
		// A failed ioctl changed nothing (each is one kernel transaction);
		// one that succeeded before a later failure is undone.
		OnFailure: func(ctx context.Context, _ *safety.DeviceLock, cause error) error {
			f, err := m.params.open()
			if err != nil {
				return err
			}
			defer f.Close()
			done, err := m.isNew(ctx, f)
			if err != nil {
				return err
			}
			if !done {
				return nil
			}
			if m.undo == nil {
				return fmt.Errorf("btrfs: %s happened and cannot be undone: %w", m.kind, cause)
			}
			return m.undo(ctx, f)
		},
	}
	if m.undo != nil {
		g.Compensate = func(ctx context.Context, _ *safety.DeviceLock) error { return undo(ctx) }
	}
	out, err := safety.Guard(c.journal, g)
	if err != nil {
		return sched.Operation{}, err
	}
	if m.undo == nil {
		out.Rollback = nil // irreversible: a later failure of the plan leaves it done
	}
	return out, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// RollForward is the journal options that let safety's Recover finish an
// interrupted btrfs change: pass them to safety.OpenJournal. Each redoes
// the change unless it is already done, then checks it is.
func RollForward() []safety.Option {
	var out []safety.Option
	for _, kind := range []string{OpSubvolumeCreate, OpSnapshot, OpSubvolumeDelete, OpDeviceAdd, OpDeviceRemove} {
		out = append(out, safety.WithRollForward(kind, func(ctx context.Context, e safety.Entry) error {
			var p opParams
			if err := json.Unmarshal(e.Intent.Params, &p); err != nil {
				return fmt.Errorf("btrfs: journal params: %w", err)
			}
			m, err := mutationOf(kind, p)
			if err != nil {
				return err
			}
			f, err := p.open()
			if err != nil {
				return err
			}
			defer f.Close()
			done, err := m.isNew(ctx, f)
			if err != nil {
				return err
			}
			if !done {
				if err := m.do(ctx, f); err != nil {
					return err
				}
			}
			if done, err = m.isNew(ctx, f); err == nil && !done {
				err = fmt.Errorf("btrfs: %s still not done after the roll-forward", kind)
			}
			return err
		}))
	}
	return out
}
