package fsys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpMake is the journal's kind for a make.
const OpMake = "fsys.make"

type makeParams struct {
	Type    Type        `json:"type"`
	Options MakeOptions `json:"options"`
}

// MakeOp returns the operation that makes a t filesystem on dev. Before
// each attempt preflight must prove dev positively blank (safety's format
// rules: not mounted, not swap, no holders, O_EXCL, not protected, no
// signature, no unrecognised data; an unreadable device is never blank);
// the signature regions are saved as before-images, so undoing the make
// leaves the device reading as it did. An override of a refusal
// (WithOverride) on ext2/3/4 also keeps mke2fs's undo file in the journal,
// and the undo replays it with e2undo, restoring every block mke2fs wrote.
func (m *Manager) MakeOp(ctx context.Context, dev string, t Type, o MakeOptions, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	d, err := m.Driver(t)
	if err != nil {
		return sched.Operation{}, err
	}
	f, err := m.Features(ctx, t)
	if err != nil {
		return sched.Operation{}, err
	}
	if err := f.Available(CapMake); err != nil {
		return sched.Operation{}, err
	}
	if err := o.Validate(t); err != nil {
		return sched.Operation{}, err
	}
	if o.ExtUndoFile != "" {
		return sched.Operation{}, fmt.Errorf("%w: the undo file is the journal's to place", ErrInvalid)
	}
	fh, size, err := openDev(dev)
	if err != nil {
		return sched.Operation{}, err
	}
	fh.Close()
	if size < f.SmallestBytes {
		return sched.Operation{}, &RefusedError{Code: "too_small",
			Reason: fmt.Sprintf("%s has %d bytes; the smallest %s filesystem is %d", dev, size, t, f.SmallestBytes)}
	}
	key, err := m.targetKey(dev, c)
	if err != nil {
		return sched.Operation{}, err
	}
	j := m.journal
	keepUndo := t.IsExt() && len(c.overrides) > 0
	var undoFile string // set once Execute placed it
	e2undo := func(ctx context.Context) error {
		if undoFile == "" {
			return errors.New("no mke2fs undo file")
		}
		if _, err := os.Stat(undoFile); err != nil {
			return err
		}
		return m.e2undo(ctx, undoFile, dev)
	}
	g := safety.Guarded{
		Op: sched.Operation{
			ID: idOr(c, OpMake+" "+dev), Kind: OpMake, Priority: c.priority, Dependencies: c.deps,
			Resources: []sched.Resource{key.Exclusive()},
		},
		Target:        dev,
		Preflight:     safety.OpFormat,
		PreflightOpts: m.preflight(c),
		Intent: safety.Intent{
			Description: fmt.Sprintf("make a %s filesystem on %s", t, dev),
			Params:      params(makeParams{Type: t, Options: o}),
			Ranges:      signatureRanges(size),
		},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, progress sched.Progress) error {
			mo := o
			if keepUndo {
				undoFile = filepath.Join(j.Dir(), "images", mut.ID(), "mke2fs.e2undo")
				if err := os.MkdirAll(filepath.Dir(undoFile), 0o700); err != nil {
					return fmt.Errorf("fsys: %w", err)
				}
				mo.ExtUndoFile = undoFile
				if err := m.step(ctx, mut, OpMake, "undo_file", undoFile); err != nil {
					return err
				}
			}
			if err := d.Make(ctx, dev, mo, note(progress)); err != nil {
				return err
			}
			if err := m.step(ctx, mut, OpMake, "made", ""); err != nil {
				return err
			}
			info, err := m.Inspect(ctx, dev)
			if err != nil {
				return fmt.Errorf("fsys: the new filesystem does not read back: %w", err)
			}
			if info.Type != string(t) {
				return fmt.Errorf("fsys: made %s but %s reads as %s", t, dev, info.Type)
			}
			return m.step(ctx, mut, OpMake, "verified", info.UUID)
		},
	}
	if keepUndo {
		g.OnFailure = func(ctx context.Context, _ *safety.DeviceLock, _ error) error { return e2undo(ctx) }
		g.Compensate = func(ctx context.Context, _ *safety.DeviceLock) error { return e2undo(ctx) }
	}
	return safety.Guard(j, g)
}

// Make makes a t filesystem on dev: MakeOp run alone.
func (m *Manager) Make(ctx context.Context, dev string, t Type, o MakeOptions, opts ...OpOption) error {
	op, err := m.MakeOp(ctx, dev, t, o, opts...)
	if err != nil {
		return err
	}
	return run(ctx, op, nil)
}
