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

// FuzzValidate builds a dependency graph from bytes and checks the cycle
// finder against brute force: every listed cycle is real, none is listed
// twice, and the count matches an exhaustive search; an acyclic plan dry
// runs with every operation in exactly one stage.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{3, 0, 1, 1, 2, 2, 0})
	f.Add([]byte{5, 0, 1, 1, 0, 2, 3, 3, 4, 4, 2, 1, 1})
	f.Add([]byte{6})
	f.Add([]byte{4, 0, 1, 0, 2, 1, 3, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		n := int(data[0])%7 + 1
		deps := make([][]int, n)
		for i := 1; i+1 < len(data) && i < 60; i += 2 {
			a, b := int(data[i])%n, int(data[i+1])%n
			if !slices.Contains(deps[a], b) {
				deps[a] = append(deps[a], b)
			}
		}
		p := NewPlan()
		for i := range n {
			var ds []string
			for _, d := range deps[i] {
				ds = append(ds, fmt.Sprint(d))
			}
			p.Add(op(fmt.Sprint(i), ds...))
		}
		want := bruteCycles(deps)
		err := p.Validate()
		var ve *ValidationError
		if want == 0 {
			if err != nil {
				t.Fatalf("acyclic plan rejected: %v", err)
			}
			stages, err := mustNew(t, WithWorkers(3)).DryRun(p)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, st := range stages {
				for _, u := range st.Units {
					for _, id := range u {
						seen[id]++
					}
				}
			}
			if len(seen) != n {
				t.Fatalf("dry run covered %d of %d", len(seen), n)
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("%s in %d stages", id, c)
				}
			}
			return
		}
		if !errors.As(err, &ve) {
			t.Fatalf("%d cycles but err %v", want, err)
		}
		got := min(want, MaxCycles)
		if len(ve.Cycles) != got || ve.CyclesTruncated != (want > MaxCycles) {
			t.Fatalf("listed %d cycles (truncated %v), brute force %d", len(ve.Cycles), ve.CyclesTruncated, want)
		}
		uniq := map[string]bool{}
		for _, c := range ve.Cycles {
			k := strings.Join(c, ",")
			if uniq[k] {
				t.Fatalf("cycle %v twice", c)
			}
			uniq[k] = true
			on := map[string]bool{}
			for i, id := range c {
				if on[id] {
					t.Fatalf("cycle %v repeats %s", c, id)
				}
				on[id] = true
				var a, b int
				fmt.Sscan(id, &a)
				fmt.Sscan(c[(i+1)%len(c)], &b)
				if !slices.Contains(deps[a], b) {
					t.Fatalf("cycle %v: %d does not depend on %d", c, a, b)
				}
			}
		}
	})
}

// bruteCycles counts elementary cycles by trying every simple path from
// each vertex through higher-numbered vertices only.
func bruteCycles(deps [][]int) int {
	count := 0
	var walk func(start, v int, on []bool)
	walk = func(start, v int, on []bool) {
		for _, w := range deps[v] {
			if w == start {
				count++
			} else if w > start && !on[w] {
				on[w] = true
				walk(start, w, on)
				on[w] = false
			}
		}
	}
	for s := range deps {
		on := make([]bool, len(deps))
		on[s] = true
		walk(s, s, on)
	}
	return count
}
