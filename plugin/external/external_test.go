package external

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/internal/memback"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func create(t *testing.T, b plugin.Backend, name string, size int64) error {
	t.Helper()
	ops, err := b.CreateVolume(context.Background(), plugin.CreateRequest{Pool: memback.PoolName, Name: name, SizeBytes: size})
	if err != nil {
		return err
	}
	_, err = plugin.Apply(context.Background(), nil, ops)
	return err
}

func mustApply(t *testing.T) func([]sched.Operation, error) {
	return func(ops []sched.Operation, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := plugin.Apply(context.Background(), nil, ops); err != nil {
			t.Fatal(err)
		}
	}
}

// Every call crosses the process boundary and comes back with the same
// values and the same typed errors as in process.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := open(t, nil)
	if b.Name() != "memory" || b.Limits().MaxNameLen != 64 || b.Limits().Granularity != memback.Granule {
		t.Fatalf("Name %q Limits %+v", b.Name(), b.Limits())
	}
	caps, err := b.Capabilities(ctx)
	if err != nil || !caps.Can(plugin.TechVolume, plugin.ModeCreate) || caps.Can(plugin.TechThin, plugin.ModeCreate) {
		t.Fatalf("Capabilities %v, %v", caps, err)
	}
	if err := create(t, b, "a", 5000); err != nil {
		t.Fatal(err)
	}
	v, err := b.Volume(ctx, "mem/a")
	if err != nil || v.SizeBytes != 8192 || v.Pool != "mem" {
		t.Fatalf("Volume %+v, %v", v, err)
	}
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "a", SizeBytes: 8192})
	if err != nil || len(ops) != 0 {
		t.Fatalf("idempotent create: %d ops, %v", len(ops), err)
	}
	mustApply(t)(b.ResizeVolume(ctx, "mem/a", 1<<20))
	mustApply(t)(b.CreateSnapshot(ctx, "mem/a", "s1"))
	snaps, err := b.Snapshots(ctx, "mem/a")
	if err != nil || len(snaps) != 1 || snaps[0].ID != "mem/a@s1" || snaps[0].Size != 1<<20 {
		t.Fatalf("Snapshots %+v, %v", snaps, err)
	}
	if _, err := b.DeleteVolume(ctx, "mem/a"); !errors.Is(err, plugin.ErrInUse) {
		t.Errorf("delete with snapshot: %v, want ErrInUse", err)
	}
	mustApply(t)(b.DeleteSnapshot(ctx, "mem/a@s1"))
	mustApply(t)(b.DeleteVolume(ctx, "mem/a"))
	pools, err := b.Pools(ctx)
	if err != nil || len(pools) != 1 || pools[0].FreeBytes != memback.Capacity {
		t.Fatalf("Pools %+v, %v", pools, err)
	}

	// Typed errors survive the trip.
	if _, err := b.Volume(ctx, "mem/none"); !errors.Is(err, plugin.ErrNotFound) || errors.Is(err, plugin.ErrBackend) {
		t.Errorf("missing volume: %v", err)
	}
	_, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "bad name", SizeBytes: 1})
	var inv *plugin.InvalidError
	if !errors.As(err, &inv) || inv.Field != "name" || inv.Value != "bad name" {
		t.Errorf("bad name: %v", err)
	}
	_, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "t", SizeBytes: 1, Thin: true})
	var un *plugin.UnavailableError
	if !errors.As(err, &un) || un.Technology != plugin.TechThin || !errors.Is(err, plugin.ErrNotSupported) {
		t.Errorf("thin: %v", err)
	}
	if err := create(t, b, "c", 4096); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "c", SizeBytes: 1 << 20}); !errors.Is(err, plugin.ErrExists) {
		t.Errorf("conflicting create: %v", err)
	}
	if b.starts != 1 {
		t.Errorf("started %d times", b.starts)
	}
}

