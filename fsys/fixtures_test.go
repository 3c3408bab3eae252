package fsys

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// recordEnv re-records testdata/fixtures from real runs on loop devices:
//
//	EOS_FSYS_RECORD=1 go test -run 'Real' ./fsys/
//
// Each scenario records into its own directory with a dev.txt naming the
// loop device it ran on; its replay test calls the same functions with
// that device, so the argv matches exactly.
const recordEnv = "EOS_FSYS_RECORD"

func fixtureDir(scenario string) string { return filepath.Join("testdata", "fixtures", scenario) }

// realManager is a Manager running tools for real; when recording, it
// records every run into the scenario's fixture directory.
func realManager(t *testing.T, scenario, dev string) *Manager {
	t.Helper()
	opts := []command.Option{}
	if os.Getenv(recordEnv) == "1" && scenario != "" {
		dir := fixtureDir(scenario)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "dev.txt"), []byte(dev+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, command.WithRecorder(dir))
	}
	x, err := command.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(WithRunner(x))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// replayManager serves a scenario's fixtures and returns the device they
// were recorded on.
func replayManager(t *testing.T, scenario string) (*Manager, string) {
	t.Helper()
	dir := fixtureDir(scenario)
	b, err := os.ReadFile(filepath.Join(dir, "dev.txt"))
	if err != nil {
		t.Fatalf("no recorded fixtures for %s (record them with %s=1 as root): %v", scenario, recordEnv, err)
	}
	r, err := command.ReplayDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(WithRunner(r))
	if err != nil {
		t.Fatal(err)
	}
	return m, strings.TrimSpace(string(b))
}

// mountTemp mounts dev on a temporary directory and returns it; cleanup
// unmounts it unless the test already did.
func mountTemp(t *testing.T, dev string, opts ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append(append([]string{}, opts...), dev, dir)
	testenv.Run(t, "mount", args...)
	t.Cleanup(func() { testenv.RunErr("umount", dir) })
	return dir
}

func umount(t *testing.T, dir string) {
	t.Helper()
	testenv.Run(t, "umount", dir)
}

// blkidTag reads one tag of dev by blkid's low-level probe.
func blkidTag(t *testing.T, dev, tag string) string {
	t.Helper()
	out, _ := testenv.RunErr("blkid", "-p", "-o", "export", dev)
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, tag+"="); ok {
			return v
		}
	}
	return ""
}
