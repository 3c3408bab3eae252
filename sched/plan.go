package sched

import (
	"errors"
	"fmt"
	"slices"
)

// Plan is a set of operations whose dependencies form a directed acyclic
// graph. A Plan is a value the caller builds and may inspect; the scheduler
// never modifies it.
type Plan struct {
	ops []Operation
}

// NewPlan returns a plan of ops, in the order given. Plan order breaks ties
// between operations of equal priority that become ready together.
func NewPlan(ops ...Operation) *Plan {
	return &Plan{ops: slices.Clone(ops)}
}

// Add appends operations to the plan.
func (p *Plan) Add(ops ...Operation) { p.ops = append(p.ops, ops...) }

// Len is the number of operations in the plan.
func (p *Plan) Len() int { return len(p.ops) }

// Operations returns a copy of the plan's operations in plan order.
func (p *Plan) Operations() []Operation { return slices.Clone(p.ops) }

// Validate reports every problem in the plan at once, as a *ValidationError:
// malformed operations, duplicate IDs, dependencies on unknown IDs, and every
// dependency cycle (up to MaxCycles) with the operations along it.
func (p *Plan) Validate() error {
	_, err := p.graph()
	return err
}

// graph is the plan compiled for scheduling: indices instead of IDs.
type graph struct {
	ops  []Operation
	deps [][]int32 // deps[i]: operations i depends on (deduplicated)
	outs [][]int32 // outs[i]: operations that depend on i
	pol  []*RetryPolicy
}

func (p *Plan) graph() (*graph, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil plan", ErrInvalidPlan)
	}
	var ve ValidationError
	index := make(map[string]int32, len(p.ops))
	dup := map[string]bool{}
	g := &graph{
		// A snapshot, so that adding to the plan later cannot race
		// with a Run that is using it.
		ops:  slices.Clone(p.ops),
		deps: make([][]int32, len(p.ops)),
		outs: make([][]int32, len(p.ops)),
		pol:  make([]*RetryPolicy, len(p.ops)),
	}
	for i := range g.ops {
		op := &g.ops[i]
		if msg := checkOperation(op); msg != "" {
			ve.Invalid = append(ve.Invalid, msg)
		}
		if op.Retry != nil {
			pol, err := op.Retry.withDefaults()
			if err == nil {
				g.pol[i] = &pol
			}
		}
		if op.ID == "" {
			continue
		}
		if _, ok := index[op.ID]; ok {
			if !dup[op.ID] {
				ve.Duplicates = append(ve.Duplicates, op.ID)
				dup[op.ID] = true
			}
			continue
		}
		index[op.ID] = int32(i)
	}
	for i := range g.ops {
		op := &g.ops[i]
		for _, d := range op.Dependencies {
			j, ok := index[d]
			if !ok {
				ve.Unknown = append(ve.Unknown, UnknownDependency{ID: op.ID, Dependency: d})
				continue
			}
			if slices.Contains(g.deps[i], j) {
				continue
			}
			g.deps[i] = append(g.deps[i], j)
			g.outs[j] = append(g.outs[j], int32(i))
		}
	}
	ve.Cycles, ve.CyclesTruncated = findCycles(g, MaxCycles)
	if len(ve.Invalid)+len(ve.Duplicates)+len(ve.Unknown)+len(ve.Cycles) > 0 {
		return nil, &ve
	}
	return g, nil
}

func checkOperation(op *Operation) string {
	var probs []string
	if op.ID == "" {
		probs = append(probs, "empty ID")
	}
	if op.Execute == nil {
		probs = append(probs, "nil Execute")
	}
	if op.Timeout < 0 {
		probs = append(probs, fmt.Sprintf("negative Timeout %v", op.Timeout))
	}
	for _, r := range op.Resources {
		if r.Mode != Shared && r.Mode != Exclusive {
			probs = append(probs, fmt.Sprintf("resource %q has invalid mode %v", r.Key, r.Mode))
		}
		if _, err := ParseKey(r.Key.path); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if op.Retry != nil {
		if _, err := op.Retry.withDefaults(); err != nil {
			probs = append(probs, err.Error())
		}
	}
	if len(probs) == 0 {
		return ""
	}
	name := fmt.Sprintf("%q", op.ID)
	if op.ID == "" {
		name = fmt.Sprintf("(operation with empty ID, kind %q)", op.Kind)
	}
	return fmt.Sprintf("operation %s: %v", name, errors.Join(stringsToErrs(probs)...))
}

func stringsToErrs(s []string) []error {
	errs := make([]error, len(s))
	for i, m := range s {
		errs[i] = errors.New(m)
	}
	return errs
}

// Stage is one step of a dry run: the units that would start together.
type Stage struct {
	// Units are the executions of the stage; a unit has more than one ID
	// when operations would be merged into one batch.
	Units [][]string
}
