package btrfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

var balanceStatusRe = regexp.MustCompile(`(\d+) out of about (\d+) chunks balanced \((\d+) considered\)`)

// parseBalanceStatus reads `btrfs balance status`: "Balance on 'M' is
// running|paused ..." and "C out of about E chunks balanced (N considered)".
func parseBalanceStatus(t *testing.T, out string) (state string, completed, expected, considered uint64) {
	t.Helper()
	if strings.Contains(out, "No balance found") {
		return "none", 0, 0, 0
	}
	if i := strings.Index(out, "' is "); i >= 0 {
		state = strings.Fields(out[i+5:])[0]
	}
	m := balanceStatusRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("btrfs balance status: %q", out)
	}
	c, _ := strconv.ParseUint(m[1], 10, 64)
	e, _ := strconv.ParseUint(m[2], 10, 64)
	n, _ := strconv.ParseUint(m[3], 10, 64)
	return state, c, e, n
}

func fill(t *testing.T, dir string, files int, size int) {
	t.Helper()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	for i := 0; i < files; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("fill%d", i)), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startPaused starts a full data balance and pauses it as soon as the
// kernel has it; false when it finished first.
func startPaused(t *testing.T, ctx context.Context, f *FS) (chan error, bool) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		_, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{}, Interval: time.Millisecond}, nil)
		errc <- err
	}()
	for i := 0; i < 5000; i++ {
		err := f.PauseBalance(ctx)
		if err == nil {
			return errc, true
		}
		if !errors.Is(err, ErrNotRunning) {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			errc <- err
			return errc, false
		default:
		}
		time.Sleep(100 * time.Microsecond)
	}
	return errc, false
}

// TestBalancePauseResumeDifferential pauses a data balance, compares its
// counts with `btrfs balance status`, resumes it to the end; then cancels
// one through its context.
func TestBalancePauseResumeDifferential(t *testing.T) {
	tf := newTestFS(t, 1, 1<<30)
	ctx, f := ctxT(t), tf.fs
	fill(t, tf.mnt, 12, 40<<20)
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.BalanceProgress(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("progress with no balance: %v", err)
	}
	errc, paused := startPaused(t, ctx, f)
	if !paused {
		testSkipOrFail(t, "the balance finished before it could be paused: %v", <-errc)
		return
	}
	if err := <-errc; !errors.Is(err, ErrBalancePaused) {
		t.Fatalf("paused balance returned %v", err)
	}
	st, err := f.BalanceProgress(ctx)
	if err != nil || !st.Paused || st.Running {
		t.Fatalf("paused: %+v %v", st, err)
	}
	// btrfs balance status exits 1 while a balance is running or paused.
	out, _ := testenv.RunErr("btrfs", "balance", "status", tf.mnt)
	state, c, e, n := parseBalanceStatus(t, string(out))
	mismatches := 0
	if state != "paused" || c != st.Completed || e != st.Expected || n != st.Considered {
		mismatches++
		t.Errorf("paused: ioctl %+v, btrfs balance status %s %d/%d (%d considered)", st, state, c, e, n)
	}
	if st.Expected == 0 || st.Completed >= st.Expected {
		t.Errorf("paused balance counts %+v", st)
	}
	var last BalanceStatus
	final, err := f.ResumeBalance(ctx, time.Millisecond, func(s BalanceStatus) { last = s })
	if err != nil {
		t.Fatal(err)
	}
	if final.Completed < st.Completed || final.Considered < final.Completed || last != final {
		t.Errorf("resumed: from %+v to %+v (last progress %+v)", st, final, last)
	}
	if state, _, _, _ := parseBalanceStatus(t, btrfsOut(t, "balance", "status", tf.mnt)); state != "none" {
		t.Errorf("btrfs balance status after the end: %s", state)
	}
	t.Logf("balance: paused at %d/%d (%d considered), resumed to %d/%d; %d mismatches against btrfs balance status",
		st.Completed, st.Expected, st.Considered, final.Completed, final.Expected, mismatches)

	// Cancelled by its context: the kernel's balance is gone.
	cctx, cancel := context.WithCancel(ctx)
	_, err = f.Balance(cctx, BalanceOptions{Data: &BalanceFilter{}, Interval: time.Millisecond}, func(s BalanceStatus) {
		if s.Running {
			cancel()
		}
	})
	cancel()
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled balance: %v", err)
	}
	if _, err := f.BalanceProgress(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("progress after cancel: %v", err)
	}
	if err := f.CancelBalance(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("cancel with none: %v", err)
	}
	// Filters the kernel accepts.
	zero := 0
	if _, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{Usage: &zero}, Metadata: &BalanceFilter{Usage: &zero}}, nil); err != nil {
		t.Errorf("usage=0 balance: %v", err)
	}
	if _, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{Devid: 1, Usage: &zero}}, nil); err != nil {
		t.Errorf("devid=1 balance: %v", err)
	}
	bad := 101
	if _, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{Usage: &bad}}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("usage=101: %v", err)
	}
	if _, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{Convert: "raid7"}}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("raid7: %v", err)
	}
}

func testSkipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Skipf(format, args...) // timing, not an environment limit: never strict
}

// parseDeviceUsage reads `btrfs device usage -b`: per device "Type,PROFILE:
// bytes" lines.
func parseDeviceUsage(out string) map[string]int64 {
	m := map[string]int64{}
	dev := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, ", ID: ") {
			dev = strings.TrimSpace(strings.Split(line, ", ID: ")[1])
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.Contains(k, ",") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err == nil {
			m[dev+" "+strings.ToLower(k)] = n
		}
	}
	return m
}

// TestDevicesConvertResize adds a device, converts data and metadata to
// raid1 by balance, compares per-device usage with `btrfs device usage
// -b`, checks the refusals of remove, resizes per device and all, then
// converts back and removes the device.
func TestDevicesConvertResize(t *testing.T) {
	tf := newTestFS(t, 1, 512<<20)
	ctx, f := ctxT(t), tf.fs
	spare := spareLoop(t, 768<<20)
	if err := f.RemoveDevice(ctx, 1); !errors.Is(err, ErrRefused) {
		t.Errorf("remove the only device: %v", err)
	}
	if err := f.AddDevice(ctx, spare); err != nil {
		t.Fatal(err)
	}
	fill(t, tf.mnt, 3, 20<<20)
	if _, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{Convert: "raid1"}, Metadata: &BalanceFilter{Convert: "raid1"}}, nil); err != nil {
		t.Fatal(err)
	}
	devs, err := f.DeviceUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	theirs := parseDeviceUsage(btrfsOut(t, "device", "usage", "-b", tf.mnt))
	mismatches := 0
	for _, d := range devs {
		for _, a := range d.Usage {
			k := fmt.Sprintf("%d %s,%s", d.Devid, a.Type, a.Profile)
			if theirs[k] != a.Bytes {
				mismatches++
				t.Errorf("%s: ioctl %d, btrfs device usage %d", k, a.Bytes, theirs[k])
			}
			if a.Profile != "raid1" {
				t.Errorf("device %d: %s still %s after the convert", d.Devid, a.Type, a.Profile)
			}
		}
	}
	t.Logf("device usage: %d devices, %d mismatches against btrfs device usage -b", len(devs), mismatches)
	var re *RefusedError
	if err := f.RemoveDevice(ctx, 2); !errors.As(err, &re) || re.Code != "raid_min_devices" {
		t.Errorf("remove from a 2-device raid1: %v", err)
	}
	if err := f.Resize(ctx, 2, 600<<20); err != nil {
		t.Fatal(err)
	}
	if devs, _ := f.Devices(ctx); devs[1].Size != 600<<20 {
		t.Errorf("device 2 is %d bytes after resize to 600 MiB", devs[1].Size)
	}
	if err := f.ResizeAll(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if devs, _ := f.Devices(ctx); devs[0].Size != 512<<20 || devs[1].Size != 768<<20 {
		t.Errorf("after resize all max: %+v", devs)
	}
	if _, err := f.Balance(ctx, BalanceOptions{Data: &BalanceFilter{Convert: "single"}, Metadata: &BalanceFilter{Convert: "dup"}, Force: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.RemoveDevice(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if devs, _ := f.Devices(ctx); len(devs) != 1 {
		t.Errorf("%d devices after remove", len(devs))
	}
}
