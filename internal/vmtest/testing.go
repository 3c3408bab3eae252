package vmtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// Require returns the guest assets for a test, preparing them if needed. It
// skips the test in -short mode, and skips (fails under EOS_STORAGE_STRICT=1)
// when QEMU or the assets cannot be had.
func Require(t testing.TB) Assets {
	t.Helper()
	if testing.Short() {
		t.Skip("VM tier: skipped in -short mode")
	}
	if _, err := QEMUPath(); err != nil {
		testenv.Skip(t, "VM tier: %v (install qemu-system-x86)", err)
	}
	a, err := EnsureAssets(context.Background(), nil)
	if err != nil {
		testenv.Skip(t, "VM tier: %v (run scripts/vm-assets.sh as root)", err)
	}
	return a
}

// RunTest boots cfg for a test and fails it unless the guest script exits 0,
// logging the script's stderr and the console on failure.
func RunTest(t testing.TB, cfg Config) *Result {
	t.Helper()
	a := Require(t)
	if cfg.Assets == nil {
		cfg.Assets = &a
	}
	ctx := context.Background()
	if d, ok := t.(interface{ Context() context.Context }); ok {
		ctx = d.Context()
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		if res != nil {
			t.Logf("guest stdout:\n%s", res.Stdout)
			t.Logf("guest stderr:\n%s", res.Stderr)
			if errors.Is(err, ErrScript) {
				t.Logf("console tail:\n%s", tail(res.Console, 3000))
			}
		}
		t.Fatalf("vmtest: %v", err)
	}
	t.Logf("guest ran in %v", res.Elapsed.Round(1e8))
	return res
}

// BuildGo builds a package of this module (an import path or a path
// relative to the module root) as a static binary for the guest
// (CGO_ENABLED=0) into dir, and returns the binary's path.
func BuildGo(ctx context.Context, dir, pkg string) (string, error) {
	root := moduleRoot()
	if root == "" {
		return "", fmt.Errorf("vmtest: build %s: module source not found", pkg)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("vmtest: go build %s: %w: %s", pkg, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// BuildGoTest is BuildGo into t.TempDir(), failing t on error.
func BuildGoTest(t testing.TB, pkg string) string {
	t.Helper()
	p, err := BuildGo(context.Background(), t.TempDir(), pkg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func moduleRoot() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return ""
	}
	return root
}
