package zfs

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/google/go-cmp/cmp"
)

// fakeZFS answers the queries of a thick 4 MiB filesystem p/v as zfs-fuse
// would and fails the command named in fail; it logs every mutation.
type fakeZFS struct {
	mu   sync.Mutex
	fail string
	log  []string
}

func (f *fakeZFS) Run(ctx context.Context, c command.Cmd) (*command.Result, error) {
	line := c.Tool + " " + strings.Join(c.Args, " ")
	exit := func(stderr string) (*command.Result, error) {
		return &command.Result{Code: 1}, &command.ExitError{Tool: c.Tool, Args: c.Args, Code: 1, Stderr: []byte(stderr)}
	}
	switch {
	case line == "zpool list -H -p -o name":
		return &command.Result{Code: 2}, &command.ExitError{Tool: c.Tool, Args: c.Args, Code: 2, Stderr: []byte("invalid option 'p'\n")}
	case strings.HasPrefix(line, "zfs get") && strings.HasSuffix(line, " p/v"):
		out := "p/v\ttype\tfilesystem\np/v\tused\t100000\np/v\tavailable\t4000000\np/v\trefquota\t4194304\np/v\trefreservation\t4194304\n" +
			"p/v\tvolsize\t-\np/v\tmountpoint\t/m/v\np/v\tmounted\tyes\np/v\torigin\t-\np/v\teos-storage:tags\t-\n"
		return &command.Result{Stdout: []byte(out)}, nil
	case strings.HasPrefix(line, "zfs get") && strings.HasSuffix(line, "available p"):
		return &command.Result{Stdout: []byte("p\tavailable\t100000000\n")}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, line)
	if line == f.fail {
		return exit("cannot set property for 'p/v': injected\n")
	}
	return &command.Result{}, nil
}

// TestResizeFaults fails each step of growing a thick filesystem (quota,
// then reservation): whatever fails, the dataset is left exactly as it
// was, and a plan's rollback after success undoes both in reverse.
func TestResizeFaults(t *testing.T) {
	const grow1, grow2 = "zfs set refquota=8388608 p/v", "zfs set refreservation=8388608 p/v"
	const undo1, undo2 = "zfs set refquota=4194304 p/v", "zfs set refreservation=4194304 p/v"
	for _, tc := range []struct {
		fail string
		want []string
	}{
		{grow1, []string{grow1}},
		{grow2, []string{grow1, grow2, undo1}},
		{"", []string{grow1, grow2}},
	} {
		f := &fakeZFS{fail: tc.fail}
		b, err := New(f)
		if err != nil {
			t.Fatal(err)
		}
		ops, err := b.ResizeVolume(context.Background(), "p/v", 8<<20)
		if err != nil || len(ops) != 1 {
			t.Fatalf("%v %v", ops, err)
		}
		err = ops[0].Execute(context.Background(), nil)
		if (tc.fail != "") != (err != nil) {
			t.Errorf("fail %q: %v", tc.fail, err)
		}
		if d := cmp.Diff(tc.want, f.log); d != "" {
			t.Errorf("fail %q: (-want +got)\n%s", tc.fail, d)
		}
		if tc.fail == "" {
			f.log = nil
			if err := ops[0].Rollback(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]string{undo2, undo1}, f.log); d != "" {
				t.Errorf("rollback: %s", d)
			}
		}
	}
}

// noDaemon is zfs-fuse's zpool when no daemon runs (its stderr as printed here).
type noDaemon struct{}

func (noDaemon) Run(ctx context.Context, c command.Cmd) (*command.Result, error) {
	return &command.Result{Code: 1}, &command.ExitError{Tool: c.Tool, Args: c.Args, Code: 1,
		Stderr: []byte("connect: No such file or directory\nPlease make sure that the zfs-fuse daemon is running.\ninternal error: failed to initialize ZFS library\n")}
}

// Without a daemon every capability is unavailable with zpool's words,
// Capabilities itself succeeds, and the next call asks again.
func TestCapabilitiesNoDaemon(t *testing.T) {
	b, _ := New(noDaemon{})
	for i := 0; i < 2; i++ {
		caps, err := b.Capabilities(context.Background())
		if err != nil || len(caps) == 0 {
			t.Fatal(caps, err)
		}
		for _, c := range caps {
			if c.Available || !strings.Contains(c.Reason, "zfs-fuse daemon is running") {
				t.Errorf("%+v", c)
			}
		}
	}
	if b.t.known {
		t.Error("a failed detection was remembered")
	}
}
