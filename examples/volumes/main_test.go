package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/externaltest"
)

// The test binary doubles as an external plugin serving an in-memory
// backend ("memory", pool "mem"), so the command is tested through a real
// plugin process, without root.
func TestMain(m *testing.M) {
	externaltest.ServeIfChild()
	goleak.VerifyTestMain(m)
}

// withPlugin makes every plugin the test starts the in-memory one, with
// its volumes kept in a file so they outlive each run's process.
func withPlugin(t *testing.T) []string {
	t.Helper()
	k, v, _ := strings.Cut(externaltest.Env(), "=")
	t.Setenv(k, v)
	k, v, _ = strings.Cut(externaltest.StateEnv(filepath.Join(t.TempDir(), "state.json")), "=")
	t.Setenv(k, v)
	// A -race plugin would sleep a second at every exit.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	// A loopfile directory that need not exist: the in-tree backend is
	// registered whatever it says.
	return []string{"--plugin", os.Args[0], "--loopfile-dir", filepath.Join(t.TempDir(), "loop")}
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("volumes %v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

func listJSON(t *testing.T, base []string) []plugin.Volume {
	t.Helper()
	var vs []plugin.Volume
	out := mustRun(t, append(base, "--json", "list")...)
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	return vs
}

func TestBackends(t *testing.T) {
	base := withPlugin(t)
	out := mustRun(t, append(base, "--json", "backends")...)
	var rep []plugin.BackendReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err, out)
	}
	names := map[string]plugin.BackendReport{}
	for _, r := range rep {
		names[r.Name] = r
	}
	mem, ok := names["memory"]
	if !ok || mem.Error != "" || !mem.Capabilities.Can(plugin.TechVolume, plugin.ModeCreate) {
		t.Errorf("memory backend report %+v", mem)
	}
	if c, ok := mem.Capabilities.Lookup(plugin.TechThin, plugin.ModeCreate); !ok || c.Available || c.Reason == "" {
		t.Errorf("thin should be listed unavailable with a reason: %+v", c)
	}
	if _, ok := names["loopfile"]; !ok {
		t.Errorf("loopfile not listed: %s", out)
	}
	// The lvm backend without --lvm-vg: listed, with the reason.
	if l, ok := names["lvm"]; !ok || l.Error == "" || !strings.Contains(l.Error, "--lvm-vg") {
		t.Errorf("lvm backend report %+v", l)
	}
	text := mustRun(t, append(base, "backends")...)
	if !strings.Contains(text, "memory") || !strings.Contains(text, "TECHNOLOGY") || !strings.Contains(text, "loopfile") {
		t.Errorf("text report:\n%s", text)
	}
}

