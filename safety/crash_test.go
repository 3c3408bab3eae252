package safety

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const crashChildEnv = "EOS_SAFETY_CRASH_CHILD" // "stateDir|targetPath"

// crashChild performs the test mutation step by step, announcing each point
// on stdout ("at N") and waiting for "go" on stdin, so the parent can
// SIGKILL it at exactly that point.
func crashChild() int {
	dir, path, _ := strings.Cut(os.Getenv(crashChildEnv), "|")
	in := bufio.NewScanner(os.Stdin)
	point := 0
	at := func() {
		fmt.Printf("at %d\n", point)
		point++
		if !in.Scan() {
			os.Exit(3)
		}
	}
	ctx := context.Background()
	j, err := OpenJournal(ctx, WithStateDir(dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	id, err := IdentityOf(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	at()
	m, err := j.Begin(ctx, Intent{Op: "test.write", Target: id, Ranges: testRanges})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	at()
	for i, r := range testRanges {
		if err := applyRange(path, r); err != nil {
			return 2
		}
		at()
		if err := m.Step(ctx, "range-"+strconv.Itoa(i), ""); err != nil {
			return 2
		}
		at()
	}
	if err := m.Done(ctx); err != nil {
		return 2
	}
	at()
	fmt.Println("end")
	return 0
}

// TestCrashAtEveryStep kills a child process (SIGKILL) at every point of a
// journaled mutation; after recovery the target is exactly old or exactly
// new, and the journal's outcome says which.
func TestCrashAtEveryStep(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		crashAtEveryStep(t, func() (string, []byte) {
			path, _, old := target(t, 32768)
			return path, old
		})
	})
	// The same on a real block device: before-images and restores go
	// through the device node, identity is maj:min plus diskseq, and
	// recovery flocks the disk.
	t.Run("loop", func(t *testing.T) {
		img, _, old := target(t, 1<<20)
		dev := testenv.LoopFile(t, img)
		crashAtEveryStep(t, func() (string, []byte) {
			f, err := os.OpenFile(dev, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(old, 0); err != nil {
				t.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			return dev, old
		})
	})
}

func crashAtEveryStep(t *testing.T, fresh func() (string, []byte)) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const points = 2 + 2*3 + 1
	for kill := 0; kill <= points; kill++ {
		for _, fwd := range []bool{false, true} {
			dir := t.TempDir()
			path, old := fresh()
			if _, err := killChildAt(exe, crashChildEnv+"="+dir+"|"+path, kill); err != nil {
				t.Fatalf("kill=%d: %v", kill, err)
			}
			var opts []Option
			want := old
			if fwd {
				opts = append(opts, WithRollForward("test.write", rollForwardAll))
				want = newContent(old)
			}
			j := openJ(t, dir, opts...)
			interrupted := len(j.Interrupted())
			if _, err := j.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := mustRead(t, path)
			es := j.Entries()
			switch {
			case len(es) == 0:
				if kill > 0 || !bytes.Equal(got, old) {
					t.Fatalf("kill=%d: no journal entry", kill)
				}
			case es[0].Outcome == OutcomeDone:
				if !bytes.Equal(got, newContent(old)) {
					t.Fatalf("kill=%d: done but not new", kill)
				}
			default:
				if interrupted != 1 {
					t.Fatalf("kill=%d: %d interrupted", kill, interrupted)
				}
				if es[0].Outcome.State() == "new" && !bytes.Equal(got, newContent(old)) ||
					es[0].Outcome.State() == "old" && !bytes.Equal(got, old) ||
					!bytes.Equal(got, want) {
					t.Fatalf("kill=%d fwd=%v: outcome %s (%s) but the target is a mix", kill, fwd, es[0].Outcome, es[0].Outcome.State())
				}
			}
			j.Close()
		}
	}
}

const holdChildEnv = "EOS_SAFETY_HOLD_CHILD" // device path to hold open O_EXCL

// holdChild opens a device O_EXCL, says "held", and keeps it until stdin closes.
func holdChild() int {
	f, err := os.OpenFile(os.Getenv(holdChildEnv), os.O_RDONLY|syscall.O_EXCL, 0)
	if err != nil {
		fmt.Println("error", err)
		return 2
	}
	defer f.Close()
	fmt.Println("held")
	b := make([]byte, 1)
	os.Stdin.Read(b)
	return 0
}

// killChildAt re-runs the test binary with env set, answers "go" to each
// "at N" step it prints, and SIGKILLs it when it reaches step kill. It
// reports whether the child was killed; a child that ran to the end must
// have succeeded, else the error carries its stderr.
func killChildAt(exe, env string, kill int) (killed bool, err error) {
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return false, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	if err := cmd.Start(); err != nil {
		return false, err
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == fmt.Sprintf("at %d", kill) {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
		if strings.HasPrefix(line, "at ") {
			fmt.Fprintln(stdin, "go")
		}
	}
	stdin.Close()
	if werr := cmd.Wait(); !killed && werr != nil {
		return false, fmt.Errorf("child failed: %w: %s", werr, stderr.String())
	}
	return killed, nil
}
