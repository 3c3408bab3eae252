package external

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/internal/memback"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// The proxy is differential-tested against the backend it carries: the
// same sequence of calls on memback in process and on memback in a plugin
// process must give the same values, the same operations (ID, kind,
// resources, dependencies, undoable) and errors matching the same
// sentinels. A difference is the proxy's fault: the backend is the same
// code on both sides.
func TestSameAsInProcess(t *testing.T) {
	ctx := context.Background()
	local := memback.New(memback.Fault{}, nil)
	remote := open(t, nil)
	type step struct {
		name string
		do   func(plugin.Backend) (any, error)
	}
	// mut describes a mutating call's operations and, with apply, runs
	// them and adds the final states.
	mut := func(apply bool, call func(plugin.Backend) opsAndErr) func(plugin.Backend) (any, error) {
		return func(b plugin.Backend) (any, error) {
			r := call(b)
			if r.err != nil {
				return nil, r.err
			}
			desc := describeOps(r.ops)
			if apply {
				rep, err := plugin.Apply(ctx, nil, r.ops)
				states := []string{}
				for _, res := range rep.Results {
					states = append(states, res.ID+" "+res.State.String())
				}
				return map[string]any{"ops": desc, "states": states}, err
			}
			return desc, nil
		}
	}
	steps := []step{
		{"caps", func(b plugin.Backend) (any, error) { return b.Capabilities(ctx) }},
		{"limits", func(b plugin.Backend) (any, error) { return b.Limits(), nil }},
		{"pools", func(b plugin.Backend) (any, error) { return b.Pools(ctx) }},
		{"create a", mut(true, func(b plugin.Backend) opsAndErr {
			return mk(b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "a", SizeBytes: 100, Tags: []string{"t"}}))
		})},
		{"create a again", mut(false, func(b plugin.Backend) opsAndErr {
			return mk(b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "a", SizeBytes: 100}))
		})},
		{"create a bigger", mut(false, func(b plugin.Backend) opsAndErr {
			return mk(b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "a", SizeBytes: 1 << 20}))
		})},
		{"create bad name", mut(false, func(b plugin.Backend) opsAndErr {
			return mk(b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "a/b", SizeBytes: 1}))
		})},
		{"create other pool", mut(false, func(b plugin.Backend) opsAndErr {
			return mk(b.CreateVolume(ctx, plugin.CreateRequest{Pool: "nope", Name: "a", SizeBytes: 1}))
		})},
		{"create thin", mut(false, func(b plugin.Backend) opsAndErr {
			return mk(b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "t", SizeBytes: 1, Thin: true}))
		})},
		{"volume a", func(b plugin.Backend) (any, error) { return b.Volume(ctx, "mem/a") }},
		{"volume none", func(b plugin.Backend) (any, error) { return b.Volume(ctx, "mem/none") }},
		{"resize a", mut(true, func(b plugin.Backend) opsAndErr { return mk(b.ResizeVolume(ctx, "mem/a", 3<<20)) })},
		{"resize a zero", mut(false, func(b plugin.Backend) opsAndErr { return mk(b.ResizeVolume(ctx, "mem/a", 0)) })},
		{"snapshot", mut(true, func(b plugin.Backend) opsAndErr { return mk(b.CreateSnapshot(ctx, "mem/a", "s")) })},
		{"snapshots", func(b plugin.Backend) (any, error) { return b.Snapshots(ctx, "") }},
		{"delete in use", mut(false, func(b plugin.Backend) opsAndErr { return mk(b.DeleteVolume(ctx, "mem/a")) })},
		{"delete snapshot", mut(true, func(b plugin.Backend) opsAndErr { return mk(b.DeleteSnapshot(ctx, "mem/a@s")) })},
		{"delete a", mut(true, func(b plugin.Backend) opsAndErr { return mk(b.DeleteVolume(ctx, "mem/a")) })},
		{"delete a again", mut(false, func(b plugin.Backend) opsAndErr { return mk(b.DeleteVolume(ctx, "mem/a")) })},
		{"volumes", func(b plugin.Backend) (any, error) { return b.Volumes(ctx, "") }},
		{"volumes other pool", func(b plugin.Backend) (any, error) { return b.Volumes(ctx, "nope") }},
	}
	for _, s := range steps {
		lv, lerr := s.do(local)
		rv, rerr := s.do(remote)
		if d := cmp.Diff(asJSON(t, lv), asJSON(t, rv)); d != "" {
			t.Errorf("%s: values differ (-in process +plugin):\n%s", s.name, d)
		}
		if d := cmp.Diff(sentinels(lerr), sentinels(rerr)); d != "" {
			t.Errorf("%s: errors differ: in process %v, plugin %v (%s)", s.name, lerr, rerr, d)
		}
		var li, ri *plugin.InvalidError
		if errors.As(lerr, &li) != errors.As(rerr, &ri) || (li != nil && *li != *ri) {
			t.Errorf("%s: invalid errors differ: %v / %v", s.name, lerr, rerr)
		}
	}
}

type opsAndErr struct {
	ops []sched.Operation
	err error
}

func mk(ops []sched.Operation, err error) opsAndErr { return opsAndErr{ops, err} }

type opDesc struct {
	ID, Kind     string
	Priority     int
	Resources    []string
	Dependencies []string
	Undoable     bool
	Timeout      string
}

func describeOps(ops []sched.Operation) []opDesc {
	out := []opDesc{}
	for _, op := range ops {
		d := opDesc{ID: op.ID, Kind: op.Kind, Priority: op.Priority, Dependencies: op.Dependencies,
			Undoable: op.Rollback != nil, Timeout: op.Timeout.String()}
		for _, r := range op.Resources {
			d.Resources = append(d.Resources, r.String())
		}
		out = append(out, d)
	}
	return out
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sentinels(err error) []string {
	var out []string
	for _, s := range []error{plugin.ErrNotFound, plugin.ErrExists, plugin.ErrNoSpace, plugin.ErrInvalid,
		plugin.ErrNotSupported, plugin.ErrInUse, plugin.ErrBackend} {
		if errors.Is(err, s) {
			out = append(out, s.Error())
		}
	}
	if err != nil && out == nil {
		out = append(out, fmt.Sprintf("untyped %T", err))
	}
	return out
}