// Nothing changes without --apply; with it, each command does what it
// says, and the volume's life (create, resize, snapshot, delete) shows in
// list and snapshots.
func TestLifecycle(t *testing.T) {
	base := withPlugin(t)
	out := mustRun(t, append(base, "create", "mem", "a", "1M")...)
	if !strings.Contains(out, "dry run") || !strings.Contains(out, "volume.create:mem/a") || !strings.Contains(out, "exclusive memory:mem%2Fa") {
		t.Errorf("dry run output:\n%s", out)
	}
	if vs := listJSON(t, base); len(vs) != 0 {
		t.Fatalf("the dry run created %v", vs)
	}

	var plan planJSON
	out = mustRun(t, append(base, "--json", "--apply", "create", "mem", "a", "1M", "--tag", "x")...)
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatal(err, out)
	}
	if !plan.Applied || len(plan.Results) != 1 || plan.Results[0].State != "succeeded" || plan.Backend != "memory" {
		t.Errorf("apply create: %+v", plan)
	}
	vs := listJSON(t, base)
	if len(vs) != 1 || vs[0].ID != "mem/a" || vs[0].SizeBytes != 1<<20 || len(vs[0].Tags) != 1 {
		t.Fatalf("after create: %+v", vs)
	}
	// A repeat is nothing to do.
	if out := mustRun(t, append(base, "--apply", "create", "mem", "a", "1M")...); !strings.Contains(out, "nothing to do") {
		t.Errorf("repeat create:\n%s", out)
	}

	mustRun(t, append(base, "resize", "mem/a", "2M")...)
	if vs := listJSON(t, base); vs[0].SizeBytes != 1<<20 {
		t.Fatalf("dry-run resize changed the size: %+v", vs)
	}
	mustRun(t, append(base, "--apply", "resize", "mem/a", "2MiB")...)
	if vs := listJSON(t, base); vs[0].SizeBytes != 2<<20 {
		t.Fatalf("after resize: %+v", vs)
	}

	mustRun(t, append(base, "snapshot", "mem/a", "s1", "--apply")...)
	out = mustRun(t, append(base, "snapshots", "mem/a")...)
	if !strings.Contains(out, "mem/a@s1") {
		t.Errorf("snapshots:\n%s", out)
	}
	// A volume with a snapshot is in use: refused, exit 3.
	if code, _, errs := runCLI(t, append(base, "--apply", "delete", "mem/a")...); code != exitRefused || !strings.Contains(errs, "in use") {
		t.Errorf("delete with snapshot: exit %d %s", code, errs)
	}
	mustRun(t, append(base, "--apply", "delete", "--snapshot", "mem/a@s1")...)
	mustRun(t, append(base, "--apply", "delete", "mem/a")...)
	if vs := listJSON(t, base); len(vs) != 0 {
		t.Fatalf("after delete: %+v", vs)
	}
	out = mustRun(t, append(base, "pools")...)
	if !strings.Contains(out, "mem") || !strings.Contains(out, "1073741824") {
		t.Errorf("pools:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	base := withPlugin(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "no command"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"create", "mem", "a"}, exitUsage, "wants 3"},
		{[]string{"create", "mem", "a", "12Q"}, exitUsage, "bad size"},
		{[]string{"create", "mem", "a", "0"}, exitUsage, "bad size"},
		{[]string{"create", "mem", "bad name", "1M"}, exitRefused, "invalid name"},
		{[]string{"create", "mem", "t", "1M", "--thin"}, exitRefused, "not available"},
		{[]string{"resize", "mem/none", "1M"}, exitRefused, "not found"},
		{[]string{"--backend", "nosuch", "list"}, exitRefused, "not found"},
	} {
		code, _, errs := runCLI(t, append(append([]string(nil), base...), c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("volumes %v: exit %d, stderr %q; want exit %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// A --plugin that does not start is listed as unavailable with the
// reason, and using it is a failure, not a crash.
func TestBrokenPlugin(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "notaplugin")
	if err := os.WriteFile(bad, []byte("not an executable"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "--loopfile-dir", filepath.Join(dir, "loop"), "--plugin", bad, "backends")
	if !strings.Contains(out, "plugin:notaplugin") || !strings.Contains(out, "did not start") {
		t.Errorf("backends:\n%s", out)
	}
	code, _, errs := runCLI(t, "--loopfile-dir", filepath.Join(dir, "loop"), "--plugin", bad, "list")
	if code != exitFailed || !strings.Contains(errs, "unavailable") {
		t.Errorf("list on a broken plugin: exit %d %s", code, errs)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "4096": 4096, "1K": 1024, "1k": 1024, "2M": 2 << 20, "2MiB": 2 << 20, "3G": 3 << 30, "1T": 1 << 40, "5MB": 5 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "K", "1.5G", "1P", "99999999999T", "1 G"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1", "1K", "2MiB", "9223372036854775807", "-1", "1T", "xG"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := parseSize(s); err == nil && v <= 0 {
			t.Fatalf("parseSize(%q) = %d", s, v)
		}
	})
}

// The in-tree loopfile backend for real (root: loop devices): a dry run
// changes nothing, --apply makes, resizes and deletes a volume.
func TestLoopfileForReal(t *testing.T) {
	testenv.RequireRoot(t)
	t.Setenv("GORACE", "atexit_sleep_ms=0")
	dir := filepath.Join(t.TempDir(), "loop")
	base := []string{"--backend", "loopfile", "--loopfile-dir", dir}
	// Without --apply the directory is not even created.
	if code, _, errs := runCLI(t, append(base, "create", "default", "v1", "16M")...); code == 0 || !strings.Contains(errs, "--apply creates it") {
		t.Fatalf("dry run without the directory: exit %d %s", code, errs)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a dry run created %s: %v", dir, err)
	}
	mustRun(t, append(base, "--apply", "create", "default", "v1", "16M")...)
	t.Cleanup(func() { runCLI(t, append(base, "--apply", "delete", "default/v1")...) })
	vs := listJSON(t, base)
	if len(vs) != 1 || vs[0].ID != "default/v1" || vs[0].SizeBytes < 16<<20 || vs[0].Device == "" {
		t.Fatalf("after create: %+v", vs)
	}
	mustRun(t, append(base, "resize", "default/v1", "32M")...)
	if vs := listJSON(t, base); vs[0].SizeBytes >= 32<<20 {
		t.Fatalf("dry-run resize changed the size: %+v", vs)
	}
	mustRun(t, append(base, "--apply", "resize", "default/v1", "32M")...)
	if vs := listJSON(t, base); vs[0].SizeBytes < 32<<20 {
		t.Fatalf("after resize: %+v", vs)
	}
	mustRun(t, append(base, "--apply", "delete", "default/v1")...)
	if vs := listJSON(t, base); len(vs) != 0 {
		t.Fatalf("after delete: %+v", vs)
	}
}
