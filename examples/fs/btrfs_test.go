package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// btrfsMount makes a btrfs on a fresh loop device, mounts it and returns
// the mountpoint and the device.
func btrfsMount(t *testing.T, size int64) (string, string) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs")
	dev := testenv.LoopFile(t, image(t, size))
	testenv.Run(t, "mkfs.btrfs", "-q", "-f", dev)
	mnt := t.TempDir()
	testenv.Run(t, "mount", dev, mnt)
	t.Cleanup(func() { exec.Command("umount", "-R", mnt).Run() })
	return mnt, dev
}

func mustCLI(t *testing.T, want int, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, args...)
	if code != want {
		t.Fatalf("fs %s: exit %d (want %d)\n%s%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

func TestBtrfsCommands(t *testing.T) {
	mnt, _ := btrfsMount(t, 512<<20)
	state := t.TempDir()
	j := "--journal=" + state
	a := filepath.Join(mnt, "a")

	// Nothing changes without --apply.
	if out := mustCLI(t, 0, j, "subvolume", "create", a); !strings.Contains(out, "would create") {
		t.Errorf("plan: %q", out)
	}
	if _, err := os.Stat(a); err == nil {
		t.Fatal("created without --apply")
	}
	mustCLI(t, 0, j, "--apply", "subvolume", "create", a)
	mustCLI(t, 0, j, "--apply", "subvolume", "create", filepath.Join(a, "inner"))
	mustCLI(t, 0, j, "--apply", "snapshot", a, filepath.Join(mnt, "a-ro"), "--readonly")
	var subs []struct {
		ID       uint64 `json:"id"`
		Path     string `json:"path"`
		Snapshot bool   `json:"snapshot"`
		ReadOnly bool   `json:"read_only"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "subvolume", "list", mnt)), &subs); err != nil {
		t.Fatal(err)
	}
	if len(subs) != 3 || subs[2].Path != "a-ro" || !subs[2].Snapshot || !subs[2].ReadOnly || subs[1].Path != "a/inner" {
		t.Fatalf("list: %+v", subs)
	}
	// Refused: a holds a/inner (exit 3), unless overridden... the kernel
	// then refuses too (ENOTEMPTY), so delete the child first.
	mustCLI(t, 3, j, "--apply", "subvolume", "delete", a)
	mustCLI(t, 0, j, "--apply", "subvolume", "set-default", mnt, "258")
	if out := strings.TrimSpace(mustCLI(t, 0, "subvolume", "get-default", mnt)); out != "258" {
		t.Errorf("get-default: %q", out)
	}
	mustCLI(t, 0, j, "--apply", "subvolume", "set-default", mnt, "5")
	mustCLI(t, 0, j, "--apply", "subvolume", "delete", filepath.Join(a, "inner"))
	if out := strings.TrimSpace(mustCLI(t, 0, "subvolume", "get-readonly", filepath.Join(mnt, "a-ro"))); out != "true" {
		t.Errorf("get-readonly a-ro: %q", out)
	}
	mustCLI(t, 0, j, "--apply", "subvolume", "set-readonly", filepath.Join(mnt, "a-ro"), "false")
	if out := strings.TrimSpace(mustCLI(t, 0, "subvolume", "get-readonly", filepath.Join(mnt, "a-ro"))); out != "false" {
		t.Errorf("get-readonly a-ro after set: %q", out)
	}
	mustCLI(t, 0, j, "--apply", "subvolume", "delete", mnt, "--id", "258")
	if _, err := os.Stat(filepath.Join(mnt, "a-ro")); err == nil {
		t.Error("a-ro still there after delete --id 258")
	}

	// Scrub: read-only needs no --apply; the state is saved for status.
	var sc struct {
		State  string `json:"state"`
		Totals struct {
			DataBytes uint64 `json:"data_bytes_scrubbed"`
			Csum      uint64 `json:"csum_errors"`
		} `json:"totals"`
	}
	if err := os.WriteFile(filepath.Join(a, "f"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "sync")
	if err := json.Unmarshal([]byte(mustCLI(t, 0, j, "--json", "scrub", "start", mnt, "--readonly")), &sc); err != nil {
		t.Fatal(err)
	}
	if sc.State != "finished" || sc.Totals.DataBytes == 0 {
		t.Errorf("scrub: %+v", sc)
	}
	if out := mustCLI(t, 0, j, "scrub", "status", mnt); !strings.Contains(out, "scrub finished") {
		t.Errorf("status: %q", out)
	}
	mustCLI(t, 4, j, "--apply", "scrub", "resume", mnt) // finished: nothing to resume
	if out := mustCLI(t, 0, j, "scrub", "start", mnt); !strings.Contains(out, "would start a repairing scrub") {
		t.Errorf("repairing scrub without --apply: %q", out)
	}
	mustCLI(t, 4, j, "--apply", "scrub", "cancel", mnt) // none running

	// Balance with filters; status when none runs.
	var bal struct {
		State     string `json:"state"`
		Completed uint64 `json:"completed"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, 0, j, "--apply", "--json", "balance", "start", mnt, "--usage", "50")), &bal); err != nil {
		t.Fatal(err)
	}
	if bal.State != "done" {
		t.Errorf("balance: %+v", bal)
	}
	if out := mustCLI(t, 0, "balance", "status", mnt); !strings.Contains(out, "no balance") {
		t.Errorf("balance status: %q", out)
	}
	mustCLI(t, 2, "balance", "start", mnt, "--convert") // flag without value

	// Devices.
	var devs []struct {
		Devid uint64 `json:"devid"`
		Usage []struct {
			Type, Profile string
			Bytes         int64
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "device", "usage", mnt)), &devs); err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || len(devs[0].Usage) < 3 {
		t.Errorf("device usage: %+v", devs)
	}
	mustCLI(t, 3, j, "--apply", "device", "remove", "1", mnt) // the only device
	mustCLI(t, 0, j, "--apply", "device", "resize", mnt, "1", "400M")
	mustCLI(t, 0, j, "--apply", "device", "resize", mnt, "all", "max")

	// Qgroups.
	mustCLI(t, 0, j, "--apply", "qgroup", "enable", mnt)
	mustCLI(t, 0, j, "--apply", "qgroup", "limit", mnt, "0/256", "1M")
	var qs []struct {
		ID  string `json:"qgroupid"`
		Max int64  `json:"MaxReferenced"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "qgroup", "show", mnt)), &qs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range qs {
		found = found || (q.ID == "0/256" && q.Max == 1<<20)
	}
	if !found {
		t.Errorf("qgroup show: %+v", qs)
	}
	mustCLI(t, 2, "qgroup", "limit", mnt, "x/y", "1M")
}

func TestBtrfsDeviceAddRemove(t *testing.T) {
	mnt, _ := btrfsMount(t, 256<<20)
	spare := testenv.LoopFile(t, image(t, 256<<20))
	j := "--journal=" + t.TempDir()
	mustCLI(t, 0, j, "--apply", "device", "add", spare, mnt)
	var devs []struct{ Devid uint64 }
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "device", "usage", mnt)), &devs); err != nil || len(devs) != 2 {
		t.Fatalf("after add: %+v %v", devs, err)
	}
	mustCLI(t, 0, j, "--apply", "device", "remove", "2", mnt)
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "device", "usage", mnt)), &devs); err != nil || len(devs) != 1 {
		t.Fatalf("after remove: %+v %v", devs, err)
	}
}

// TestBtrfsScrubInterruptResume: a scrub interrupted (its context ends, as
// on SIGINT) saves where it got to; status says so and resume finishes it.
func TestBtrfsScrubInterruptResume(t *testing.T) {
	mnt, _ := btrfsMount(t, 1<<30)
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for i := 0; i < 8; i++ {
		if err := os.WriteFile(filepath.Join(mnt, "f"+strconv.Itoa(i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Run(t, "sync")
	j := "--journal=" + t.TempDir()
	// Interrupt once the kernel reports the scrub running (a fixed delay
	// lost the race to a loaded machine's start-up, or to the scrub's end).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs, err := btrfs.Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{j, "scrub", "start", mnt, "--readonly"}, &out, &errb) }()
	var code int
	for finished := false; !finished; {
		select {
		case code = <-done:
			finished = true
		case <-time.After(2 * time.Millisecond):
			if st, err := fs.ScrubProgress(context.Background()); err == nil && len(st.Devices) > 0 {
				cancel()
				code = <-done
				finished = true
			}
		}
	}
	if code == 0 && strings.Contains(out.String(), "scrub finished") {
		t.Skip("the scrub finished before the interrupt") // timing, not the environment
	}
	if code != 0 || !strings.Contains(out.String(), "canceled (resumable)") {
		t.Fatalf("interrupted scrub: exit %d %q %q", code, out.String(), errb.String())
	}
	if s := mustCLI(t, 0, j, "scrub", "status", mnt); !strings.Contains(s, "canceled (resumable)") {
		t.Errorf("status after the interrupt: %q", s)
	}
	if s := mustCLI(t, 0, j, "scrub", "resume", mnt); !strings.Contains(s, "scrub finished") {
		t.Errorf("resume: %q", s)
	}
	if s := mustCLI(t, 0, j, "scrub", "status", mnt); !strings.Contains(s, "scrub finished") {
		t.Errorf("status after the resume: %q", s)
	}
}
