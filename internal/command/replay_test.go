package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Record real runs, then replay them: results, errors and progress lines are
// the same, byte for byte.
func TestRecordReplayRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fixtures")
	counter := filepath.Join(t.TempDir(), "counter")
	x := newExec(t, WithRecorder(dir), WithSearchPath(t.TempDir()))

	flood := helper(t, "flood")
	withStdin := helper(t, "stdin")
	withStdin.Stdin = []byte("sfdisk script\n,,L\n")
	bigStdin := helper(t, "stdin")
	bigStdin.Stdin = pattern(maxRecordedStdin + 1) // hashed, not stored
	cmds := []Cmd{
		helper(t, "binary"),
		helper(t, "echo", "out", "err", "0"),
		helper(t, "counter", counter),
		helper(t, "counter", counter), // same argv again: seq 2, other output
		flood,
		withStdin,
		bigStdin,
		helper(t, "term"),
		{Tool: "mkfs.btrfs", Args: []string{"-f", "/dev/loop0"}}, // missing
	}
	cmds[0].ProgressFrom = Stderr

	type outcome struct {
		Res   *Result
		Err   string
		Lines []string
	}
	run := func(r Runner) []outcome {
		var outs []outcome
		for _, c := range cmds {
			var lines []string
			c.Progress = func(l string) { lines = append(lines, l) }
			res, err := r.Run(context.Background(), c)
			o := outcome{Res: res, Lines: lines}
			var tm *ToolMissingError
			switch {
			case errors.As(err, &tm): // a replay does not know where the recording searched
				o.Err = "missing " + tm.Tool + " from " + tm.Package
			case err != nil:
				o.Err = err.Error()
			}
			outs = append(outs, o)
		}
		return outs
	}
	real := run(x)
	rep, err := ReplayDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	replayed := run(rep)
	if d := cmp.Diff(real, replayed, cmpopts.IgnoreFields(Result{}, "Duration")); d != "" {
		t.Errorf("replay differs from the real runs (-real +replay):\n%s", d)
	}
	if err := rep.Verify(); err != nil {
		t.Error(err)
	}
	if real[2].Res == nil || string(real[2].Res.Stdout) != "call 1\n" || string(real[3].Res.Stdout) != "call 2\n" {
		t.Errorf("the counter helper did not count: %+v %+v", real[2].Res, real[3].Res)
	}

	// Errors keep their types through a replay.
	_, err = mustReplay(t, dir).runAll(t, cmds)
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Errorf("replayed failure is %T, want *ExitError", err)
	}

	// The files: one per run, names from the argv and a sequence number.
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(names) != len(cmds) {
		t.Errorf("%d fixture files for %d runs: %v", len(names), len(cmds), names)
	}
	c := cmds[2]
	for seq := 1; seq <= 2; seq++ {
		if _, err := os.Stat(filepath.Join(dir, FixtureName(c.Tool, c.Args, seq))); err != nil {
			t.Error(err)
		}
	}
	f, err := ReadFixture(filepath.Join(dir, FixtureName(bigStdin.Tool, bigStdin.Args, 2)))
	if err != nil || f.Stdin != nil || f.StdinSHA256 != stdinHash(bigStdin.Stdin) {
		t.Errorf("big stdin fixture: %v %d bytes %q", err, len(f.Stdin), f.StdinSHA256)
	}
	f, err = ReadFixture(filepath.Join(dir, FixtureName("mkfs.btrfs", cmds[8].Args, 1)))
	if err != nil || !f.Missing || f.Package != "btrfs-progs" {
		t.Errorf("missing-tool fixture: %v %+v", err, f)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FixtureName(cmds[1].Tool, cmds[1].Args, 1)))
	for _, want := range []string{`"stdout": "out\n"`, `"env": [`, `"LC_ALL=C"`, `"` + helperEnv + `"`, `"code": 0`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("fixture lacks %s:\n%s", want, raw)
		}
	}
	raw, _ = os.ReadFile(filepath.Join(dir, FixtureName(cmds[0].Tool, cmds[0].Args, 1)))
	if !bytes.Contains(raw, []byte(`"stdout": {`)) || !bytes.Contains(raw, []byte(`"base64"`)) ||
		!bytes.Contains(raw, []byte(`"stderr": "warn: <&>\r\n"`)) {
		t.Errorf("binary fixture:\n%s", raw)
	}
}

