package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// The test binary doubles as the command, so the crash test can SIGKILL a
// real process without building one.
const asCLI = "EOS_FS_TEST_AS_CLI"

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

func image(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileHash(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// info --json prints at least the keys the issue names, with the values
// blkid -p reads from the same image.
func TestInfoJSON(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "blkid")
	img := image(t, 64<<20)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", "-L", "eos-data", "-b", "1024", img)
	code, out, errs := runCLI(t, "info", "--json", img)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "uuid", "label", "block_size", "size_bytes", "free_bytes", "state", "mountpoints"} {
		if _, ok := got[k]; !ok {
			t.Errorf("info --json has no %q: %s", k, out)
		}
	}
	blkid := string(testenv.Run(t, "blkid", "-p", "-o", "export", img))
	for _, kv := range []string{"TYPE=" + got["type"].(string), "UUID=" + got["uuid"].(string), "LABEL=" + got["label"].(string)} {
		if !strings.Contains(blkid, kv+"\n") {
			t.Errorf("blkid -p does not say %s:\n%s", kv, blkid)
		}
	}
	if got["block_size"].(float64) != 1024 || got["size_bytes"].(float64) != 64<<20 || got["state"] != "clean" {
		t.Errorf("info: %s", out)
	}
}

// Without --apply nothing is written.
func TestNothingWithoutApply(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "resize2fs")
	img := image(t, 64<<20)
	before := fileHash(t, img)
	for _, args := range [][]string{
		{"make", img, "ext4", "--label", "x"},
		{"label", img, "y"},
		{"uuid", img, "0b7d6c56-2a66-4bd4-9f5c-8f8b6d7d5f11"},
		{"freeze", "/"},
		{"thaw", "/"},
		{"umount", "/mnt"},
	} {
		code, out, errs := runCLI(t, append([]string{"--journal", t.TempDir()}, args...)...)
		if code != 0 || !strings.Contains(out, "would ") {
			t.Errorf("%v: exit %d, %q %q", args, code, out, errs)
		}
	}
	if fileHash(t, img) != before {
		t.Fatal("a command without --apply wrote to the image")
	}
	testenv.Run(t, "mkfs.ext4", "-q", "-F", img, "32M")
	before = fileHash(t, img)
	code, out, errs := runCLI(t, "resize", img, "48M")
	if code != 0 || !strings.Contains(out, "would offline_grow") {
		t.Errorf("resize without --apply: exit %d, %q %q", code, out, errs)
	}
	if fileHash(t, img) != before {
		t.Fatal("resize without --apply wrote to the image")
	}
}

