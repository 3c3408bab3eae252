package perf

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// client_golang must stay out of perf (it belongs to perf/promexport): a
// program that only samples disks should not link a metrics library.
func TestNoPrometheusClientDependency(t *testing.T) {
	goTool := testenv.RequireTool(t, "go")[0]
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/prometheus/client_golang") || strings.HasPrefix(dep, "github.com/prometheus/procfs") {
			t.Errorf("perf depends on %s", dep)
		}
	}
}
