package btrfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var scrubDevRe = regexp.MustCompile(`^Scrub device .* \(id (\d+)\)`)

// parseScrubR reads the per-device blocks of `btrfs scrub start|status -R
// -d`: "Scrub device PATH (id N) ..." then "\tname: value" lines, names as
// ScrubStats's json tags.
func parseScrubR(t *testing.T, out string) map[uint64]ScrubStats {
	t.Helper()
	res := map[uint64]ScrubStats{}
	var cur uint64
	kv := map[uint64]map[string]any{}
	for _, line := range strings.Split(out, "\n") {
		if m := scrubDevRe.FindStringSubmatch(line); m != nil {
			cur, _ = strconv.ParseUint(m[1], 10, 64)
			kv[cur] = map[string]any{}
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok || cur == 0 || strings.Contains(k, " ") {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			kv[cur][k] = n
		}
	}
	for id, m := range kv {
		b, _ := json.Marshal(m)
		var s ScrubStats
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if len(m) != 15 {
			t.Fatalf("device %d: %d counters in btrfs's -R output, want 15: %v", id, len(m), m)
		}
		res[id] = s
	}
	return res
}

func cleanScrubStatus(t *testing.T, f *FS) {
	t.Cleanup(func() { os.Remove("/var/lib/btrfs/scrub.status." + f.FSID().String()) })
}

// compareScrub counts the devices whose counters differ.
func compareScrub(t *testing.T, what string, mine ScrubStatus, theirs map[uint64]ScrubStats) int {
	t.Helper()
	bad := 0
	for _, d := range mine.Devices {
		if theirs[d.Devid] != d.Stats {
			bad++
			t.Errorf("%s: device %d:\n ioctl: %+v\n btrfs: %+v", what, d.Devid, d.Stats, theirs[d.Devid])
		}
	}
	if len(theirs) != len(mine.Devices) {
		bad++
		t.Errorf("%s: btrfs reports %d devices, ioctl %d", what, len(theirs), len(mine.Devices))
	}
	return bad
}

// pattern is a file body that occurs nowhere else on the device.
func pattern(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(42)).Read(b)
	return b
}

// corruptCopy flips bytes of the first copy of body found in the image
// file backing dev (the loop driver reads through the same pages), and
// returns its offset.
func corruptCopy(t *testing.T, img string, body []byte) int64 {
	t.Helper()
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, body[:4096])
	if i < 0 {
		t.Fatal("data not found on the device")
	}
	fh, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	junk := bytes.Repeat([]byte{0xA5}, 512)
	if _, err := fh.WriteAt(junk, int64(i)+100); err != nil {
		t.Fatal(err)
	}
	return int64(i)
}