// Refusals exit 3 with the reason; usage errors exit 2.
func TestExitCodes(t *testing.T) {
	testenv.RequireTool(t, "mkfs.xfs")
	img := image(t, 320<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-f", img)
	if code, _, errs := runCLI(t, "resize", img, "310M"); code != exitRefused || !strings.Contains(errs, "shrink_not_supported") {
		t.Errorf("xfs shrink: exit %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "resize", img); code != exitUsage {
		t.Errorf("resize without a size: exit %d", code)
	}
	if code, _, _ := runCLI(t, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}

// A SIGKILL of `fs resize --apply` at each step of an offline ext4 shrink,
// and in the middle of resize2fs itself, leaves a filesystem e2fsck makes
// clean with every checksum intact; the journal has the mutation
// interrupted after the step it reached; `fs recover --apply` finishes the
// shrink.
func TestKillResizeAtEachStep(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck", "resize2fs", "mount", "umount")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const M = 1 << 20
	for _, at := range []string{"checked", "resize2fs", "resized", "verified"} {
		t.Run(at, func(t *testing.T) {
			var dev, journal string
			var sums map[string][32]byte
			for attempt := 1; ; attempt++ {
				dev = testenv.Loop(t, 400*M)
				testenv.Run(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0", dev, "384M")
				sums = fillAndFragment(t, dev)
				journal = t.TempDir()
				cmd := exec.Command(self, "--journal", journal, "resize", "--apply", dev, "200M")
				cmd.Env = append(os.Environ(), asCLI+"=1")
				if at != "resize2fs" {
					cmd.Env = append(cmd.Env, crashEnv+"=fsys.resize:"+at)
				}
				var tail bytes.Buffer
				var stderr io.Reader
				if at == "resize2fs" {
					if stderr, err = cmd.StderrPipe(); err != nil {
						t.Fatal(err)
					}
				} else {
					cmd.Stderr = &tail
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				stopped := true
				if at == "resize2fs" {
					stopped = killDuringResize2fs(t, cmd, stderr)
				}
				err = cmd.Wait()
				ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
				if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("resize at %s: %v, want killed\n%s", at, err, tail.String())
				}
				waitNoTool(t, "resize2fs", dev)
				if !stopped && attempt < 4 {
					// The test read resize2fs's first pass only after it had
					// exited (a loaded machine): the kill did not land in it.
					t.Logf("attempt %d: resize2fs had ended before it could be stopped; again", attempt)
					continue
				}
				break
			}
			// The journal says what happened: interrupted, after the step.
			snap, err := safety.ReadJournal(context.Background(), journal)
			if err != nil {
				t.Fatal(err)
			}
			es := snap.Interrupted()
			if len(es) != 1 || es[0].Intent.Op != "fsys.resize" {
				t.Fatalf("journal after the kill at %s: %+v", at, es)
			}
			want := at
			if at == "resize2fs" {
				want = "checked"
			}
			if es[0].LastStep() != want {
				t.Errorf("journal's last step %q, want %q", es[0].LastStep(), want)
			}
			// e2fsck makes it clean, with every byte of data intact.
			if out, err := testenv.RunErr("e2fsck", "-fy", dev); err != nil {
				// Exit 1: errors corrected, which a resize2fs killed midway
				// may need (free counts, bitmap padding).
				if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() > 1 {
					t.Fatalf("e2fsck -fy after the kill at %s: %v\n%s", at, err, out)
				}
			}
			if out, err := testenv.RunErr("e2fsck", "-fn", dev); err != nil {
				t.Fatalf("e2fsck -fn after repair: %v\n%s", err, out)
			}
			verifySums(t, dev, sums, "after the kill at "+at)
			// The dry run lists it and changes nothing, not even a byte of
			// the journal.
			before, err := os.ReadFile(filepath.Join(journal, "journal.wal"))
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, "--journal", journal, "recover")
			if code != 0 || !strings.Contains(out, "1 interrupted (add --apply") {
				t.Fatalf("recover dry run: exit %d\n%s%s", code, out, errs)
			}
			if after, err := os.ReadFile(filepath.Join(journal, "journal.wal")); err != nil || !bytes.Equal(before, after) {
				t.Fatalf("the dry run changed the journal (%v)", err)
			}
			// Recovery finishes the shrink.
			code, out, errs = runCLI(t, "--journal", journal, "recover", "--apply")
			if code != 0 {
				t.Fatalf("recover: exit %d\n%s%s", code, out, errs)
			}
			code, out, errs = runCLI(t, "info", "--json", dev)
			if code != 0 || !strings.Contains(out, `"size_bytes": 209715200`) {
				t.Fatalf("after recover: exit %d\n%s%s", code, out, errs)
			}
			if out, err := testenv.RunErr("e2fsck", "-fn", dev); err != nil {
				t.Fatalf("e2fsck -fn after recover: %v\n%s", err, out)
			}
			verifySums(t, dev, sums, "after recover")
		})
	}
}

// fillAndFragment writes files across the filesystem, then deletes every
// other one, so a shrink has blocks beyond the new end to move.
func fillAndFragment(t *testing.T, dev string) map[string][32]byte {
	t.Helper()
	dir := t.TempDir()
	testenv.Run(t, "mount", dev, dir)
	defer testenv.Run(t, "umount", dir)
	sums := map[string][32]byte{}
	buf := make([]byte, 4<<20)
	for i := 0; i < 40; i++ {
		for j := range buf {
			buf[j] = byte(i*131 + j*7 + j>>9)
		}
		name := "f" + strconv.Itoa(i)
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			sums[name] = sha256.Sum256(buf)
		}
	}
	for i := 1; i < 40; i += 2 {
		os.Remove(filepath.Join(dir, "f"+strconv.Itoa(i)))
	}
	return sums
}

func verifySums(t *testing.T, dev string, sums map[string][32]byte, when string) {
	t.Helper()
	dir := t.TempDir()
	testenv.Run(t, "mount", "-o", "ro", dev, dir)
	defer testenv.Run(t, "umount", dir)
	for name, want := range sums {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || sha256.Sum256(b) != want {
			t.Errorf("%s: %s damaged (%v)", when, name, err)
		}
	}
}

// killDuringResize2fs waits for resize2fs's first progress line, then
// SIGKILLs the command and resize2fs's process group: the worst case, a
// tool killed while it moves blocks. It reports whether resize2fs was
// still there to stop (false: it had ended, and the kill missed it).
func killDuringResize2fs(t *testing.T, cmd *exec.Cmd, stderr io.Reader) (stopped bool) {
	t.Helper()
	sc := bufio.NewScanner(stderr)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		for i, c := range data {
			if c == '\n' || c == '\r' {
				return i + 1, data[:i], nil
			}
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "Begin pass") {
			// Stop resize2fs where it is first: the command cannot journal
			// an outcome while its tool has not exited, so the kill that
			// follows lands mid-resize even on a loaded machine.
			pid := toolPid(t, cmd.Process.Pid, "resize2fs")
			if pid > 0 {
				_ = syscall.Kill(pid, syscall.SIGSTOP)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			if pid > 0 {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			go func() { // drain
				for sc.Scan() {
				}
			}()
			return pid > 0
		}
	}
	t.Fatal("resize2fs printed no progress before the command ended")
	return false
}

// toolPid finds the child of parent running tool.
func toolPid(t *testing.T, parent int, tool string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(st)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		if s[open+1:close] == tool && len(f) > 1 && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

// waitNoTool waits until no tool process works on dev any more.
func waitNoTool(t *testing.T, tool, dev string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		busy := false
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err == nil && bytes.Contains(b, []byte(tool)) && bytes.Contains(b, []byte(dev)) {
				busy = true
			}
		}
		if !busy {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s still running on %s", tool, dev)
}

// A SIGKILL of `fs make --apply --override not_empty:...` while mke2fs is
// writing over an ext4 that holds data leaves neither filesystem whole;
// the journal has the make interrupted after its undo_file step, and
// `fs recover --apply` replays mke2fs's undo file and then the
// before-images: the old filesystem is back, e2fsck -fn clean, every
// checksum intact, and the journal says rolled back.
func TestKillOverriddenMakeMidMke2fs(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "mke2fs", "e2undo", "e2fsck", "mount", "umount")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const M = 1 << 20
	dev := testenv.Loop(t, 400*M)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0", dev)
	sums := fillAndFragment(t, dev)
	journal := t.TempDir()
	cmd := exec.Command(self, "--journal", journal, "--apply", "--override", "not_empty:test overwrites it",
		"make", dev, "ext4")
	cmd.Env = append(os.Environ(), asCLI+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once mke2fs has written a few MiB over the old filesystem (its
	// undo file grows with every block it overwrites).
	killed := false
	for i := 0; i < 3000 && !killed; i++ {
		undo, _ := filepath.Glob(filepath.Join(journal, "images", "*", "mke2fs.e2undo"))
		if len(undo) == 1 {
			if st, err := os.Stat(undo[0]); err == nil && st.Size() > M {
				pid := toolPid(t, cmd.Process.Pid, "mke2fs")
				_ = cmd.Process.Signal(syscall.SIGKILL)
				if pid > 0 {
					_ = syscall.Kill(-pid, syscall.SIGKILL)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				killed = true
			}
		}
		time.Sleep(time.Millisecond)
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("mke2fs finished before it could be killed (%v):\n%s", err, out.String())
	}
	waitNoTool(t, "mke2fs", dev)
	snap, err := safety.ReadJournal(context.Background(), journal)
	if err != nil {
		t.Fatal(err)
	}
	es := snap.Interrupted()
	if len(es) != 1 || es[0].Intent.Op != "fsys.make" || es[0].LastStep() != "undo_file" {
		t.Fatalf("journal after the kill: %+v", es)
	}
	code, sout, serr := runCLI(t, "--journal", journal, "recover", "--apply")
	if code != 0 {
		t.Fatalf("recover: exit %d\n%s%s", code, sout, serr)
	}
	after, err := safety.ReadJournal(context.Background(), journal)
	if err != nil {
		t.Fatal(err)
	}
	var outcome safety.Outcome
	for _, e := range after.Entries {
		if e.ID == es[0].ID {
			outcome = e.Outcome
		}
	}
	if outcome != safety.OutcomeRolledBack {
		t.Fatalf("journal says %q after recovery, want rolled back:\n%s", outcome, sout)
	}
	if out, err := testenv.RunErr("e2fsck", "-fn", dev); err != nil {
		t.Fatalf("e2fsck -fn after recover: %v\n%s", err, out)
	}
	verifySums(t, dev, sums, "after recovering the killed make")
}
