package safety

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
)

const recoverChildEnv = "EOS_SAFETY_RECOVER_CHILD" // "stateDir|fwd"

// announcer stops the child at a numbered point until the parent says "go"
// (or kills it).
type announcer struct {
	in    *bufio.Scanner
	point int
}

func (a *announcer) at() {
	fmt.Printf("at %d\n", a.point)
	a.point++
	if !a.in.Scan() {
		os.Exit(3)
	}
}

type announceFS struct {
	OSFS
	a *announcer
}

func (f announceFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	fl, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return announceFile{File: fl, a: f.a}, nil
}

type announceFile struct {
	File
	a *announcer
}

func (f announceFile) Sync() error { f.a.at(); return f.File.Sync() }

type announceDev struct {
	Device
	a *announcer
}

func (d announceDev) WriteAt(p []byte, off int64) (int, error) {
	d.a.at()
	return d.Device.WriteAt(p, off)
}

// recoverChild runs Recover with a stop point before every journal sync,
// every restore write and every roll-forward range.
func recoverChild() int {
	dir, fwd, _ := strings.Cut(os.Getenv(recoverChildEnv), "|")
	a := &announcer{in: bufio.NewScanner(os.Stdin)}
	opts := []Option{WithStateDir(dir), WithFS(announceFS{a: a}),
		WithDeviceOpener(func(p string, flag int) (Device, error) {
			d, err := openDevice(p, flag)
			if err != nil {
				return nil, err
			}
			return announceDev{Device: d, a: a}, nil
		})}
	if fwd == "1" {
		opts = append(opts, WithRollForward("test.write", func(ctx context.Context, e Entry) error {
			for _, r := range e.Intent.Ranges {
				a.at()
				if err := applyRange(e.Intent.Target.Path, r); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	j, err := OpenJournal(context.Background(), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if _, err := j.Recover(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	fmt.Println("end")
	return 0
}

// TestCrashDuringRecovery SIGKILLs a recovering process at every journal
// sync and every write it makes; the next recovery finishes the job and
// the target ends exactly old (rolled back) or exactly new (rolled forward).
func TestCrashDuringRecovery(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, fwd := range []bool{false, true} {
		for kill := 0; ; kill++ {
			dir := t.TempDir()
			path, id, old := target(t, 32768)
			interruptedAfter(t, dir, path, id, 2)
			flag := "0"
			want, wantO := old, OutcomeRolledBack
			opts := []Option{}
			if fwd {
				flag, want, wantO = "1", newContent(old), OutcomeRolledForward
				opts = append(opts, WithRollForward("test.write", rollForwardAll))
			}
			killed, err := killChildAt(exe, recoverChildEnv+"="+dir+"|"+flag, kill)
			if err != nil {
				t.Fatalf("fwd=%v kill=%d: %v", fwd, kill, err)
			}
			j := openJ(t, dir, opts...)
			if _, err := j.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			es := j.Entries()
			if len(es) != 1 || es[0].Outcome != wantO || !bytes.Equal(mustRead(t, path), want) {
				t.Fatalf("fwd=%v kill=%d: outcome %q, target matches=%v", fwd, kill, es[0].Outcome, bytes.Equal(mustRead(t, path), want))
			}
			if len(j.Lockdowns()) != 0 {
				t.Fatalf("fwd=%v kill=%d: a crash during recovery locked the target", fwd, kill)
			}
			j.Close()
			if !killed {
				t.Logf("fwd=%v: %d kill points", fwd, kill)
				break
			}
		}
	}
}
