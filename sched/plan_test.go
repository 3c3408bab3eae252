package sched

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func op(id string, deps ...string) Operation {
	return Operation{ID: id, Dependencies: deps, Execute: noop}
}

func TestValidateReportsEverythingAtOnce(t *testing.T) {
	p := NewPlan(
		op("a", "missing"),
		op("a"),
		Operation{ID: "noexec"},
		Operation{ID: "badkey", Execute: noop, Resources: []Resource{{Mode: Shared}}},
		Operation{ID: "badmode", Execute: noop, Resources: []Resource{{Key: Disk("8:0")}}},
		Operation{ID: "badretry", Execute: noop, Retry: &RetryPolicy{Jitter: -1}},
		op("self", "self"),
	)
	err := p.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	for _, s := range []error{ErrInvalidPlan, ErrDuplicateID, ErrUnknownDependency, ErrCycle, ErrInvalidOperation} {
		if !errors.Is(err, s) {
			t.Errorf("not %v: %v", s, err)
		}
	}
	if !slices.Equal(ve.Duplicates, []string{"a"}) {
		t.Errorf("duplicates %v", ve.Duplicates)
	}
	if len(ve.Unknown) != 1 || ve.Unknown[0] != (UnknownDependency{"a", "missing"}) {
		t.Errorf("unknown %v", ve.Unknown)
	}
	if len(ve.Invalid) != 4 {
		t.Errorf("invalid %q", ve.Invalid)
	}
	if len(ve.Cycles) != 1 || !slices.Equal(ve.Cycles[0], []string{"self"}) {
		t.Errorf("cycles %v", ve.Cycles)
	}
	if _, err := mustNew(t).Run(t.Context(), p); !errors.Is(err, ErrInvalidPlan) {
		t.Errorf("Run of invalid plan: %v", err)
	}
}

func TestValidateNamesEveryCycle(t *testing.T) {
	// Two overlapping cycles through b, one separate, one acyclic tail:
	// a->b->a, b->c->b (a "figure eight" around b), x->y->z->x.
	p := NewPlan(
		op("a", "b"),
		op("b", "a", "c"),
		op("c", "b"),
		op("x", "y"),
		op("y", "z"),
		op("z", "x"),
		op("tail", "a", "z"),
	)
	var ve *ValidationError
	if err := p.Validate(); !errors.As(err, &ve) || !errors.Is(err, ErrCycle) {
		t.Fatalf("err %v", err)
	}
	want := [][]string{{"a", "b"}, {"b", "c"}, {"x", "y", "z"}}
	if !slices.EqualFunc(ve.Cycles, want, slices.Equal) {
		t.Fatalf("cycles %v, want %v", ve.Cycles, want)
	}
	msg := ve.Error()
	for _, s := range []string{`"a" -> "b" -> "a"`, `"x" -> "y" -> "z" -> "x"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %s", msg, s)
		}
	}
	if strings.Contains(msg, "tail") {
		t.Errorf("tail is in no cycle: %q", msg)
	}
}

func TestValidateCompleteGraphCycles(t *testing.T) {
	// A complete digraph on n nodes has sum_{k=2..n} C(n,k)(k-1)! cycles:
	// 20 for n=4. Every one must be listed exactly once.
	ids := []string{"p", "q", "r", "s"}
	p := NewPlan()
	for _, id := range ids {
		var deps []string
		for _, d := range ids {
			if d != id {
				deps = append(deps, d)
			}
		}
		p.Add(op(id, deps...))
	}
	var ve *ValidationError
	if !errors.As(p.Validate(), &ve) {
		t.Fatal("no error")
	}
	if len(ve.Cycles) != 20 || ve.CyclesTruncated {
		t.Fatalf("%d cycles (truncated %v): %v", len(ve.Cycles), ve.CyclesTruncated, ve.Cycles)
	}
	seen := map[string]bool{}
	for _, c := range ve.Cycles {
		k := strings.Join(c, ",")
		if seen[k] {
			t.Fatalf("cycle %v twice", c)
		}
		seen[k] = true
		if c[0] != "p" && slices.Contains(c, "p") {
			t.Fatalf("cycle %v does not start at its earliest op", c)
		}
	}
}

func TestValidateCyclesTruncated(t *testing.T) {
	// K7 has far more than MaxCycles cycles; the list stops, and says so.
	p := NewPlan()
	for i := range 7 {
		var deps []string
		for j := range 7 {
			if j != i {
				deps = append(deps, fmt.Sprint(j))
			}
		}
		p.Add(op(fmt.Sprint(i), deps...))
	}
	var ve *ValidationError
	if !errors.As(p.Validate(), &ve) || len(ve.Cycles) != MaxCycles || !ve.CyclesTruncated {
		t.Fatalf("%d cycles, truncated %v", len(ve.Cycles), ve.CyclesTruncated)
	}
}

func TestValidateLongChainIsFast(t *testing.T) {
	// A 10,000-long chain, then closed into one cycle: both linear work.
	p := NewPlan(op("0"))
	for i := 1; i < 10000; i++ {
		p.Add(op(fmt.Sprint(i), fmt.Sprint(i-1)))
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.ops[0].Dependencies = []string{"9999"}
	var ve *ValidationError
	if !errors.As(p.Validate(), &ve) || len(ve.Cycles) != 1 || len(ve.Cycles[0]) != 10000 {
		t.Fatalf("cycles %d", len(ve.Cycles))
	}
}

func TestDryRunStages(t *testing.T) {
	d := Disk("8:0")
	p := NewPlan(
		Operation{ID: "table", Execute: noop, Resources: []Resource{d.Exclusive()}},
		Operation{ID: "mkfs1", Execute: noop, Dependencies: []string{"table"}, Resources: []Resource{d.Partition(1).Exclusive()}},
		Operation{ID: "mkfs2", Execute: noop, Dependencies: []string{"table"}, Resources: []Resource{d.Partition(2).Exclusive()}},
		Operation{ID: "scan", Execute: noop, Resources: []Resource{d.Shared()}},
		Operation{ID: "mount1", Execute: noop, Dependencies: []string{"mkfs1"}, Resources: []Resource{d.Partition(1).Filesystem().Shared()}},
	)
	stages, err := mustNew(t, WithWorkers(4)).DryRun(p)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, st := range stages {
		var s []string
		for _, u := range st.Units {
			s = append(s, strings.Join(u, "+"))
		}
		got = append(got, s)
	}
	// scan (shared disk) cannot run with table (exclusive disk), and waits
	// behind it; it also keeps the partition work out until it is done.
	want := [][]string{{"table"}, {"scan"}, {"mkfs1", "mkfs2"}, {"mount1"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("stages %v, want %v", got, want)
	}
}
