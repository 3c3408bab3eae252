package external

import (
	"context"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// operations checks a plugin's operation descriptors and turns them into
// sched.Operations whose Execute and Rollback call back into p, the
// process holding them.
func (b *Backend) operations(p *proc, ds []opDescriptor) ([]sched.Operation, error) {
	ids := make(map[string]bool, len(ds))
	for _, d := range ds {
		if d.ID == "" {
			return nil, malformed("operation.id", "", "empty")
		}
		if ids[d.ID] {
			return nil, malformed("operation.id", d.ID, "duplicate")
		}
		ids[d.ID] = true
	}
	ops := make([]sched.Operation, 0, len(ds))
	for _, d := range ds {
		op, err := b.operation(p, d, ids)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func (b *Backend) operation(p *proc, d opDescriptor, ids map[string]bool) (sched.Operation, error) {
	if d.Token == "" {
		return sched.Operation{}, malformed("operation.token", d.ID, "empty")
	}
	if d.TimeoutMS < 0 {
		return sched.Operation{}, malformed("operation.timeout_ms", strconv.FormatInt(d.TimeoutMS, 10), "negative")
	}
	op := sched.Operation{ID: d.ID, Kind: d.Kind, Priority: d.Priority, Timeout: d.timeout()}
	for _, r := range d.Resources {
		k, err := sched.ParseKey(r.Key)
		if err != nil {
			return sched.Operation{}, malformed("operation.resource.key", r.Key, err.Error())
		}
		var m sched.Mode
		switch r.Mode {
		case sched.Shared.String():
			m = sched.Shared
		case sched.Exclusive.String():
			m = sched.Exclusive
		default:
			return sched.Operation{}, malformed("operation.resource.mode", r.Mode, "neither shared nor exclusive")
		}
		op.Resources = append(op.Resources, sched.Resource{Key: k, Mode: m})
	}
	for _, dep := range d.Dependencies {
		if !ids[dep] || dep == d.ID {
			return sched.Operation{}, malformed("operation.dependency", dep, "not another operation of the same answer")
		}
		op.Dependencies = append(op.Dependencies, dep)
	}
	op.Execute = func(ctx context.Context, progress sched.Progress) error {
		return b.execute(ctx, p, d, progress)
	}
	if d.HasRollback {
		op.Rollback = func(ctx context.Context) error { return b.rollback(ctx, p, d) }
	}
	return op, nil
}
