package plugin_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// failing is a backend that cannot even answer Capabilities.
type failing struct{ *plugintest.Memory }

func (failing) Name() string { return "broken" }
func (failing) Capabilities(context.Context) (plugin.Capabilities, error) {
	return nil, errors.New("daemon gone")
}

func mem(t testing.TB) *plugintest.Memory {
	t.Helper()
	m, err := plugintest.NewMemory(t.TempDir(), "mem", 1<<30, plugintest.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// named is a Memory registered under another name.
type named struct {
	*plugintest.Memory
	n string
}

func (b named) Name() string { return b.n }

// noSnapshots is a Memory that says it cannot take snapshots, and why.
type noSnapshots struct{ named }

func (b noSnapshots) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	caps, err := b.Memory.Capabilities(ctx)
	for i := range caps {
		if caps[i].Technology == plugin.TechSnapshot {
			caps[i].Available, caps[i].Reason = false, "this pool keeps no snapshots"
		}
	}
	return caps, err
}

func TestRegistry(t *testing.T) {
	r := plugin.NewRegistry()
	m := mem(t)
	if err := r.Register(m); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(mem(t)); !errors.Is(err, plugin.ErrExists) {
		t.Errorf("second memory: %v", err)
	}
	if err := r.Register(nil); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("nil: %v", err)
	}
	if err := r.Register(failing{mem(t)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(noSnapshots{named{mem(t), "small"}}); err != nil {
		t.Fatal(err)
	}
	if b, err := r.Lookup("memory"); err != nil || b != plugin.Backend(m) {
		t.Errorf("Lookup: %v %v", b, err)
	}
	if _, err := r.Lookup("lvm"); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("Lookup lvm: %v", err)
	}
	if got := strings.Join(r.Names(), ","); got != "broken,memory,small" {
		t.Errorf("Names %s", got)
	}
	rep := r.Report(context.Background())
	if len(rep) != 3 || rep[0].Name != "broken" || rep[0].Error != "daemon gone" {
		t.Fatalf("%+v", rep)
	}
	if !rep[1].Capabilities.Can(plugin.TechSnapshot, plugin.ModeCreate) || rep[2].Capabilities.Can(plugin.TechSnapshot, plugin.ModeCreate) {
		t.Errorf("report %+v", rep)
	}
	err := plugin.Require("small", rep[2].Capabilities, plugin.TechSnapshot, plugin.ModeCreate)
	var ue *plugin.UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, plugin.ErrNotSupported) || ue.Reason == "" {
		t.Errorf("Require: %v", err)
	}
	if err := plugin.Require("small", rep[2].Capabilities, "teleport", plugin.ModeCreate); !errors.Is(err, plugin.ErrNotSupported) {
		t.Errorf("unknown technology: %v", err)
	}
}

// Registering and looking up from many goroutines is safe (run with -race).
func TestRegistryConcurrent(t *testing.T) {
	r := plugin.NewRegistry()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_ = r.Register(named{mem(t), string(rune('a' + i))})
			_, _ = r.Lookup("a")
			_ = r.Report(context.Background())
		}(i)
	}
	wg.Wait()
	if len(r.Names()) != 16 {
		t.Errorf("%v", r.Names())
	}
}
