package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func newExec(t testing.TB, opts ...Option) *Exec {
	t.Helper()
	x, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestRunTrue(t *testing.T) {
	res, err := newExec(t).Run(context.Background(), Cmd{Tool: "true"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Code != 0 || len(res.Stdout) != 0 || len(res.Stderr) != 0 || res.Duration <= 0 {
		t.Errorf("true: %+v", res)
	}
}

func TestRunFalse(t *testing.T) {
	res, err := newExec(t).Run(context.Background(), Cmd{Tool: "/bin/false", Args: []string{"ignored arg"}})
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Fatalf("false: %v, want an *ExitError", err)
	}
	if xe.Code != 1 || xe.ExitCode() != 1 || xe.Signal != "" || res == nil || res.Code != 1 {
		t.Errorf("false: %#v, result %+v", xe, res)
	}
	if want := `/bin/false "ignored arg": exit status 1`; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestRunBothStreams(t *testing.T) {
	c := helper(t, "echo", "to stdout", "to stderr", "3")
	res, err := newExec(t).Run(context.Background(), c)
	var xe *ExitError
	if !errors.As(err, &xe) || xe.Code != 3 {
		t.Fatalf("err %v, want exit status 3", err)
	}
	if string(res.Stdout) != "to stdout\n" || string(res.Stderr) != "to stderr\n" || res.Code != 3 {
		t.Errorf("result %q %q %d", res.Stdout, res.Stderr, res.Code)
	}
	msg := err.Error()
	for _, want := range []string{c.Tool, `echo "to stdout" "to stderr" 3`, "exit status 3", ": to stderr"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if !bytes.Equal(xe.Stderr, res.Stderr) || !slices.Equal(xe.Args, c.Args) || xe.Tool != c.Tool {
		t.Errorf("ExitError %#v", xe)
	}
}

func TestToolMissing(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct {
		tool, pkg string
		opts      []Option
	}{
		{"eos-storage-no-such-tool", "", nil},
		{"mkfs.btrfs", "btrfs-progs", []Option{WithSearchPath(empty)}},
		{"sfdisk", "fdisk", []Option{WithSearchPath(empty)}},
		{filepath.Join(empty, "lvm"), "lvm2", nil},
	} {
		res, err := newExec(t, tc.opts...).Run(context.Background(), Cmd{Tool: tc.tool, Args: []string{"--version"}})
		var tm *ToolMissingError
		if !errors.Is(err, ErrToolMissing) || !errors.As(err, &tm) || res != nil {
			t.Errorf("%s: %v, %v; want ErrToolMissing", tc.tool, res, err)
			continue
		}
		if tm.Tool != tc.tool || tm.Package != tc.pkg {
			t.Errorf("%s: %#v, want package %q", tc.tool, tm, tc.pkg)
		}
		if tc.pkg != "" && !strings.Contains(err.Error(), "install the Debian package "+tc.pkg) {
			t.Errorf("%s: message %q does not name %s", tc.tool, err, tc.pkg)
		}
	}
}

// A root shell without sbin on PATH still finds the sbin tools.
func TestLookPathDefaultDirs(t *testing.T) {
	want := testenv.RequireTool(t, "blkid")[0]
	t.Setenv("PATH", "/nonexistent:relative/dir")
	got, err := newExec(t).LookPath("blkid")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(got) != "/usr/sbin" && filepath.Dir(got) != "/sbin" {
		t.Errorf("blkid found at %s (testenv says %s)", got, want)
	}
	if _, err := newExec(t).LookPath("true"); err != nil {
		t.Error(err)
	}
}

func TestEnvironmentNotInherited(t *testing.T) {
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("LC_MESSAGES", "de_DE.UTF-8")
	t.Setenv("EOS_SECRET", "leak")
	c := helper(t, "env")
	c.Env = append(c.Env, "LVM_SUPPRESS_FD_WARNINGS=1")
	res, err := newExec(t).Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	slices.Sort(got)
	want := []string{helperEnv, "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1", "PATH=" + childPath}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("environment (-want +got):\n%s", d)
	}

	// WithSearchPath dirs come first on the tool's PATH; a caller's PATH wins.
	dir := t.TempDir()
	res, err = newExec(t, WithSearchPath(dir)).Run(context.Background(), c)
	if err != nil || !strings.Contains(string(res.Stdout), "PATH="+dir+":"+childPath+"\n") {
		t.Errorf("with search path: %v\n%s", err, res.Stdout)
	}
	c.Env = append(c.Env, "PATH=/only")
	res, err = newExec(t).Run(context.Background(), c)
	if err != nil || !strings.Contains(string(res.Stdout), "PATH=/only\n") || strings.Count(string(res.Stdout), "PATH=") != 1 {
		t.Errorf("caller's PATH: %v\n%s", err, res.Stdout)
	}
}

func TestStdin(t *testing.T) {
	in := pattern(300 << 10) // more than a pipe buffer
	c := helper(t, "stdin")
	c.Stdin = in
	res, err := newExec(t).Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stdout, in) {
		t.Errorf("stdin came back as %d bytes, want %d", len(res.Stdout), len(in))
	}
	// Without Stdin the tool reads /dev/null, not the caller's stdin.
	res, err = newExec(t).Run(context.Background(), helper(t, "stdin"))
	if err != nil || len(res.Stdout) != 0 {
		t.Errorf("no stdin: %v, %q", err, res.Stdout)
	}
}

// grandchildPID reads the helper's "grandchild N" line.
func grandchildPID(line string) (int, bool) {
	var pid int
	_, err := fmt.Sscanf(line, "grandchild %d", &pid)
	return pid, err == nil
}

// waitDead waits until pid is gone or a zombie (its reaper, maybe a PID 1
// that never reaps, is not ours to wait for).
func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := unix.Kill(pid, 0); err == unix.ESRCH {
			return
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := bytes.LastIndexByte(b, ')'); i > 0 && len(b) > i+2 && (b[i+2] == 'Z' || b[i+2] == 'X') {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func alive(pid int) bool {
	if unix.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z' && b[i+2] != 'X'
}

func TestCancelKillsProcessGroup(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
	}{{"cancel", context.Canceled}, {"deadline", context.DeadlineExceeded}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.want == context.DeadlineExceeded {
				ctx, cancel = context.WithTimeout(ctx, time.Second)
				defer cancel()
			}
			grandchild := 0
			c := helper(t, "spawn")
			c.Progress = func(line string) {
				if pid, ok := grandchildPID(line); ok {
					grandchild = pid
					if tc.want == context.Canceled {
						cancel()
					}
				}
			}
			start := time.Now()
			res, err := newExec(t).Run(ctx, c)
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("Run took %v after the context ended", el)
			}
			var ce *CanceledError
			if !errors.Is(err, tc.want) || !errors.As(err, &ce) {
				t.Fatalf("err %v, want %v as a *CanceledError", err, tc.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("process group %d killed", ce.PGID)) || ce.Lingering != 0 {
				t.Errorf("message %q", err)
			}
			if res == nil || res.Signal != "SIGKILL" || res.Code != -1 {
				t.Errorf("result %+v, want the SIGKILLed tool", res)
			}
			if grandchild == 0 {
				t.Fatalf("the helper never reported its grandchild; stdout %q", res.Stdout)
			}
			waitDead(t, grandchild)
		})
	}
}

// A tool that exits leaving a child in its group does not leave it running,
// and Run does not wait for it.
func TestExitKillsLeftovers(t *testing.T) {
	start := time.Now()
	res, err := newExec(t).Run(context.Background(), helper(t, "spawn-exit"))
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("Run took %v", el)
	}
	pid, ok := grandchildPID(strings.TrimSpace(string(res.Stdout)))
	if !ok {
		t.Fatalf("stdout %q", res.Stdout)
	}
	waitDead(t, pid)
}

