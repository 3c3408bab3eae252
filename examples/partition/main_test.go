package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// The test binary doubles as the command, so the crash test can SIGKILL a
// real process without building one.
const asCLI = "EOS_PARTITION_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func img(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("partition %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"x"}, {"--nope", "x", "show"}, {"/dev/null", "frobnicate"}} {
		if code, _, _ := runCLI(t, args...); code != exitUsage && !(len(args) == 2 && code == exitFailed) {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	p := img(t, 8<<20)
	if code, _, _ := runCLI(t, p, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
	if code, _, _ := runCLI(t, p, "recover"); code != exitUsage {
		t.Errorf("recover without --journal: exit %d", code)
	}
}

// Without --apply nothing is written, byte for byte.
func TestDryRunWritesNothing(t *testing.T) {
	p := img(t, 16<<20)
	out := mustCLI(t, p, "create-table", "gpt")
	if !strings.Contains(out, "dry run") || !strings.Contains(out, "backup entries") {
		t.Errorf("no plan printed:\n%s", out)
	}
	b, _ := os.ReadFile(p)
	if !bytes.Equal(b, make([]byte, 16<<20)) {
		t.Fatal("a dry run wrote to the image")
	}
	if code, _, _ := runCLI(t, p, "show"); code != exitFailed {
		t.Errorf("show on a blank image: exit %d", code)
	}
}

func TestEditShowVerifyRepair(t *testing.T) {
	testenv.RequireTool(t, "sfdisk", "sgdisk")
	p := img(t, 64<<20)
	mustCLI(t, p, "create-table", "gpt", "--apply")
	mustCLI(t, p, "add", "--size", "8MiB", "--type", "efi", "--name", "ESP", "--apply")
	mustCLI(t, p, "add", "--size", "16M", "--type", "swap", "--apply")
	mustCLI(t, "--apply", p, "add", "--size", "rest", "--name", "root")
	mustCLI(t, p, "resize", "2", "--size", "8MiB", "--apply")
	mustCLI(t, p, "delete", "1", "--apply")
	var ours, theirs partition.Dump
	if err := json.Unmarshal([]byte(mustCLI(t, p, "show", "--json")), &ours); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(testenv.Run(t, "sfdisk", "--json", p), &theirs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(theirs, ours); diff != "" {
		t.Errorf("show --json differs from sfdisk --json (-sfdisk +ours):\n%s", diff)
	}
	mustCLI(t, p, "verify")
	// Damage the primary header: verify exits 1, repair fixes it.
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff}, 512+60)
	f.Close()
	code, out, _ := runCLI(t, p, "verify")
	if code != exitProblems || !strings.Contains(out, "primary GPT header CRC") {
		t.Errorf("verify of a damaged table: exit %d\n%s", code, out)
	}
	mustCLI(t, p, "repair", "--apply")
	mustCLI(t, p, "verify")
	if out, err := testenv.RunErr("sgdisk", "-v", p); err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v after repair: %v\n%s", err, out)
	}
}

// The real thing: the command, journaling to a state directory, is SIGKILLed
// right after each of its table writes on a loop device. Every time the
// table reads as exactly the old or the new one, and recover finishes the
// write so that sgdisk -v is clean and the new partition is there.
func TestSIGKILLAtEachWriteThenRecover(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	dev := testenv.Loop(t, 64<<20)
	journal := t.TempDir()
	mustCLI(t, "--journal", journal, dev, "create-table", "gpt", "--apply")
	mustCLI(t, "--journal", journal, dev, "add", "--size", "4MiB", "--name", "base", "--apply")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 5; k++ {
		before := show(t, dev)
		name := "killed-after-" + strconv.Itoa(k)
		cmd := exec.Command(self, "--journal", journal, dev, "add", "--size", "2MiB", "--name", name, "--apply")
		cmd.Env = append(os.Environ(), asCLI+"=1", crashEnv+"="+strconv.Itoa(k))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("k=%d: child not killed: %v\n%s", k, err, out)
		}
		mid := show(t, dev)
		isNew := strings.Contains(mid, name)
		if !isNew && mid != before {
			t.Fatalf("k=%d: after the kill the table is neither old nor new:\nold %s\nnow %s", k, before, mid)
		}
		rec := mustCLI(t, "--journal", journal, dev, "recover")
		if !strings.Contains(rec, "rolled_forward") {
			t.Errorf("k=%d: recover did not roll forward:\n%s", k, rec)
		}
		after := show(t, dev)
		if !strings.Contains(after, name) {
			t.Errorf("k=%d: after recover the new partition is missing:\n%s", k, after)
		}
		if out, err := testenv.RunErr("sgdisk", "-v", dev); err != nil || !strings.Contains(string(out), "No problems found") {
			t.Errorf("k=%d: sgdisk -v after recover: %v\n%s", k, err, out)
		}
		// recover also told the kernel: the new partition has its node.
		if _, err := os.Stat("/sys/class/block/" + filepath.Base(partition.PartitionNode(dev, k+1))); err != nil {
			t.Errorf("k=%d: kernel does not know partition %d after recover: %v", k, k+1, err)
		}
	}
}

func show(t *testing.T, dev string) string {
	t.Helper()
	return mustCLI(t, dev, "show", "--json")
}

// On a loop device with partition 1 mounted, deleting it is refused (exit 3,
// with the reason); deleting partition 2 is allowed; a new table needs an
// override of not_empty and is still refused for the mount.
func TestRefusedOnMountedPartition(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mount")
	dev := testenv.Loop(t, 64<<20)
	mustCLI(t, dev, "create-table", "gpt", "--apply")
	mustCLI(t, dev, "add", "--size", "16MiB", "--apply")
	mustCLI(t, dev, "add", "--size", "16MiB", "--apply")
	p1 := partition.PartitionNode(dev, 1)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", p1)
	mnt := t.TempDir()
	testenv.Run(t, "mount", p1, mnt)
	t.Cleanup(func() { _, _ = testenv.RunErr("umount", mnt) })

	code, _, errs := runCLI(t, dev, "delete", "1", "--apply")
	if code != exitRefused || !strings.Contains(errs, "mounted") {
		t.Errorf("delete mounted 1: exit %d\n%s", code, errs)
	}
	mustCLI(t, dev, "delete", "2", "--apply")
	code, _, errs = runCLI(t, "--override", "not_empty:test", dev, "create-table", "dos", "--apply")
	if code != exitRefused || !strings.Contains(errs, "mounted") {
		t.Errorf("new table over a mounted partition: exit %d\n%s", code, errs)
	}
	if !strings.Contains(show(t, dev), `"label": "gpt"`) {
		t.Error("a refused create-table changed the table")
	}
}