// A failing plan is rolled back through the plugin: the rollback RPC
// reaches the pending operation by its token.
func TestRollbackThroughPlugin(t *testing.T) {
	ctx := context.Background()
	b := open(t, nil)
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "r", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	fail := sched.Operation{ID: "fail", Kind: "test", Dependencies: []string{ops[0].ID},
		Resources: []sched.Resource{sched.Global("test").Exclusive()},
		Execute:   func(context.Context, sched.Progress) error { return boom }}
	if _, err := plugin.Apply(ctx, nil, append(ops, fail)); !errors.Is(err, boom) {
		t.Fatalf("Apply: %v", err)
	}
	if _, err := b.Volume(ctx, "mem/r"); !errors.Is(err, plugin.ErrNotFound) {
		t.Errorf("volume after rollback: %v", err)
	}
	// The rolled-back token is gone from the plugin.
	if err := ops[0].Rollback(ctx); !errors.Is(err, ErrStaleOperation) {
		t.Errorf("second rollback: %v", err)
	}
}

// Progress events of Execute stream back to the scheduler's callback.
func TestProgressStreams(t *testing.T) {
	ctx := context.Background()
	b := open(t, nil)
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "p", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = ops[0].Execute(ctx, func(done, total int64, note string) { got = append(got, fmt.Sprintf("%d/%d %s", done, total, note)) })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[1/2 volume.create 2/2 volume.create]" {
		t.Errorf("progress %v", got)
	}
}

func checkCrashed(t *testing.T, err error, op string) {
	t.Helper()
	var pe *PluginError
	if !errors.As(err, &pe) || pe.Op != op || !errors.Is(err, ErrCrashed) || !errors.Is(err, plugin.ErrBackend) {
		t.Fatalf("error %v: want *PluginError{Op: %s} wrapping ErrCrashed and plugin.ErrBackend", err, op)
	}
}

// The plugin process exits inside Execute: the host gets a typed error,
// the old operations are stale, and the next call starts a new process
// that works.
func TestCrashMidExecute(t *testing.T) {
	ctx := context.Background()
	f := memback.Fault{Kind: "crash", At: "execute", Once: onceFile(t)}
	b := open(t, f.Env())
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "a", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := plugin.Apply(ctx, nil, ops)
	checkCrashed(t, err, mExecute)
	if rep.Results[0].State != sched.StateFailed {
		t.Errorf("state %v", rep.Results[0].State)
	}
	if err := ops[0].Execute(ctx, nil); !errors.Is(err, ErrStaleOperation) || !errors.Is(err, plugin.ErrBackend) {
		t.Errorf("stale Execute: %v", err)
	}
	vols, err := b.Volumes(ctx, "")
	if err != nil || len(vols) != 0 {
		t.Fatalf("Volumes after the crash: %v, %v", vols, err)
	}
	if b.starts != 2 {
		t.Errorf("started %d times, want 2", b.starts)
	}
	if err := create(t, b, "a", 4096); err != nil {
		t.Fatalf("create after restart: %v", err)
	}
	if _, err := b.Volume(ctx, "mem/a"); err != nil {
		t.Fatal(err)
	}
}

func waitFile(t *testing.T, p string) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if _, err := os.Stat(p); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", p)
}

// SIGKILL from outside while Execute runs in the plugin.
func TestSIGKILLMidCall(t *testing.T) {
	ctx := context.Background()
	entered := filepath.Join(t.TempDir(), "entered")
	f := memback.Fault{Kind: "block", At: "execute", Once: onceFile(t), Entered: entered}
	b := open(t, f.Env())
	pid := b.cur.pid
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "k", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ops[0].Execute(ctx, nil) }()
	waitFile(t, entered)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	checkCrashed(t, <-done, mExecute)
	if err := create(t, b, "k", 4096); err != nil {
		t.Fatalf("create after restart: %v", err)
	}
	if b.starts != 2 || b.cur.pid == pid {
		t.Errorf("starts %d, pid %d (old %d)", b.starts, b.cur.pid, pid)
	}
}

