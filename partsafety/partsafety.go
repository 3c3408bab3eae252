package partsafety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// Op is the journal's operation kind for a partition-table write.
const Op = "partition.write"

// params is what the journal keeps to finish a write: every step and its data.
type params struct {
	Steps []partition.Step `json:"steps"`
}

// Journal adapts a safety journal to partition.WithJournal.
func Journal(j *safety.Journal) partition.Journal { return journal{j} }

type journal struct{ j *safety.Journal }

func (a journal) Begin(ctx context.Context, in partition.WriteIntent) (partition.Txn, error) {
	id, err := safety.IdentityOf(ctx, in.Target)
	if err != nil {
		return nil, err
	}
	p, err := json.Marshal(params{Steps: in.Steps})
	if err != nil {
		return nil, err
	}
	rs := make([]safety.Range, len(in.Steps))
	for i, s := range in.Steps {
		rs[i] = safety.Range{Offset: s.Offset, Length: int64(len(s.Data))}
	}
	intent := safety.Intent{Op: Op, Description: in.Description, Params: p, Target: id, Ranges: rs}
	if in.NewTableID != "" {
		intent.NewPTUUIDs = []string{in.NewTableID}
	}
	m, err := a.j.Begin(ctx, intent)
	if err != nil {
		return nil, err
	}
	return txn{m}, nil
}

type txn struct{ m *safety.Mutation }

func (t txn) Step(ctx context.Context, name string) error { return t.m.Step(ctx, name, "") }

func (t txn) Done(ctx context.Context, err error) error {
	if err == nil {
		return t.m.Done(ctx)
	}
	// A failed write: put the before-images back (level 2 of Undo).
	_, uerr := t.m.Undo(ctx, err, nil)
	return uerr
}

// RollForward registers the recovery of an interrupted partition-table write
// with a journal: every step is written again, in order, each synced.
func RollForward() safety.Option {
	return safety.WithRollForward(Op, func(ctx context.Context, e safety.Entry) error {
		var p params
		if err := json.Unmarshal(e.Intent.Params, &p); err != nil {
			return fmt.Errorf("partsafety: journal params: %w", err)
		}
		// Recovery holds the whole-disk flock while it rolls forward.
		d, err := partition.Open(ctx, e.Intent.Target.Path, partition.WithLockHeld())
		if err != nil {
			return err
		}
		defer d.Close()
		return d.Apply(ctx, p.Steps)
	})
}

// RefusedError is a preflight refusal: one safety report per target checked.
type RefusedError struct {
	Reports []*safety.Report
}

func (e *RefusedError) Error() string {
	var parts []string
	for _, r := range e.Reports {
		s := r.Summary()
		for _, why := range r.Reasons {
			if !why.Overridden {
				s += fmt.Sprintf("; %s: %s %s", why.Code, why.Message, strings.Join(why.Evidence, ", "))
			}
		}
		parts = append(parts, s)
	}
	return "partition change refused: " + strings.Join(parts, " | ")
}

// Unwrap lets errors.Is match partition.ErrUnsafe and safety.ErrUnsafe.
func (e *RefusedError) Unwrap() []error { return []error{partition.ErrUnsafe, safety.ErrUnsafe} }

// Preflight checks, before anything is written, that storing t on d is safe:
// for a block device, every partition the kernel would have to delete, move
// or resize must be unused (safety.Check with OpResize: not mounted, not
// swap, no holders, O_EXCL open succeeds); partitions that keep their place
// are not checked, so a disk with one partition mounted can still have its
// others edited. Replacing the table with one of another label, or writing a
// table to a disk that has none, checks the whole disk with OpPartition (it
// must be positively empty unless a safety.WithOverride says otherwise).
// Image files have no kernel users and are not checked.
func Preflight(ctx context.Context, d *partition.Disk, t *partition.Table, opts ...safety.CheckOption) error {
	if !d.IsBlockDevice() {
		return nil
	}
	old, err := d.Read(ctx)
	var targets []string
	var op safety.Op
	switch {
	case errors.Is(err, partition.ErrNoTable), err == nil && old.Label != t.Label:
		targets, op = []string{d.Path()}, safety.OpPartition
	case err != nil:
		return err
	default:
		plan, err := d.KernelPlan(ctx, t)
		if err != nil {
			return err
		}
		kp, err := d.KernelPartitions(ctx)
		if err != nil {
			return err
		}
		paths := map[int]string{}
		for _, p := range kp {
			paths[p.Number] = p.Path
		}
		seen := map[int]bool{}
		for _, c := range plan {
			if c.Op == "add" || seen[c.Partition] {
				continue
			}
			seen[c.Partition] = true
			targets = append(targets, paths[c.Partition])
		}
		op = safety.OpResize
	}
	var refused []*safety.Report
	for _, target := range targets {
		r, err := safety.Check(ctx, target, op, opts...)
		if err != nil {
			return err
		}
		if !r.Allowed {
			refused = append(refused, r)
		}
	}
	if len(refused) > 0 {
		return &RefusedError{Reports: refused}
	}
	return nil
}
