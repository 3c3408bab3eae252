package bpflat

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// kernelObjects are programs, maps and links of this package, by their
// kernel IDs.
type kernelObjects struct {
	progs []ebpf.ProgramID
	maps  []ebpf.MapID
	links []link.ID
}

func (k kernelObjects) empty() bool { return len(k.progs)+len(k.maps)+len(k.links) == 0 }

// heldObjects lists the objects of this package this process holds a
// descriptor of, from /proc/self/fdinfo (prog_id, map_id, link_id): other
// processes (another package's tests running at the same time, another
// collector on the machine) have objects of the same names, which are not
// ours to count.
func heldObjects(t testing.TB) kernelObjects {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var k kernelObjects
	var linkIDs []link.ID
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || !strings.HasPrefix(target, "anon_inode:bpf") {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		for _, line := range strings.Split(string(info), "\n") {
			key, val, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			id, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32)
			if err != nil {
				continue
			}
			switch {
			case key == "prog_id" && target == "anon_inode:bpf-prog":
				if ourProgram(ebpf.ProgramID(id)) && !slices.Contains(k.progs, ebpf.ProgramID(id)) {
					k.progs = append(k.progs, ebpf.ProgramID(id))
				}
			case key == "map_id" && target == "anon_inode:bpf-map":
				if m, err := ebpf.NewMapFromID(ebpf.MapID(id)); err == nil {
					if mi, err := m.Info(); err == nil && strings.HasPrefix(mi.Name, "eos_rq_") && !slices.Contains(k.maps, ebpf.MapID(id)) {
						k.maps = append(k.maps, ebpf.MapID(id))
					}
					m.Close()
				}
			case key == "link_id":
				linkIDs = append(linkIDs, link.ID(id))
			}
		}
	}
	for _, id := range linkIDs {
		if l, err := link.NewFromID(id); err == nil {
			if li, err := l.Info(); err == nil && ourProgram(li.Program) && !slices.Contains(k.links, id) {
				k.links = append(k.links, id)
			}
			l.Close()
		}
	}
	return k
}

func ourProgram(id ebpf.ProgramID) bool {
	p, err := ebpf.NewProgramFromID(id)
	if err != nil {
		return false
	}
	defer p.Close()
	info, err := p.Info()
	return err == nil && (info.Name == issueName || info.Name == completeName)
}

// waitGone waits until the kernel has freed every object of k (it frees
// them asynchronously once the last reference is gone) and this process
// holds no object of this package.
func waitGone(t testing.TB, k kernelObjects) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var left []string
		for _, id := range k.progs {
			if p, err := ebpf.NewProgramFromID(id); err == nil {
				p.Close()
				left = append(left, "program "+strconv.Itoa(int(id)))
			}
		}
		for _, id := range k.maps {
			if m, err := ebpf.NewMapFromID(id); err == nil {
				m.Close()
				left = append(left, "map "+strconv.Itoa(int(id)))
			}
		}
		for _, id := range k.links {
			if l, err := link.NewFromID(id); err == nil {
				l.Close()
				left = append(left, "link "+strconv.Itoa(int(id)))
			}
		}
		if h := heldObjects(t); !h.empty() {
			left = append(left, "held by this process")
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still in the kernel: %s", strings.Join(left, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close detaches the programs and frees every map: nothing of the
// collector stays in the kernel, in the default mode (Total: one program,
// three maps) and with every stage (two programs and the in-flight table).
func TestCloseLeavesNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	requireBPF(t)
	waitGone(t, kernelObjects{})
	for _, m := range []struct {
		name               string
		opts               []Option
		progs, maps, links int
	}{{"default", nil, 1, 3, 1}, {"stages", []Option{WithStages(latency.Stages...)}, 2, 4, 2},
		{"filter", []Option{WithDeviceFilter(func(string) bool { return true })}, 1, 4, 1}} {
		c, err := New(append(m.opts, WithRules(Rule{Name: "slow", Op: 1, Kind: 1, Above: time.Second}), WithAlertHandler(func(Alert) {}))...)
		if err != nil {
			t.Fatal(err)
		}
		k := heldObjects(t)
		if len(k.progs) != m.progs || len(k.maps) != m.maps || len(k.links) != m.links {
			c.Close()
			t.Fatalf("%s: after New: programs %v, maps %v, links %v", m.name, k.progs, k.maps, k.links)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		waitGone(t, k)
		if _, err := c.Read(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Read after Close: %v", err)
		}
		if _, err := c.Stats(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Stats after Close: %v", err)
		}
	}
}

// A New that fails at any step leaves nothing loaded or attached: what it
// had made when it failed (seen at that moment) is gone after it returns.
func TestFailedNewLeavesNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	requireBPF(t)
	waitGone(t, kernelObjects{})
	type step struct {
		name               string
		progs, maps, links int
	}
	for _, m := range []struct {
		name  string
		opts  []Option
		steps []step
	}{
		{"default", nil, []step{{"map eos_rq_hists", 0, 1, 0}, {"map eos_rq_zero", 0, 2, 0}, {"map eos_rq_stats", 0, 3, 0},
			{"program " + completeName, 1, 3, 0}, {"attach " + completeName, 1, 3, 1}}},
		{"filter", []Option{WithDeviceFilter(func(string) bool { return true })}, []step{{"map eos_rq_watch", 0, 4, 0},
			{"program " + completeName, 1, 4, 0}, {"attach " + completeName, 1, 4, 1}}},
		{"stages", []Option{WithStages(latency.Stages...)}, []step{{"map eos_rq_starts", 0, 1, 0}, {"map eos_rq_hists", 0, 2, 0},
			{"map eos_rq_zero", 0, 3, 0}, {"map eos_rq_stats", 0, 4, 0}, {"program " + issueName, 1, 4, 0},
			{"program " + completeName, 2, 4, 0}, {"attach " + issueName, 2, 4, 1}, {"attach " + completeName, 2, 4, 2}}},
	} {
		for _, c := range m.steps {
			failAt(t, m.name, c.name, c.progs, c.maps, c.links, m.opts)
		}
	}
}

// failAt makes New (with opts) fail at step and checks what it had made
// then, and that all of it is gone after New returned.
func failAt(t *testing.T, mode, step string, progs, maps, links int, opts []Option) {
	t.Helper()
	injected := errors.New("injected")
	var made kernelObjects
	opts = append(slices.Clone(opts), withFailAt(step, injected, func() { made = heldObjects(t) }),
		WithRules(Rule{Name: "r", Op: 1, Kind: 1, Above: time.Second}), WithAlertHandler(func(Alert) {}))
	col, err := New(opts...)
	if !errors.Is(err, injected) {
		if col != nil {
			col.Close()
		}
		t.Fatalf("%s: failing at %q: %v", mode, step, err)
	}
	if len(made.progs) != progs || len(made.maps) != maps || len(made.links) != links {
		t.Errorf("%s: failing at %q: it had made programs %v, maps %v, links %v", mode, step, made.progs, made.maps, made.links)
	}
	waitGone(t, made)
}