// A grandchild in a session of its own holding stdout open cannot hang Run:
// WaitDelay after the tool exits, the pipe is closed from our side.
func TestWaitDelayOutputHeld(t *testing.T) {
	var pid int
	c := helper(t, "escape")
	c.Progress = func(line string) {
		if p, ok := grandchildPID(line); ok {
			pid = p
		}
	}
	start := time.Now()
	res, err := newExec(t, WithWaitDelay(300*time.Millisecond)).Run(context.Background(), c)
	el := time.Since(start)
	if pid != 0 {
		t.Cleanup(func() { unix.Kill(pid, unix.SIGKILL) })
	}
	if err != nil || res.Code != 0 {
		t.Fatalf("%v, %+v", err, res)
	}
	if el > 20*time.Second {
		t.Errorf("Run took %v with a 300ms WaitDelay", el)
	}
	if pid == 0 || !alive(pid) {
		t.Errorf("the escaped grandchild %d should be left alone (outside the group)", pid)
	}
}

func TestSignalDeath(t *testing.T) {
	res, err := newExec(t).Run(context.Background(), helper(t, "term"))
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Fatalf("err %v, want *ExitError", err)
	}
	var ce *CanceledError
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) {
		t.Errorf("a signal we did not send reads as a cancel: %v", err)
	}
	if xe.Code != -1 || xe.Signal != "SIGTERM" || res.Code != -1 || res.Signal != "SIGTERM" {
		t.Errorf("%#v %+v", xe, res)
	}
	if !strings.Contains(err.Error(), "killed by signal SIGTERM") {
		t.Errorf("message %q", err)
	}
}

func TestAlreadyCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := newExec(t).Run(ctx, Cmd{Tool: "true"})
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("%v, %v", res, err)
	}
}

