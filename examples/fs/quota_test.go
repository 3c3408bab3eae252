package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// The quota commands on a real btrfs: enable (planned, then applied),
// a 1 MiB limit on a subvolume, get and report in JSON, and the typed
// refusals (soft limits, user quotas, project ids on btrfs).
func TestQuotaCommandsBtrfs(t *testing.T) {
	testenv.RequireTool(t, "btrfs")
	mnt, _ := btrfsMount(t, 256<<20)
	a := filepath.Join(mnt, "a")
	testenv.Run(t, "btrfs", "-q", "subvolume", "create", a)
	if out := mustCLI(t, 0, "quota", "enable", mnt); !strings.Contains(out, "would enable") {
		t.Errorf("plan: %q", out)
	}
	if code, _, errs := runCLI(t, "quota", "report", mnt); code != exitFailed || !strings.Contains(errs, "not enabled") {
		t.Errorf("report before enable: exit %d, %q", code, errs)
	}
	mustCLI(t, 0, "--apply", "quota", "enable", mnt)
	out := mustCLI(t, 0, "--json", "subvolume", "list", mnt)
	var subs []struct {
		ID   uint64 `json:"id"`
		Path string `json:"path"`
	}
	if err := json.Unmarshal([]byte(out), &subs); err != nil || len(subs) == 0 {
		t.Fatalf("subvolume list: %v %q", err, out)
	}
	id := strconv.FormatUint(subs[0].ID, 10)
	if out := mustCLI(t, 0, "quota", "set", mnt, "--subvolume", id, "--bhard", "1M"); !strings.Contains(out, "would set") {
		t.Errorf("plan: %q", out)
	}
	mustCLI(t, 0, "--apply", "quota", "set", mnt, "--subvolume", id, "--bhard", "1M")
	var u struct {
		ID     uint64 `json:"id"`
		Kind   string `json:"kind"`
		Limits struct {
			BlockHard uint64 `json:"block_hard"`
		} `json:"limits"`
	}
	out = mustCLI(t, 0, "--json", "quota", "get", mnt, "--subvolume", id)
	if err := json.Unmarshal([]byte(out), &u); err != nil || u.Limits.BlockHard != 1<<20 || u.Kind != "subvolume" {
		t.Errorf("quota get: %+v %v %q", u, err, out)
	}
	var rep []json.RawMessage
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "quota", "report", mnt)), &rep); err != nil || len(rep) < 2 {
		t.Errorf("report: %d rows, %v", len(rep), err)
	}
	if code, _, errs := runCLI(t, "--apply", "quota", "set", mnt, "--subvolume", id, "--bsoft", "1M"); code != exitFailed || !strings.Contains(errs, "no soft limit") {
		t.Errorf("soft limit on btrfs: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "quota", "get", mnt, "--user", "1000"); code != exitFailed || !strings.Contains(errs, "not supported") {
		t.Errorf("user quota on btrfs: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "--apply", "quota", "project", a, "5"); code != exitFailed || !strings.Contains(errs, "not supported") {
		t.Errorf("project id on btrfs: exit %d %q", code, errs)
	}
	for _, bad := range [][]string{
		{"quota", "get", mnt},
		{"quota", "get", mnt, "--user", "1", "--group", "2"},
		{"quota", "get", mnt, "--user", "x"},
		{"quota", "frob"},
		{"quota", "report", mnt, "--kind", "tenant"},
	} {
		if code, _, _ := runCLI(t, bad...); code != exitUsage {
			t.Errorf("fs %s: exit %d, want usage", strings.Join(bad, " "), code)
		}
	}
}

// On a plain ext4 (no quota feature; the host kernel cannot mount one with
// it) every quota command answers "not enabled" with the reason; project
// ids work on xfs without quota accounting.
func TestQuotaCommandsTypedErrors(t *testing.T) {
	testenv.RequireRoot(t)
	dev := testenv.LoopFile(t, image(t, 64<<20))
	testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
	mnt := t.TempDir()
	testenv.Run(t, "mount", dev, mnt)
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	code, out, errs := runCLI(t, "quota", "report", mnt)
	if code != exitFailed || !strings.Contains(errs, "not enabled") || strings.TrimSpace(out) != "" {
		t.Errorf("report on plain ext4: exit %d out %q err %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "--apply", "quota", "set", mnt, "--user", "1000", "--bhard", "1M"); code != exitFailed || !strings.Contains(errs, "ESRCH") {
		t.Errorf("set on plain ext4: exit %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "--apply", "quota", "enable", mnt); code != exitFailed || !strings.Contains(errs, "unmount") {
		t.Errorf("enable on mounted ext4: exit %d %q", code, errs)
	}

	testenv.RequireTool(t, "mkfs.xfs")
	xdev := testenv.LoopFile(t, image(t, 300<<20))
	testenv.Run(t, "mkfs.xfs", "-q", "-f", xdev)
	xmnt := t.TempDir()
	testenv.Run(t, "mount", xdev, xmnt)
	t.Cleanup(func() { exec.Command("umount", xmnt).Run() })
	d := filepath.Join(xmnt, "tenant")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, 0, "--apply", "quota", "project", d, "42")
	var p struct {
		ID      uint32 `json:"id"`
		Inherit bool   `json:"inherit"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, 0, "--json", "quota", "project", d)), &p); err != nil || p.ID != 42 || !p.Inherit {
		t.Errorf("project: %+v %v", p, err)
	}
	if out := mustCLI(t, 0, "quota", "enable", xdev); !strings.Contains(out, "would enable") {
		t.Errorf("plan %q", out)
	}
}
