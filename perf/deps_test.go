package perf

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const module = "github.com/CodeMonkeyCybersecurity/eos-storage"

// client_golang must stay out of perf (it belongs to perf/promexport): a
// program that only samples disks should not link a metrics library.
func TestNoPrometheusClientDependency(t *testing.T) {
	goTool := testenv.RequireTool(t, "go")[0]
	out, err := exec.Command(goTool, "list", "-deps", ".", "./latency").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/prometheus/client_golang") || strings.HasPrefix(dep, "github.com/prometheus/procfs") {
			t.Errorf("perf or perf/latency depends on %s", dep)
		}
	}
}

// cilium/ebpf belongs to perf/bpflat alone (and to the examples that use
// it): perf, perf/latency (the histograms perf/promexport imports) and
// every other package of the module stay free of it, so that programs
// that do not measure per-request latency never link an eBPF library.
// Tests may import it (go list without -test leaves them out).
func TestCiliumEBPFOnlyInBpflat(t *testing.T) {
	goTool := testenv.RequireTool(t, "go")[0]
	// -e: a package another change left broken must not hide the others.
	out, err := exec.Command(goTool, "list", "-e", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg, deps := f[0], f[1:]
		allowed := pkg == module+"/perf/bpflat" || strings.HasPrefix(pkg, module+"/examples/")
		for _, dep := range deps {
			if dep == "github.com/cilium/ebpf" || strings.HasPrefix(dep, "github.com/cilium/ebpf/") {
				if !allowed {
					t.Errorf("%s depends on %s", pkg, dep)
				}
				if pkg == module+"/perf/bpflat" {
					seen++
				}
				break
			}
		}
	}
	if seen == 0 {
		t.Error("perf/bpflat does not depend on cilium/ebpf: the test no longer sees it")
	}
}
