package plugintest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func newMem(t testing.TB, opts ...MemoryOption) *Memory {
	t.Helper()
	m, err := NewMemory(append([]MemoryOption{MemoryPool("p", 64<<20)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The reference backend passes, with everything on and with parts off.
func TestMemory(t *testing.T) {
	Run(t, func(t *testing.T) plugin.Backend { return newMem(t, MemoryDir(t.TempDir())) }, Options{Pool: "p"})
}

func TestMemoryWithout(t *testing.T) {
	Run(t, func(t *testing.T) plugin.Backend {
		return newMem(t, MemoryWithout(plugin.TechThin, plugin.TechShrink, plugin.TechSnapshot, plugin.TechClone))
	}, Options{Pool: "p"})
}

func TestMemoryWithoutClone(t *testing.T) {
	Run(t, func(t *testing.T) plugin.Backend { return newMem(t, MemoryWithout(plugin.TechClone)) }, Options{Pool: "p"})
}

// brokenSnapshots declares snapshots but every snapshot call fails.
type brokenSnapshots struct{ *Memory }

func (brokenSnapshots) CreateSnapshot(context.Context, string, string) ([]sched.Operation, error) {
	return nil, errors.New("snapshots are broken")
}

// unrounded claims a 1 MiB granularity but keeps sizes exact.
type unrounded struct{ *Memory }

func (unrounded) Limits() plugin.Limits {
	return plugin.Limits{MaxNameLen: 64, NameChars: "_-.", Granularity: 1 << 20, MinSize: 1 << 20}
}

// notIdempotent returns a failing operation for a create that holds already.
type notIdempotent struct{ *Memory }

func (b notIdempotent) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if _, err := b.Volume(ctx, req.Pool+"/"+req.Name); err == nil {
		return []sched.Operation{{ID: "again", Execute: func(context.Context, sched.Progress) error {
			return fmt.Errorf("%s: %w", req.Name, plugin.ErrExists)
		}}}, nil
	}
	return b.Memory.CreateVolume(ctx, req)
}

// shrinksAnyway declares no shrink but does it.
type shrinksAnyway struct{ *Memory }

func (b shrinksAnyway) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	c, err := b.Memory.Capabilities(ctx)
	for i := range c {
		if c[i].Technology == plugin.TechShrink {
			c[i].Available, c[i].Reason = false, "claimed off"
		}
	}
	return c, err
}

// laxNames accepts every name (and does nothing with a bad one).
type laxNames struct{ *Memory }

func (b laxNames) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if plugin.CheckName(b.Limits(), "name", req.Name) != nil {
		return []sched.Operation{{ID: "lax", Execute: func(context.Context, sched.Progress) error { return nil }}}, nil
	}
	return b.Memory.CreateVolume(ctx, req)
}

// TestSuiteCatches runs the suite's checks against broken backends and
// asserts which checks fail: a broken capability must fail, not skip.
func TestSuiteCatches(t *testing.T) {
	mem := func(opts ...MemoryOption) *Memory { return newMem(t, opts...) }
	exact := func() *Memory {
		return mem(MemoryLimits(plugin.Limits{MaxNameLen: 64, NameChars: "_-.", Granularity: 1}))
	}
	for _, tc := range []struct {
		name string
		b    plugin.Backend
		want []string // checks that must fail (others may too)
	}{
		{"snapshots declared but broken", brokenSnapshots{mem()}, []string{"snapshots", "clone"}},
		{"does not round", unrounded{exact()}, []string{"create", "thin", "resize"}},
		{"not idempotent", notIdempotent{mem()}, []string{"create", "thin"}},
		{"shrinks though it says it cannot", shrinksAnyway{mem()}, []string{"resize"}},
		{"accepts bad names", laxNames{mem()}, []string{"names"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := results(context.Background(), tc.b, Options{Pool: "p"})
			var names []string
			for n := range got {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, w := range tc.want {
				if got[w] == nil {
					t.Errorf("check %q passed; failed: %v", w, names)
				}
			}
			for _, n := range names {
				t.Logf("%s: %s", n, strings.ReplaceAll(got[n].Error(), "\n", "; "))
			}
		})
	}
}

// A correct backend fails nothing in results either (the view the self-test
// relies on agrees with Run).
func TestResultsClean(t *testing.T) {
	if got := results(context.Background(), newMem(t, MemoryDir(t.TempDir())), Options{Pool: "p"}); len(got) != 0 {
		t.Fatal(got)
	}
}

func TestRunNeedsPool(t *testing.T) {
	got := results(context.Background(), newMem(t), Options{})
	if len(got) != len(checks) {
		t.Fatalf("%d failures, want every check", len(got))
	}
}
