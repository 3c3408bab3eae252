package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"a", "b"}, {"--op", "mkfs", "/dev/null"}, {"--bogus"}, {"--override", "not_empty", "/dev/null"}, {"--override", "locked_down=please", "/dev/null"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestRefusedNotFound(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"/dev/does-not-exist", "--op", "wipe"}, &out, &errb); code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "not_found") {
		t.Fatalf("output %q", out.String())
	}
}

func TestLoopAllowedThenRefused(t *testing.T) {
	dev := testenv.Loop(t, 32<<20)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--json", dev, "--op", "partition"}, &out, &errb); code != 0 {
		t.Fatalf("clean device: exit %d: %s %s", code, out.String(), errb.String())
	}
	var rep safety.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || !rep.Allowed || rep.Op != safety.OpPartition {
		t.Fatalf("json %v: %s", err, out.String())
	}
	testenv.RequireTool(t, "mkswap")
	testenv.Run(t, "mkswap", dev)
	out.Reset()
	if code := run(context.Background(), []string{"--json", dev}, &out, &errb); code != 1 {
		t.Fatalf("swap signature: exit %d", code)
	}
	rep = safety.Report{}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Allowed || !rep.Has(safety.CodeNotEmpty) {
		t.Fatalf("json %v: %s", err, out.String())
	}
}

func TestOverrideOneCode(t *testing.T) {
	dev := testenv.Loop(t, 32<<20)
	testenv.RequireTool(t, "mkswap")
	testenv.Run(t, "mkswap", dev)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{dev, "--override", "not_empty=old swap, reformat"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "overridden (old swap, reformat)") {
		t.Fatalf("%s", out.String())
	}
}

func TestStateDirLockdown(t *testing.T) {
	ctx := context.Background()
	dev := testenv.Loop(t, 32<<20)
	dir := t.TempDir()
	j, err := safety.OpenJournal(ctx, safety.WithStateDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	id, err := safety.IdentityOf(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.LockDown(ctx, id, "undo failed in a test"); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	// The journal is held open (as the engine would): the snapshot still reads it.
	if code := run(ctx, []string{"--state-dir", dir, dev}, &out, &errb); code != 1 || !strings.Contains(out.String(), "locked_down") {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	// A mistyped state directory is a failure, never "no lock-downs".
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"--state-dir", dir + "-typo", dev}, &out, &errb); code != 2 {
		t.Fatalf("missing state dir: exit %d: %s %s", code, out.String(), errb.String())
	}
}