// TestScrubDifferentialAndRepair: a RAID1 filesystem on two devices,
// scrubbed by ioctl (both devices at once) and by `btrfs scrub start -B
// -R -d -r`: the counters agree. Then one copy of a data block is damaged
// in the image: a read-only scrub counts the csum errors (and btrfs's own
// read-only scrub counts the same), a repairing scrub corrects them from
// the other copy, and a last scrub finds nothing.
func TestScrubDifferentialAndRepair(t *testing.T) {
	tf := newTestFS(t, 2, 256<<20, "-d", "raid1", "-m", "raid1")
	ctx, f := ctxT(t), tf.fs
	cleanScrubStatus(t, f)
	body := pattern(1 << 20)
	if err := os.WriteFile(filepath.Join(tf.mnt, "f"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var calls int
	st, err := f.Scrub(ctx, ScrubOptions{ReadOnly: true, Interval: 10 * time.Millisecond}, func(ScrubStatus) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || len(st.Devices) != 2 || !st.Devices[0].Finished || !st.Devices[1].Finished {
		t.Fatalf("scrub: %d progress calls, %+v", calls, st)
	}
	if st.Totals().DataBytesScrubbed < 2<<20 {
		t.Errorf("scrubbed %d data bytes of two 1 MiB copies", st.Totals().DataBytesScrubbed)
	}
	mismatches := compareScrub(t, "clean", st, parseScrubR(t, btrfsOut(t, "scrub", "start", "-B", "-R", "-d", "-r", tf.mnt)))
	mismatches += compareScrub(t, "clean status", st, parseScrubR(t, btrfsOut(t, "scrub", "status", "-R", "-d", tf.mnt)))

	// Damage the first copy found on device 1's image.
	img := filepath.Join(filepath.Dir(tf.imgs[0]), filepath.Base(tf.imgs[0]))
	corruptCopy(t, img, body)
	ro, err := f.Scrub(ctx, ScrubOptions{ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tot := ro.Totals()
	// A read-only scrub counts what it could correct as corrected (the
	// kernel's wording; btrfs's own read-only scrub says the same below)
	// but writes nothing: the repairing scrub after it finds the damage
	// again.
	if tot.CsumErrors == 0 || tot.UncorrectableErrors != 0 {
		t.Errorf("read-only scrub of a damaged copy: %+v", tot)
	}
	mismatches += compareScrub(t, "damaged", ro, parseScrubR(t, btrfsOut(t, "scrub", "start", "-B", "-R", "-d", "-r", tf.mnt)))
	rw, err := f.Scrub(ctx, ScrubOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot := rw.Totals(); tot.CsumErrors == 0 || tot.CorrectedErrors == 0 || tot.UncorrectableErrors != 0 {
		t.Errorf("repairing scrub: %+v", tot)
	}
	after, err := f.Scrub(ctx, ScrubOptions{ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.Totals().Errors(); n != 0 {
		t.Errorf("%d errors after the repair: %+v", n, after.Totals())
	}
	t.Logf("scrub: %d mismatches against btrfs scrub -R (clean, status, damaged); damaged: %d csum errors, repaired %d",
		mismatches, tot.CsumErrors, rw.Totals().CorrectedErrors)
}

// TestScrubSingleUncorrectable: on one device with single data a damaged
// block is counted and uncorrectable.
func TestScrubSingleUncorrectable(t *testing.T) {
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	body := pattern(256 << 10)
	if err := os.WriteFile(filepath.Join(tf.mnt, "f"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	corruptCopy(t, tf.imgs[0], body)
	st, err := f.Scrub(ctx, ScrubOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot := st.Totals(); tot.CsumErrors == 0 || tot.UncorrectableErrors == 0 {
		t.Errorf("single-copy damage: %+v", tot)
	}
}

// TestScrubCancelResume cancels a scrub through its context, checks the
// kernel's scrub is gone, and resumes it from last_physical.
func TestScrubCancelResume(t *testing.T) {
	tf := newTestFS(t, 1, 1<<30)
	ctx, f := ctxT(t), tf.fs
	big := make([]byte, 64<<20)
	rand.New(rand.NewSource(1)).Read(big)
	for i := 0; i < 8; i++ {
		if err := os.WriteFile(filepath.Join(tf.mnt, "f"+strconv.Itoa(i)), big, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// A second scrub while one runs is ErrScrubRunning.
	second := make(chan error, 1)
	cctx, cancel := context.WithCancel(ctx)
	st, err := f.Scrub(cctx, ScrubOptions{ReadOnly: true, Interval: time.Millisecond}, func(s ScrubStatus) {
		if s.Done() > 0 {
			select {
			case second <- func() error { _, err := f.Scrub(ctx, ScrubOptions{ReadOnly: true}, nil); return err }():
			default:
			}
			cancel()
		}
	})
	cancel()
	select {
	case err := <-second:
		if !errors.Is(err, ErrScrubRunning) {
			t.Errorf("a scrub during a scrub: %v", err)
		}
	default:
	}
	if errors.Is(err, nil) && !st.Canceled() {
		t.Skip("the scrub finished before the cancel landed")
	}
	if !errors.Is(err, context.Canceled) || !st.Canceled() {
		t.Fatalf("cancelled scrub: %v %+v", err, st)
	}
	if _, err := f.ScrubProgress(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("progress after cancel: %v", err)
	}
	if err := f.CancelScrub(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("cancel with none running: %v", err)
	}
	res := st.Resume()
	if len(res) != 1 || res[1] == 0 {
		t.Fatalf("resume offsets %v", res)
	}
	st2, err := f.Scrub(ctx, ScrubOptions{ReadOnly: true, Start: res}, nil)
	if err != nil || !st2.Devices[0].Finished || st2.Devices[0].Start != res[1] {
		t.Fatalf("resumed scrub: %v %+v", err, st2)
	}
	full, err := f.Scrub(ctx, ScrubOptions{ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The two halves scrub about what one run does (a chunk at the cut is
	// read by both).
	parts := st.Totals().DataBytesScrubbed + st2.Totals().DataBytesScrubbed
	if parts < full.Totals().DataBytesScrubbed {
		t.Errorf("cancelled %d + resumed %d < full %d data bytes", st.Totals().DataBytesScrubbed, st2.Totals().DataBytesScrubbed, full.Totals().DataBytesScrubbed)
	}
	t.Logf("cancelled at %d, resumed: %d + %d data bytes, a full run %d", res[1],
		st.Totals().DataBytesScrubbed, st2.Totals().DataBytesScrubbed, full.Totals().DataBytesScrubbed)
}
