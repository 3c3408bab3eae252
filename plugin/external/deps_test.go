package external

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const module = "github.com/CodeMonkeyCybersecurity/eos-storage"

// grpc and go-plugin (and what they pull in: yamux, hclog) belong to
// plugin/external, csi and the examples: the core packages, and every
// in-tree backend, stay free of them, so a program that manages volumes
// in process never links an RPC stack. Tests may import them (go list
// without -test leaves tests out).
func TestRPCDepsOnlyInExternal(t *testing.T) {
	goTool := testenv.RequireTool(t, "go")[0]
	// -e: a package another change left broken must not hide the others.
	out, err := exec.Command(goTool, "list", "-e", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"google.golang.org/grpc", "github.com/hashicorp/go-plugin", "github.com/hashicorp/yamux", "github.com/hashicorp/go-hclog"}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		pkg, deps := f[0], f[1:]
		allowed := pkg == module+"/plugin/external" || strings.HasPrefix(pkg, module+"/plugin/external/") ||
			pkg == module+"/csi" || strings.HasPrefix(pkg, module+"/csi/") ||
			strings.HasPrefix(pkg, module+"/examples/")
		for _, dep := range deps {
			bad := false
			for _, fb := range forbidden {
				if dep == fb || strings.HasPrefix(dep, fb+"/") {
					bad = true
				}
			}
			if !bad {
				continue
			}
			if !allowed {
				t.Errorf("%s depends on %s", pkg, dep)
			}
			if pkg == module+"/plugin/external" {
				seen++
			}
			break
		}
	}
	if seen == 0 {
		t.Error("plugin/external does not depend on grpc: the test no longer sees it")
	}
}