func TestProgress(t *testing.T) {
	for _, s := range []Stream{Stdout, Stderr, FD3} {
		t.Run(s.String(), func(t *testing.T) {
			goFile := filepath.Join(t.TempDir(), "go")
			var mu sync.Mutex
			var lines []string
			c := helper(t, "progress", s.String(), goFile)
			c.ProgressFrom = s
			c.Progress = func(line string) {
				mu.Lock()
				defer mu.Unlock()
				lines = append(lines, line)
				if line == "10%" { // the tool waits for this before going on
					os.WriteFile(goFile, nil, 0o644)
				}
			}
			res, err := newExec(t).Run(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if d := cmp.Diff([]string{"10%", "20%", "30%", "done", "no newline"}, lines); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
			full := "10%\r20%\r30%\r\ndone\nno newline"
			got := map[Stream][]byte{Stdout: res.Stdout, Stderr: res.Stderr, FD3: res.FD3}[s]
			if string(got) != full {
				t.Errorf("captured %q, want %q", got, full)
			}
		})
	}
}

func TestLargeStdout(t *testing.T) {
	const n = 8<<20 + 12345
	res, err := newExec(t).Run(context.Background(), helper(t, "big", fmt.Sprint(n)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Stdout, pattern(n)) {
		t.Errorf("stdout: %d bytes, want %d of the pattern", len(res.Stdout), n)
	}
	if string(res.Stderr) != "tail\n" {
		t.Errorf("stderr %q", res.Stderr)
	}
}

func TestMaxStdout(t *testing.T) {
	res, err := newExec(t, WithMaxStdout(1<<20)).Run(context.Background(), helper(t, "big", fmt.Sprint(8<<20)))
	if !errors.Is(err, ErrOutputLimit) {
		t.Fatalf("err %v, want ErrOutputLimit", err)
	}
	if res == nil || len(res.Stdout) > 1<<20 {
		t.Errorf("kept %d bytes over a 1 MiB limit", len(res.Stdout))
	}
}

func TestStderrBounded(t *testing.T) {
	res, err := newExec(t).Run(context.Background(), helper(t, "flood"))
	var xe *ExitError
	if !errors.As(err, &xe) {
		t.Fatal(err)
	}
	if len(res.Stderr) != StderrTail || !res.StderrTruncated {
		t.Errorf("stderr kept %d bytes (truncated %v), want the last %d", len(res.Stderr), res.StderrTruncated, StderrTail)
	}
	if !bytes.HasSuffix(res.Stderr, []byte("flood: the real reason\n")) {
		t.Errorf("stderr tail lost the end: %q", res.Stderr[len(res.Stderr)-64:])
	}
	if !strings.HasSuffix(err.Error(), "flood: the first reason; flood: the real reason") {
		t.Errorf("message %q", err)
	}
}

func TestInvalid(t *testing.T) {
	x := newExec(t)
	for _, c := range []Cmd{
		{},
		{Tool: "relative/true"},
		{Tool: "true", Args: []string{"a\x00b"}},
		{Tool: "true", Env: []string{"NOEQUALS"}},
		{Tool: "true", Env: []string{"=x"}},
		{Tool: "true", Env: []string{"LC_ALL=de_DE.UTF-8"}},
		{Tool: "true", Env: []string{"A=1", "A=2"}},
		{Tool: "true", ProgressFrom: FD3 + 1},
	} {
		if _, err := x.Run(context.Background(), c); err == nil || errors.Is(err, ErrToolMissing) {
			t.Errorf("%#v: %v, want a validation error", c, err)
		}
	}
	for _, o := range []Option{WithLogger(nil), WithSearchPath(), WithSearchPath("rel"), WithSearchPath("/a:b"),
		WithWaitDelay(0), WithMaxStdout(0), WithRecorder(""), nil} {
		if _, err := New(o); err == nil {
			t.Errorf("New accepted a bad option")
		}
	}
}

func TestConcurrentRuns(t *testing.T) {
	x := newExec(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			res, err := x.Run(context.Background(), helper(t, "echo", fmt.Sprint(i), "e", "0"))
			if err != nil || string(res.Stdout) != fmt.Sprintf("%d\n", i) {
				t.Errorf("%d: %v %q", i, err, res.Stdout)
			}
		})
	}
	wg.Wait()
}

// With a WaitDelay too short for the killed tool to be reaped, Run returns
// at once and the reaping finishes in the background (goleak, at the end of
// the run, checks that it did). Which path a run takes is a race, so both
// outcomes are accepted; either way the group is dead.
func TestCancelLingering(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	grandchild := 0
	c := helper(t, "spawn")
	c.Progress = func(line string) {
		if pid, ok := grandchildPID(line); ok {
			grandchild = pid
			cancel()
		}
	}
	_, err := newExec(t, WithWaitDelay(time.Nanosecond)).Run(ctx, c)
	var ce *CanceledError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ce) {
		t.Fatalf("err %v", err)
	}
	if ce.Lingering > 0 && !strings.Contains(err.Error(), "reaping it in the background") {
		t.Errorf("message %q", err)
	}
	t.Logf("lingering %v: %v", ce.Lingering, err)
	if grandchild == 0 {
		t.Fatal("no grandchild reported")
	}
	waitDead(t, grandchild)
	waitDead(t, ce.PGID)
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, err := newExec(t, WithLogger(log)).Run(context.Background(), Cmd{Tool: "true", Args: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"command start", "tool=true", "args=[x]", "command done", "code=0"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, buf.String())
		}
	}
}
