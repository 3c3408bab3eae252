package vmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// guestTestBinary builds pkg's test binary (a path relative to the module
// root) statically, as the guest needs it, into a file named name, and
// returns its path.
func guestTestBinary(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "test", "-c", "-o", bin, pkg)
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c %s: %v: %s", pkg, err, b)
	}
	return bin
}