type replayer struct{ *Replayer }

func mustReplay(t *testing.T, dir string) replayer {
	t.Helper()
	r, err := ReplayDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return replayer{r}
}

// runAll runs cmds and returns the first error that is not a missing tool.
func (r replayer) runAll(t *testing.T, cmds []Cmd) (*Result, error) {
	t.Helper()
	var first error
	for _, c := range cmds {
		_, err := r.Run(context.Background(), c)
		if err != nil && first == nil && !errors.Is(err, ErrToolMissing) {
			first = err
		}
	}
	return nil, first
}

func fixtures(t *testing.T, fs ...Fixture) *Replayer {
	t.Helper()
	r, err := NewReplayer(fs...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReplayMismatch(t *testing.T) {
	r := fixtures(t,
		Fixture{Tool: "lvm", Args: []string{"vgs", "--reportformat", "json"}, Stdout: Blob(`{}`)},
		Fixture{Tool: "lvm", Args: []string{"lvs", "--reportformat", "json"}, File: "testdata/lvs.json"},
	)
	_, err := r.Run(context.Background(), Cmd{Tool: "lvm", Args: []string{"pvs", "--reportformat", "json"}})
	if !errors.Is(err, ErrUnexpectedCommand) {
		t.Fatalf("err %v", err)
	}
	for _, want := range []string{"lvm pvs --reportformat json", "no fixture records it", "2 unused fixtures",
		"lvm vgs --reportformat json", "lvm lvs --reportformat json (testdata/lvs.json)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	// Args must match exactly: an extra or a reordered argument is another command.
	for _, args := range [][]string{{"vgs"}, {"vgs", "json", "--reportformat"}, {"vgs", "--reportformat", "json", "-a"}} {
		if _, err := r.Run(context.Background(), Cmd{Tool: "lvm", Args: args}); !errors.Is(err, ErrUnexpectedCommand) {
			t.Errorf("%q: %v", args, err)
		}
	}
	vgs := Cmd{Tool: "lvm", Args: []string{"vgs", "--reportformat", "json"}}
	if res, err := r.Run(context.Background(), vgs); err != nil || string(res.Stdout) != "{}" {
		t.Fatalf("%v %v", res, err)
	}
	_, err = r.Run(context.Background(), vgs)
	if !errors.Is(err, ErrUnexpectedCommand) || !strings.Contains(err.Error(), "all 1 fixtures of it were already used") {
		t.Errorf("second vgs: %v", err)
	}
}

func TestReplayEnvAndStdin(t *testing.T) {
	r := fixtures(t,
		Fixture{Tool: "lvm", Args: []string{"vgs"}, Env: []string{"LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1"}},
		Fixture{Tool: "sfdisk", Args: []string{"/dev/sda"}, Stdin: Blob("label: gpt\n")},
		Fixture{Tool: "sfdisk", Args: []string{"/dev/sdb"}, StdinSHA256: stdinHash([]byte("label: dos\n"))},
		Fixture{Tool: "blkid"}, // hand-written: no Env means LC_ALL=C alone
	)
	ctx := context.Background()
	bad := []Cmd{
		{Tool: "lvm", Args: []string{"vgs"}},
		{Tool: "lvm", Args: []string{"vgs"}, Env: []string{"LVM_SUPPRESS_FD_WARNINGS=0"}},
		{Tool: "sfdisk", Args: []string{"/dev/sda"}, Stdin: []byte("label: dos\n")},
		{Tool: "sfdisk", Args: []string{"/dev/sda"}},
		{Tool: "sfdisk", Args: []string{"/dev/sdb"}, Stdin: []byte("label: gpt\n")},
		{Tool: "blkid", Stdin: []byte("x")},
		{Tool: "blkid", Env: []string{"A=1"}},
	}
	for _, c := range bad {
		if _, err := r.Run(ctx, c); !errors.Is(err, ErrUnexpectedCommand) {
			t.Errorf("%v env %q stdin %q: %v", c, c.Env, c.Stdin, err)
		}
	}
	good := []Cmd{
		{Tool: "lvm", Args: []string{"vgs"}, Env: []string{"LVM_SUPPRESS_FD_WARNINGS=1"}},
		{Tool: "sfdisk", Args: []string{"/dev/sda"}, Stdin: []byte("label: gpt\n")},
		{Tool: "sfdisk", Args: []string{"/dev/sdb"}, Stdin: []byte("label: dos\n")},
		{Tool: "blkid", Args: []string{}},
	}
	for _, c := range good {
		if _, err := r.Run(ctx, c); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	if err := r.Verify(); err != nil {
		t.Error(err)
	}
}

func TestReplayUnused(t *testing.T) {
	r := fixtures(t,
		Fixture{Tool: "e2fsck", Args: []string{"-n", "/dev/a"}, Seq: 2, File: "b.json"},
		Fixture{Tool: "e2fsck", Args: []string{"-n", "/dev/a"}, Seq: 1, Stdout: Blob("first"), File: "a.json"},
		Fixture{Tool: "resize2fs", Args: []string{"/dev/a"}, File: "c.json"},
	)
	res, err := r.Run(context.Background(), Cmd{Tool: "e2fsck", Args: []string{"-n", "/dev/a"}})
	if err != nil || string(res.Stdout) != "first" {
		t.Fatalf("seq 1 first: %v %v", res, err)
	}
	un := r.Unused()
	if len(un) != 2 || un[0].File != "b.json" || un[1].File != "c.json" {
		t.Errorf("unused %+v", un)
	}
	err = r.Verify()
	if err == nil || !strings.Contains(err.Error(), "2 fixtures never used") ||
		!strings.Contains(err.Error(), "e2fsck -n /dev/a #2 (b.json)") || !strings.Contains(err.Error(), "resize2fs /dev/a (c.json)") {
		t.Errorf("Verify: %v", err)
	}
	if _, err := NewReplayer(Fixture{Tool: "a", Seq: 1}, Fixture{Tool: "a", Seq: 1}); err == nil {
		t.Error("duplicate seq accepted")
	}
	if _, err := NewReplayer(Fixture{}); err == nil {
		t.Error("fixture without tool accepted")
	}
}

func TestReplayProgressAndErrors(t *testing.T) {
	r := fixtures(t,
		Fixture{Tool: "e2fsck", Args: []string{"-C", "0"}, Stdout: Blob("1 2 3\r4 5 6\r\nPass 2\n"), Stderr: Blob("bad\n"), Code: 4},
		Fixture{Tool: "e2fsck", Args: []string{"-C", "3"}, FD3: Blob("p 1\rp 2")},
		Fixture{Tool: "mkfs.ext4", Args: []string{"-V"}, Stderr: Blob("x\ry"), Signal: "SIGSEGV", Code: -1},
		Fixture{Tool: "btrfs", Args: []string{"version"}, Missing: true, Package: "btrfs-progs"},
	)
	ctx := context.Background()
	var lines []string
	progress := func(l string) { lines = append(lines, l) }
	res, err := r.Run(ctx, Cmd{Tool: "e2fsck", Args: []string{"-C", "0"}, Progress: progress})
	var xe *ExitError
	if !errors.As(err, &xe) || xe.Code != 4 || res.Code != 4 || string(xe.Stderr) != "bad\n" {
		t.Errorf("%v %+v", err, res)
	}
	if err.Error() != "e2fsck -C 0: exit status 4: bad" {
		t.Errorf("message %q", err)
	}
	if d := cmp.Diff([]string{"1 2 3", "4 5 6", "Pass 2"}, lines); d != "" {
		t.Errorf("stdout lines (-want +got):\n%s", d)
	}
	lines = nil
	if _, err := r.Run(ctx, Cmd{Tool: "e2fsck", Args: []string{"-C", "3"}, Progress: progress, ProgressFrom: FD3}); err != nil {
		t.Error(err)
	}
	if d := cmp.Diff([]string{"p 1", "p 2"}, lines); d != "" {
		t.Errorf("fd3 lines (-want +got):\n%s", d)
	}
	lines = nil
	_, err = r.Run(ctx, Cmd{Tool: "mkfs.ext4", Args: []string{"-V"}, Progress: progress, ProgressFrom: Stderr})
	if !errors.As(err, &xe) || xe.Signal != "SIGSEGV" || xe.Code != -1 || err.Error() != "mkfs.ext4 -V: killed by signal SIGSEGV: x; y" {
		t.Errorf("signal: %v", err)
	}
	if d := cmp.Diff([]string{"x", "y"}, lines); d != "" {
		t.Errorf("stderr lines (-want +got):\n%s", d)
	}
	_, err = r.Run(ctx, Cmd{Tool: "btrfs", Args: []string{"version"}})
	var tm *ToolMissingError
	if !errors.Is(err, ErrToolMissing) || !errors.As(err, &tm) || tm.Package != "btrfs-progs" {
		t.Errorf("missing: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Run(cctx, Cmd{Tool: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled replay: %v", err)
	}
}

// Concurrent callers each get their own command's fixtures in order.
func TestReplayConcurrent(t *testing.T) {
	var fs []Fixture
	for _, dev := range []string{"a", "b", "c", "d"} {
		for seq := 1; seq <= 5; seq++ {
			fs = append(fs, Fixture{Tool: "e2fsck", Args: []string{"/dev/" + dev}, Seq: seq, Stdout: Blob(dev + string(rune('0'+seq)))})
		}
	}
	r := fixtures(t, fs...)
	var wg sync.WaitGroup
	for _, dev := range []string{"a", "b", "c", "d"} {
		wg.Go(func() {
			for seq := 1; seq <= 5; seq++ {
				res, err := r.Run(context.Background(), Cmd{Tool: "e2fsck", Args: []string{"/dev/" + dev}})
				if err != nil || string(res.Stdout) != dev+string(rune('0'+seq)) {
					t.Errorf("%s #%d: %v %v", dev, seq, res, err)
				}
			}
		})
	}
	wg.Wait()
	if err := r.Verify(); err != nil {
		t.Error(err)
	}
}

func TestFixtureFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "typo.json"), []byte(`{"tool": "lvm", "stdot": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReplayDir(dir); err == nil || !strings.Contains(err.Error(), "stdot") {
		t.Errorf("misspelt field: %v", err)
	}
	if _, err := ReplayDir(filepath.Join(dir, "none")); err == nil {
		t.Error("missing directory accepted")
	}
	if got := FixtureName("/usr/sbin/mkfs.ext4", []string{"-L", "my data", "-F", "/dev/loop0p1"}, 3); got != "mkfs.ext4_-L_my_data_-F_dev_loop0p1-"+hash8("/usr/sbin/mkfs.ext4", "-L", "my data", "-F", "/dev/loop0p1")+"-003.json" {
		t.Errorf("FixtureName %q", got)
	}
	if FixtureName("lvm", []string{"a b"}, 1) == FixtureName("lvm", []string{"a", "b"}, 1) {
		t.Error("distinct argv share a fixture name")
	}
	if n := FixtureName("x", []string{strings.Repeat("long", 100)}, 1); len(n) > 90 {
		t.Errorf("name of %d bytes", len(n))
	}
}

func hash8(tool string, args ...string) string {
	n := FixtureName(tool, args, 0)
	return n[len(n)-len("01234567-000.json") : len(n)-len("-000.json")]
}

func TestBlobJSON(t *testing.T) {
	for _, b := range []Blob{nil, Blob(""), Blob("plain\n"), Blob("<&>\r\t\x00\u2028é"), {0xff}, {'a', 0xc3}, pattern(1000)} {
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		var got Blob
		if err := json.Unmarshal(j, &got); err != nil {
			t.Fatalf("%s: %v", j, err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%q -> %s -> %q", b, j, got)
		}
	}
	var b Blob
	for _, bad := range []string{`{}`, `{"base64": "!!"}`, `{"base64": "", "x": 1}`, `3`} {
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzBlobRoundTrip(f *testing.F) {
	f.Add([]byte("text\r\n"))
	f.Add([]byte{0xff, 0})
	f.Add([]byte("<script>&"))
	f.Fuzz(func(t *testing.T, in []byte) {
		j, err := json.Marshal(Fixture{Tool: "t", Stdout: in})
		if err != nil {
			t.Fatal(err)
		}
		var f Fixture
		if err := json.Unmarshal(j, &f); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Stdout, in) {
			t.Fatalf("%q -> %s -> %q", in, j, f.Stdout)
		}
	})
}
