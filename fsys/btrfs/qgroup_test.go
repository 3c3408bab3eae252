package btrfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// parseQgroupShow reads `btrfs qgroup show -re --raw`: a header of two
// lines, then "qgroupid rfer excl max_rfer max_excl [path]" ("none" for
// no limit).
func parseQgroupShow(t *testing.T, out string) map[QgroupID]Qgroup {
	t.Helper()
	m := map[QgroupID]Qgroup{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.Contains(f[0], "/") {
			continue
		}
		id, err := ParseQgroupID(f[0])
		if err != nil {
			continue // the header
		}
		num := func(s string) int64 {
			if s == "none" {
				return -1
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("qgroup show: %q in %q", s, line)
			}
			return n
		}
		m[id] = Qgroup{ID: id, Referenced: num(f[1]), Exclusive: num(f[2]), MaxReferenced: num(f[3]), MaxExclusive: num(f[4])}
	}
	return m
}

func TestQgroupsDifferentialAndEnforcement(t *testing.T) {
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	if on, err := f.QuotaEnabled(ctx); err != nil || on {
		t.Fatalf("fresh fs quota %v %v", on, err)
	}
	if _, err := f.Qgroups(ctx); !errors.Is(err, ErrQuotaDisabled) {
		t.Fatalf("qgroups with quota off: %v", err)
	}
	for i := 0; i < 5; i++ {
		if err := f.CreateSubvolume(ctx, fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tf.mnt, fmt.Sprintf("s%d/data", i)), make([]byte, (i+1)<<16), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.EnableQuota(ctx); err != nil {
		t.Fatal(err)
	}
	if on, err := f.QuotaEnabled(ctx); err != nil || !on {
		t.Fatalf("quota after enable %v %v", on, err)
	}
	if err := f.Snapshot(ctx, "s1", "snap1", true); err != nil {
		t.Fatal(err)
	}
	limited, _ := f.SubvolumeID(ctx, "s0")
	if err := f.SetQgroupLimit(ctx, NewQgroupID(0, limited), 1<<20, -1); err != nil {
		t.Fatal(err)
	}
	s2, _ := f.SubvolumeID(ctx, "s2")
	if err := f.SetQgroupLimit(ctx, NewQgroupID(0, s2), 64<<20, 32<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.SetQgroupLimit(ctx, NewQgroupID(0, s2), -1, 32<<20); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.Qgroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	theirs := parseQgroupShow(t, btrfsOut(t, "qgroup", "show", "-re", "--raw", tf.mnt))
	mismatches := 0
	for _, q := range got {
		if theirs[q.ID] != q {
			mismatches++
			t.Errorf("qgroup %s: ioctl %+v, btrfs %+v", q.ID, q, theirs[q.ID])
		}
		delete(theirs, q.ID)
	}
	for id, q := range theirs {
		mismatches++
		t.Errorf("qgroup %s only in btrfs qgroup show: %+v", id, q)
	}
	t.Logf("qgroups: %d, %d mismatches against btrfs qgroup show -re --raw", len(got), mismatches)
	if len(got) < 7 {
		t.Errorf("%d qgroups, want the top level, 5 subvolumes and a snapshot", len(got))
	}

	// Enforcement: writing past the 1 MiB limit of s0 fails with EDQUOT.
	fh, err := os.Create(filepath.Join(tf.mnt, "s0/big"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 64<<10)
	var werr error
	for i := 0; i < 64 && werr == nil; i++ { // 4 MiB at most
		if _, werr = fh.Write(buf); werr == nil {
			werr = fh.Sync()
		}
	}
	if !errors.Is(werr, syscall.EDQUOT) {
		t.Errorf("writing 4 MiB into a 1 MiB qgroup: %v, want EDQUOT", werr)
	}
	if err := f.DisableQuota(ctx); err != nil {
		t.Fatal(err)
	}
	if on, _ := f.QuotaEnabled(ctx); on {
		t.Error("quota still on after disable")
	}
}
