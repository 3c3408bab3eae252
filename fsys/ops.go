package fsys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// ErrNoJournal: a mutation was asked of a Manager made without WithJournal.
// Nothing fsys changes escapes the journal.
var ErrNoJournal = errors.New("fsys: mutations need a journal (WithJournal)")

// OpOption configures one operation.
type OpOption func(*opConfig) error

type opConfig struct {
	id        string
	priority  int
	deps      []string
	overrides []safety.Override
	check     []safety.CheckOption
}

// WithOpID names the operation in its plan (the default is kind and target).
func WithOpID(id string) OpOption {
	return func(c *opConfig) error {
		if id == "" {
			return fmt.Errorf("%w: empty operation id", ErrInvalid)
		}
		c.id = id
		return nil
	}
}

// WithDependencies makes the operation wait for others of its plan.
func WithDependencies(ids ...string) OpOption {
	return func(c *opConfig) error { c.deps = append(c.deps, ids...); return nil }
}

// WithPriority orders the operation among ready ones (higher first).
func WithPriority(p int) OpOption {
	return func(c *opConfig) error { c.priority = p; return nil }
}

// WithOverride overrides one preflight refusal, journaled with the reason
// and who decided (safety.WithOverride). For ext2/3/4, making a filesystem
// over a refusal keeps mke2fs's undo file in the journal, so e2undo can
// restore the old contents exactly.
func WithOverride(code safety.Code, reason, by string) OpOption {
	return func(c *opConfig) error {
		o := safety.Override{Code: code, Reason: reason, By: by}
		if code == "" || reason == "" {
			return fmt.Errorf("%w: an override needs a code and a reason", ErrInvalid)
		}
		c.overrides = append(c.overrides, o)
		return nil
	}
}

// WithPreflight adds safety check options (protected paths, a graph, ...).
func WithPreflight(opts ...safety.CheckOption) OpOption {
	return func(c *opConfig) error { c.check = append(c.check, opts...); return nil }
}

func (m *Manager) opConfig(opts []OpOption) (*opConfig, error) {
	c := &opConfig{}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if m.journal == nil {
		return nil, ErrNoJournal
	}
	return c, nil
}

// preflight is the safety options of an operation: the Manager's root,
// the caller's checks and overrides.
func (m *Manager) preflight(c *opConfig) []safety.CheckOption {
	var out []safety.CheckOption
	if !m.root.IsLive() {
		out = append(out, safety.WithRoot(m.root.Dir()))
	}
	out = append(out, c.check...)
	for _, o := range c.overrides {
		out = append(out, safety.WithOverride(o.Code, o.Reason, o.By))
	}
	return out
}

func (m *Manager) targetKey(dev string, c *opConfig) (sched.Key, error) {
	return safety.TargetKey(dev, m.preflight(c)...)
}

// run executes op as a plan of one: a direct call is the same operation
// the scheduler would run.
func run(ctx context.Context, op sched.Operation, progress func(string)) error {
	return op.Execute(ctx, func(done, total int64, note string) {
		if progress != nil && note != "" {
			progress(note)
		}
	})
}

func note(progress sched.Progress) func(string) {
	return func(line string) {
		if progress != nil {
			progress(0, 0, line)
		}
	}
}

func params(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// signatureRanges are the before-images of a make: every place a
// signature can be (probe.MetadataRegions), so undoing a make over a blank
// device makes it read as blank again.
func signatureRanges(size int64) []safety.Range {
	var out []safety.Range
	for _, r := range probe.MetadataRegions(size) {
		out = append(out, safety.Range{Offset: r.Off, Length: r.Len})
	}
	return out
}

func idOr(c *opConfig, def string) string {
	if c.id != "" {
		return c.id
	}
	return def
}

// step journals a step of mut and tells the step hook. The journal write
// is not cancelled with ctx: a step that happened must be recorded.
func (m *Manager) step(ctx context.Context, mut *safety.Mutation, kind, name, detail string) error {
	if err := mut.Step(context.WithoutCancel(ctx), name, detail); err != nil {
		return err
	}
	if m.onStep != nil {
		m.onStep(kind, name)
	}
	return nil
}
