package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

const (
	childEnv  = "EOS_STORAGE_ENGINE_CHILD" // the spec file: run as the child
	killEnv   = "EOS_STORAGE_ENGINE_KILL"  // kind:step to SIGKILL at
	jdirEnv   = "EOS_STORAGE_ENGINE_JOURNAL"
	shrinkMiB = 200
)

// TestEngineChild is the process the kill test starts: it applies the spec
// in $EOS_STORAGE_ENGINE_CHILD and SIGKILLs itself right after the step
// named in $EOS_STORAGE_ENGINE_KILL.
func TestEngineChild(t *testing.T) {
	specFile := os.Getenv(childEnv)
	if specFile == "" {
		t.Skip("only run by TestKillWholeStackShrinkAtEachStep")
	}
	kill := os.Getenv(killEnv)
	ctx := context.Background()
	j, err := safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(os.Getenv(jdirEnv))}, JournalOptions()...)...)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(WithJournal(j), WithStepHook(func(kind, step string) {
		if kind+":"+step == kill {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(specFile)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := ReadSpec(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("not killed at %q", kill)
}

func fillFiles(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 24 {
		b := make([]byte, 1<<20+r.IntN(1<<20))
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		name := fmt.Sprintf("f%02d", i)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		sums[name] = sha256.Sum256(b)
	}
	// Holes: delete every other file so data sits past the new end.
	for i := 0; i < 24; i += 2 {
		name := fmt.Sprintf("f%02d", i)
		os.Remove(filepath.Join(dir, name))
		delete(sums, name)
	}
	return sums
}

func checkFiles(t *testing.T, dir string, sums map[string][32]byte) {
	t.Helper()
	for name, want := range sums {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || sha256.Sum256(b) != want {
			t.Errorf("%s: checksum differs (%v)", name, err)
		}
	}
}

// TestKillWholeStackShrinkAtEachStep shrinks partition 1 and its ext4
// (filesystem first, then the table) in a child process killed with
// SIGKILL right after each journaled step; then recovery, a re-plan and
// an apply finish it: e2fsck is clean, every checksum matches, the
// partition and the filesystem have their new sizes and a last re-plan
// is empty.
func TestKillWholeStackShrinkAtEachStep(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck", "resize2fs")
	const M = int64(1) << 20
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []string{
		"fsys.resize:checked", "fsys.resize:resized", "fsys.resize:verified",
		"storage.action:fsys.resize:DEV1",
		"partition.write:backup entries", "partition.write:primary header",
		"storage.action:partition.shrink:DEV",
	} {
		t.Run(strings.ReplaceAll(at, "/", "_"), func(t *testing.T) {
			ctx := context.Background()
			dev := testenv.Loop(t, 600*M)
			at := strings.ReplaceAll(strings.ReplaceAll(at, "DEV1", partPath(dev, 1)), "DEV", dev)
			jdir := t.TempDir()
			spec := &Spec{
				Disks:       []DiskSpec{{ID: "d", Path: dev, Partitions: []PartitionSpec{{Number: 1, SizeBytes: 512 * M}}}},
				Filesystems: []FilesystemSpec{{Device: "d#1", Type: "ext4", SizeBytes: 512 * M}},
			}
			e, _ := loopEngine(t)
			p, err := e.Plan(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			mustApply(t, e, p)
			part := partPath(dev, 1)
			mnt := t.TempDir()
			if err := e.Filesystems().Mount(ctx, part, mnt, fsys.Ext4, fsys.MountOptions{}); err != nil {
				t.Fatal(err)
			}
			sums := fillFiles(t, mnt)
			if err := unix.Unmount(mnt, 0); err != nil {
				t.Fatal(err)
			}
			spec.Disks[0].Partitions[0].SizeBytes = shrinkMiB * M
			spec.Filesystems[0].SizeBytes = shrinkMiB * M
			sf := filepath.Join(t.TempDir(), "spec.json")
			b, _ := json.Marshal(spec)
			if err := os.WriteFile(sf, b, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(self, "-test.run=^TestEngineChild$", "-test.v")
			cmd.Env = append(os.Environ(), childEnv+"="+sf, killEnv+"="+at, jdirEnv+"="+jdir)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err = cmd.Run()
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child at %s: %v, want killed\n%s", at, err, out.String())
			}
			// The journal says which step was last.
			snap, err := safety.ReadJournal(ctx, jdir)
			if err != nil {
				t.Fatal(err)
			}
			kind, step, _ := strings.Cut(at, ":")
			if kind != "storage.action" {
				es := snap.Interrupted()
				if len(es) != 1 || es[0].Intent.Op != kind || es[0].LastStep() != step {
					t.Fatalf("journal after the kill at %s: %+v", at, es)
				}
			} else if len(snap.Interrupted()) != 0 {
				t.Fatalf("killed between actions, yet interrupted: %+v", snap.Interrupted())
			}
			// Recover, then finish with the same spec.
			j, err := safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(jdir)}, JournalOptions()...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			re, err := New(WithJournal(j))
			if err != nil {
				t.Fatal(err)
			}
			rs, err := re.Recover(ctx)
			if err != nil {
				t.Fatalf("recover: %v %+v", err, rs)
			}
			for _, r := range rs {
				t.Logf("recovered %s %s -> %s", r.Entry.Intent.Op, r.Entry.LastStep(), r.Outcome)
			}
			rest, err := re.Plan(ctx, spec)
			if err != nil {
				t.Fatalf("re-plan after recovery: %v", err)
			}
			t.Logf("left to do: %v", ids(rest))
			mustApply(t, re, rest)
			if final, err := re.Plan(ctx, spec); err != nil || !final.Empty() {
				t.Fatalf("final re-plan: %v %v", ids(final), err)
			}
			if out, err := testenv.RunErr("e2fsck", "-fn", part); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					t.Fatal(err)
				}
				t.Fatalf("e2fsck -fn after recovery at %s: %v\n%s", at, err, out)
			}
			info, err := re.Filesystems().Inspect(ctx, part)
			if err != nil {
				t.Fatal(err)
			}
			if info.SizeBytes != shrinkMiB*M || info.DeviceBytes != shrinkMiB*M {
				t.Fatalf("fs %d bytes on a %d-byte partition, want %d both", info.SizeBytes, info.DeviceBytes, shrinkMiB*M)
			}
			if err := re.Filesystems().Mount(ctx, part, mnt, fsys.Ext4, fsys.MountOptions{ReadOnly: true}); err != nil {
				t.Fatal(err)
			}
			checkFiles(t, mnt, sums)
			if err := unix.Unmount(mnt, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}
