package external

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// The conformance suite passes through the proxy: plugintest's reference
// Memory backend, served by a plugin process, is as conformant as in
// process. Everything the suite checks (typed errors for bad names and
// sizes, idempotent repeats, snapshots, clones, concurrent creates and
// deletes) crosses the process boundary intact.
func TestConformanceThroughPlugin(t *testing.T) {
	plugintest.Run(t, func(t *testing.T) plugin.Backend {
		return open(t, []string{envReference + "=" + filepath.Join(t.TempDir(), "vols")})
	}, plugintest.Options{Pool: "mem"})
}

// And the suite sees through the proxy: a reference backend with broken
// snapshots, served by a plugin, fails the snapshot checks.
func TestConformanceCatchesThroughPlugin(t *testing.T) {
	b := open(t, []string{envReference + "=" + filepath.Join(t.TempDir(), "vols"), envBroken + "=1"})
	fails := plugintest.Check(context.Background(), b, plugintest.Options{Pool: "mem"})
	found := false
	for _, f := range fails {
		found = found || strings.Contains(f.Check, "snapshot")
	}
	if !found {
		t.Errorf("broken snapshots not caught through the plugin: %v", fails)
	}
}
