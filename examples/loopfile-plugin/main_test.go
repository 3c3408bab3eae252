package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// The test binary doubles as the plugin: with asPlugin set it is
// loopfile-plugin's main.
const asPlugin = "EOS_LOOPFILE_PLUGIN_TEST_AS_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(asPlugin) == "1" {
		os.Exit(run(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

func openPlugin(t *testing.T, dir string) *external.Backend {
	t.Helper()
	b, err := external.Open(context.Background(), os.Args[0],
		external.WithEnv(asPlugin+"=1", "GORACE=atexit_sleep_ms=0"),
		external.WithArgs("--dir", dir, "--debug"),
		external.WithLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		external.WithCallTimeout(time.Minute))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Logf("%s", p); return len(p), nil }

// Run by hand, without the host's handshake, the plugin says so and
// exits 1 (go-plugin exits the process, so it runs as a child).
func TestNotStartedByAHost(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--dir", t.TempDir())
	cmd.Env = append(os.Environ(), asPlugin+"=1", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "plugin") {
		t.Errorf("run by hand: %v\n%s", err, out)
	}
}

// The loopfile backend through the plugin, for real: sparse files and
// loop devices (root).
func TestLoopfileThroughPlugin(t *testing.T) {
	testenv.RequireRoot(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "vols")
	b := openPlugin(t, dir)
	if b.Name() != "loopfile" {
		t.Errorf("Name %q", b.Name())
	}
	caps, err := b.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Can(plugin.TechVolume, plugin.ModeCreate) {
		c, _ := caps.Lookup(plugin.TechVolume, plugin.ModeCreate)
		testenv.Skip(t, "loopfile cannot create volumes here: %s (missing %s)", c.Reason, c.MissingTool)
	}
	pools, err := b.Pools(ctx)
	if err != nil || len(pools) == 0 {
		t.Fatalf("Pools: %v, %v", pools, err)
	}
	pool := pools[0].Name
	apply := func(ops []sched.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plugin.Apply(ctx, nil, ops); err != nil {
			t.Fatal(err)
		}
	}
	apply(b.CreateVolume(ctx, plugin.CreateRequest{Pool: pool, Name: "ext1", SizeBytes: 16 << 20}))
	t.Cleanup(func() {
		if ops, err := b.DeleteVolume(context.Background(), pool+"/ext1"); err == nil {
			plugin.Apply(context.Background(), nil, ops)
		}
	})
	vols, err := b.Volumes(ctx, pool)
	if err != nil || len(vols) != 1 || vols[0].SizeBytes < 16<<20 {
		t.Fatalf("Volumes: %+v, %v", vols, err)
	}
	id := vols[0].ID
	if vols[0].Device == "" {
		t.Errorf("volume %s has no device", id)
	} else if _, err := os.Stat(vols[0].Device); err != nil {
		t.Errorf("device %s: %v", vols[0].Device, err)
	}
	apply(b.ResizeVolume(ctx, id, 32<<20))
	if v, err := b.Volume(ctx, id); err != nil || v.SizeBytes < 32<<20 {
		t.Fatalf("after resize: %+v, %v", v, err)
	}
	apply(b.DeleteVolume(ctx, id))
	if _, err := b.Volume(ctx, id); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

// The conformance suite on the loopfile backend through the plugin, for
// real: loop devices, data written and read through them (root).
func TestConformanceThroughPlugin(t *testing.T) {
	testenv.RequireRoot(t)
	plugintest.Run(t, func(t *testing.T) plugin.Backend {
		b := openPlugin(t, filepath.Join(t.TempDir(), "vols"))
		caps, err := b.Capabilities(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := caps.Lookup(plugin.TechVolume, plugin.ModeCreate); !c.Available {
			testenv.Skip(t, "loopfile cannot create volumes here: %s (missing %s)", c.Reason, c.MissingTool)
		}
		return b
	}, plugintest.Options{Pool: "default"})
}
