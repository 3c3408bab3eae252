package external

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/internal/memback"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// The test binary doubles as the plugin: with envPlugin set, TestMain
// serves the in-memory backend (faults from memback's environment, lies
// and protocol versions from envLie and envVersions) instead of testing.
const (
	envPlugin   = "EOS_EXTERNAL_TEST_PLUGIN"
	envLie      = "EOS_EXTERNAL_TEST_LIE"
	envVersions = "EOS_EXTERNAL_TEST_VERSIONS"
	envStderr   = "EOS_EXTERNAL_TEST_STDERR"
	envPending  = "EOS_EXTERNAL_TEST_MAX_PENDING"
	// envReference, set to a directory, serves plugintest's reference
	// Memory backend (volumes as directories under it) instead of memback.
	envReference = "EOS_EXTERNAL_TEST_REFERENCE"
	// envBroken makes the reference backend's snapshots broken.
	envBroken = "EOS_EXTERNAL_TEST_REFERENCE_BROKEN"
)

func TestMain(m *testing.M) {
	if os.Getenv(envPlugin) == "1" {
		os.Exit(runTestPlugin())
	}
	goleak.VerifyTestMain(m)
}

func runTestPlugin() int {
	if s := os.Getenv(envStderr); s != "" {
		fmt.Fprintln(os.Stderr, s)
	}
	log := NewPluginLogger(os.Stderr, slog.LevelDebug)
	cfg := serveConfig{log: log, maxPending: 4096, versions: []int{ProtocolVersion}}
	if vs := os.Getenv(envVersions); vs != "" {
		cfg.versions = nil
		for _, s := range strings.Split(vs, ",") {
			v, err := strconv.Atoi(s)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
			cfg.versions = append(cfg.versions, v)
		}
	}
	if p := os.Getenv(envPending); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		cfg.maxPending = n
	}
	if name := os.Getenv(envLie); name != "" {
		l, ok := lieByName(name)
		if !ok {
			fmt.Fprintln(os.Stderr, "unknown lie", name)
			return 2
		}
		cfg.lie = l.answer
	}
	var b plugin.Backend = memback.New(memback.FromEnv(), log)
	if dir := os.Getenv(envReference); dir != "" {
		m, err := plugintest.NewMemory(dir, "mem", 1<<40, plugintest.Faults{BrokenSnapshots: os.Getenv(envBroken) == "1"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		b = m
	}
	if err := serve(b, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// recorder is a slog.Handler that keeps records, for tests of the logs.
type recorder struct {
	mu   sync.Mutex
	recs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	r.mu.Lock()
	r.recs = append(r.recs, b.String())
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{r: r, attrs: as}
}
func (r *recorder) WithGroup(string) slog.Handler { return r }

func (r *recorder) find(sub string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.recs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

type attrHandler struct {
	r     *recorder
	attrs []slog.Attr
}

func (h *attrHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *attrHandler) Handle(ctx context.Context, rec slog.Record) error {
	rec.AddAttrs(h.attrs...)
	return h.r.Handle(ctx, rec)
}
func (h *attrHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrHandler{r: h.r, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}
func (h *attrHandler) WithGroup(string) slog.Handler { return h }

// open starts the test binary as the plugin with extra environment.
func open(t testing.TB, env []string, opts ...Option) *Backend {
	t.Helper()
	b, err := Open(context.Background(), os.Args[0],
		append([]Option{WithEnv(append([]string{envPlugin + "=1", noRaceExitSleep}, env...)...), WithCallTimeout(20 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// noRaceExitSleep: a -race binary sleeps a second at exit by default, and
// every plugin process the tests start exits.
const noRaceExitSleep = "GORACE=atexit_sleep_ms=0"

func onceFile(t testing.TB) string { return filepath.Join(t.TempDir(), "once") }
