package plugintest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

func memory(t *testing.T, f Faults) *Memory {
	m, err := NewMemory(filepath.Join(t.TempDir(), "vols"), "mem", 1<<40, f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The reference backend passes.
func TestMemoryConforms(t *testing.T) {
	Run(t, func(t *testing.T) plugin.Backend { return memory(t, Faults{}) }, Options{Pool: "mem"})
}

// Each broken variant fails the check that covers what it breaks.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	for _, c := range []struct {
		name  string
		f     Faults
		check string
	}{
		{"snapshots declared but broken", Faults{BrokenSnapshots: true}, "snapshot"},
		{"sizes off the granularity", Faults{NoRounding: true}, "create"},
		{"repeat create not idempotent", Faults{NotIdempotent: true}, "create"},
		{"bad names accepted", Faults{AcceptsBadNames: true}, "names"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fails := Check(context.Background(), memory(t, c.f), Options{Pool: "mem"})
			found := false
			for _, f := range fails {
				found = found || f.Check == c.check
			}
			if !found {
				t.Fatalf("no %q failure in %v", c.check, fails)
			}
		})
	}
}

// A declared capability nothing exercises is a failure.
type overclaiming struct{ *Memory }

func (o overclaiming) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	caps, _ := o.Memory.Capabilities(ctx)
	for i := range caps {
		if caps[i].Technology == plugin.TechThin {
			caps[i].Available = true
		}
	}
	return append(caps, plugin.Capability{Technology: "teleport", Mode: plugin.ModeCreate, Available: true}), nil
}

func TestSuiteFailsOverclaiming(t *testing.T) {
	fails := Check(context.Background(), overclaiming{memory(t, Faults{})}, Options{Pool: "mem"})
	var thin, teleport bool
	for _, f := range fails {
		thin = thin || f.Check == "thin"
		teleport = teleport || (f.Check == "unexercised" && strings.Contains(f.Detail, "teleport"))
	}
	if !thin || !teleport {
		t.Fatalf("thin (declared, not thin) %v, teleport (unexercised) %v: %v", thin, teleport, fails)
	}
}