func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// A query that never returns (the plugin ignores cancellation) ends at
// the call deadline with ErrTimeout; the process is killed and the next
// call restarts it.
func TestHangQuery(t *testing.T) {
	ctx := context.Background()
	f := memback.Fault{Kind: "hang", At: "volumes", Once: onceFile(t)}
	b := open(t, f.Env(), WithCallTimeout(time.Second))
	pid := b.cur.pid
	start := time.Now()
	_, err := b.Volumes(ctx, "")
	var pe *PluginError
	if !errors.As(err, &pe) || pe.Op != mVolumes || !errors.Is(err, ErrTimeout) || !errors.Is(err, plugin.ErrBackend) {
		t.Fatalf("hung Volumes: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the deadline took %v", d)
	}
	if !gone(pid) {
		t.Errorf("hung plugin %d still runs", pid)
	}
	if _, err := b.Volumes(ctx, ""); err != nil {
		t.Fatalf("Volumes after restart: %v", err)
	}
	if b.starts != 2 {
		t.Errorf("started %d times", b.starts)
	}
}

// An Execute that hangs ends at the execute deadline.
func TestHangExecute(t *testing.T) {
	ctx := context.Background()
	f := memback.Fault{Kind: "hang", At: "execute", Once: onceFile(t)}
	b := open(t, f.Env(), WithExecuteTimeout(time.Second))
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "h", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := ops[0].Execute(ctx, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("hung Execute: %v", err)
	}
	if err := create(t, b, "h", 4096); err != nil {
		t.Fatal(err)
	}
}

// The caller cancelling is not the plugin's fault: the error is the
// context's, and the process stays.
func TestCallerCancel(t *testing.T) {
	f := memback.Fault{Kind: "block", At: "volumes", Once: onceFile(t)}
	b := open(t, f.Env())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := b.Volumes(ctx, "")
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, plugin.ErrBackend) {
		t.Fatalf("cancelled Volumes: %v", err)
	}
	if _, err := b.Volumes(context.Background(), ""); err != nil || b.starts != 1 {
		t.Fatalf("after cancel: %v, starts %d", err, b.starts)
	}
}

// No common protocol version is a typed error at Open; a common one is
// chosen, the newest.
func TestVersionNegotiation(t *testing.T) {
	ctx := context.Background()
	_, err := Open(ctx, os.Args[0], WithEnv(envPlugin+"=1", noRaceExitSleep, envVersions+"=99"))
	var ve *VersionError
	if !errors.As(err, &ve) || !errors.Is(err, ErrVersion) || !errors.Is(err, plugin.ErrBackend) {
		t.Fatalf("version 99 plugin: %v", err)
	}
	b, err := Open(ctx, os.Args[0], WithEnv(envPlugin+"=1", noRaceExitSleep, envVersions+"=1,7"), withVersions(1, 5))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v := b.cur.version; v != 1 {
		t.Errorf("negotiated %d, want 1", v)
	}
}

// Open refuses what is not a plugin with ErrStart.
func TestNotAPlugin(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"/bin/true", filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		if _, err := os.Stat(p); p == "/bin/true" && err != nil {
			continue
		}
		_, err := Open(ctx, p, WithCallTimeout(5*time.Second))
		if !errors.Is(err, ErrStart) || !errors.Is(err, plugin.ErrBackend) {
			t.Errorf("Open(%s): %v", p, err)
		}
	}
}

// The plugin's logs (hclog JSON on its stderr) arrive in the host's
// logger with their level and attributes; a line that only looks like
// JSON (go-plugin v1.8.0's own parser panics on it) arrives as text.
func TestPluginLogs(t *testing.T) {
	rec := &recorder{}
	b := open(t, []string{envStderr + `={"@message": 5, "@level": []}`}, WithLogger(slog.New(rec)))
	if err := create(t, b, "l", 4096); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if !rec.find("INFO done") || !rec.find("op=volume.create") || !rec.find("id=mem/l") {
		t.Errorf("plugin log record missing: %q", rec.recs)
	}
	if !rec.find(`{"@message": 5, "@level": []}`) {
		t.Errorf("malformed stderr line not logged as text: %q", rec.recs)
	}
}

// Close stops the process; calls after it are ErrClosed.
func TestClose(t *testing.T) {
	ctx := context.Background()
	b := open(t, nil)
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "z", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	pid := b.cur.pid
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !gone(pid) {
		t.Errorf("plugin %d runs after Close", pid)
	}
	if _, err := b.Volumes(ctx, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Volumes after Close: %v", err)
	}
	if err := ops[0].Execute(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Execute after Close: %v", err)
	}
}

// Many goroutines share one plugin: queries, plans and executions
// interleave, and every volume arrives.
func TestConcurrentCalls(t *testing.T) {
	ctx := context.Background()
	b := open(t, nil)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: fmt.Sprintf("v%d", i), SizeBytes: 4096})
			if err == nil {
				_, err = plugin.Apply(ctx, nil, ops)
			}
			errs <- err
			_, err = b.Volumes(ctx, "")
			errs <- err
			_, err = b.Capabilities(ctx)
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	vols, err := b.Volumes(ctx, "mem")
	if err != nil || len(vols) != n {
		t.Fatalf("%d volumes, %v", len(vols), err)
	}
}

// Calls racing with a crash each get a result or a typed error, and the
// backend works afterwards.
func TestConcurrentCallsDuringCrash(t *testing.T) {
	ctx := context.Background()
	f := memback.Fault{Kind: "crash", At: "capabilities", Once: onceFile(t)}
	b := open(t, f.Env())
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = b.Capabilities(ctx)
			} else {
				_, err = b.Volumes(ctx, "")
			}
			if err != nil && !errors.Is(err, plugin.ErrBackend) {
				t.Errorf("call %d: untyped error %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if _, err := b.Capabilities(ctx); err != nil {
		t.Fatalf("after the crash: %v", err)
	}
	if b.starts != 2 {
		t.Errorf("started %d times, want 2 (the crash did not happen?)", b.starts)
	}
}

// Options are validated once, at Open.
func TestOptionErrors(t *testing.T) {
	ctx := context.Background()
	for _, o := range []Option{WithLogger(nil), WithCallTimeout(0), WithExecuteTimeout(-1), WithEnv("NOEQUALS")} {
		if _, err := Open(ctx, os.Args[0], o); err == nil {
			t.Error("bad option accepted")
		}
	}
	if err := Serve(nil); err == nil {
		t.Error("Serve(nil) accepted")
	}
}

// A plugin that hangs in its first answer fails Open with ErrTimeout and
// is killed; a plugin that crashes there fails Open with ErrCrashed.
func TestStartFaults(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"hang", "crash"} {
		f := memback.Fault{Kind: kind, At: "describe", Once: onceFile(t)}
		_, err := Open(ctx, os.Args[0], WithEnv(append(f.Env(), envPlugin+"=1", noRaceExitSleep)...), WithCallTimeout(time.Second))
		want := map[string]error{"hang": ErrTimeout, "crash": ErrCrashed}[kind]
		var pe *PluginError
		if !errors.As(err, &pe) || pe.Op != mDescribe || !errors.Is(err, want) {
			t.Errorf("%s at Describe: %v, want %v", kind, err, want)
			continue
		}
		b, err := Open(ctx, os.Args[0], WithEnv(append(f.Env(), envPlugin+"=1", noRaceExitSleep)...))
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		b.Close()
	}
}

// A plugin keeps a bounded number of pending operations; one it has
// forgotten is ErrStaleOperation, like one of a dead process.
func TestForgottenToken(t *testing.T) {
	ctx := context.Background()
	b := open(t, []string{envPending + "=1"})
	first, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "f1", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	second, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "f2", SizeBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := first[0].Execute(ctx, nil); !errors.Is(err, ErrStaleOperation) || !errors.Is(err, plugin.ErrBackend) {
		t.Errorf("forgotten operation: %v", err)
	}
	if err := second[0].Execute(ctx, nil); err != nil {
		t.Errorf("kept operation: %v", err)
	}
}
