package lvm

// The thin-pool fill test of the VM tier (device-mapper runs only in the
// guest). internal/vmtest's TestGuestThinPoolFill boots one guest with a
// 1 GiB disk, copies in lvm, thin_check and fio, and runs this package's
// test binary there with EOS_STORAGE_LVM_POLICY_GUEST naming the disk:
//
//  1. Policy on: a thin pool of 64 MiB data with a 512 MiB thin LV, in
//     error-when-full mode so that an extension that comes late shows as
//     write errors instead of queued writes. fio writes 256 MiB into the
//     thin LV (direct I/O, 8 MiB/s, then reads it back with checksums)
//     while the policy samples the pool by dm ioctl every 200 ms and
//     extends it with lvextend: fio must see 0 errors and 0 verify
//     failures, the use must stay under 100%, and after deactivation lvm's
//     activation must pass thin_check.
//  2. Policy off (watch only, no grower), a second pool of the same shape:
//     the failure lvmthin(7) describes ("Data space exhaustion": Data% 100,
//     writes fail with errorwhenfull y) is reproduced: fio sees errors,
//     lvs shows 100.00, and the watcher raises the out-of-data-space and
//     data-critical alerts.
//  3. Policy on with the VG exhausted (a filler LV takes its free space), a
//     third pool in lvm's default queue mode: the policy cannot extend it,
//     switches it to error-when-full and raises the critical cannot-grow
//     alert, so fio gets ENOSPC at 64 MiB at once instead of writes
//     queued for 60 s.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

const policyGuestEnv = "EOS_STORAGE_LVM_POLICY_GUEST"

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func guestLVM(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("lvm", args...)
	cmd.Env = append(os.Environ(), "LVM_SUPPRESS_FD_WARNINGS=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lvm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

type fioResult struct {
	Error, TotalErr int
	WrittenBytes    int64
	Elapsed         time.Duration
	Raw             string
}

// runFio writes size bytes into dev with direct I/O, going on after errors
// (continue_on_error=all), and reads fio's JSON counters.
func runFio(ctx context.Context, dev string, size string, extra ...string) (fioResult, error) {
	args := append([]string{"--name=fill", "--filename=" + dev, "--rw=write", "--bs=1M", "--size=" + size,
		"--direct=1", "--ioengine=psync", "--continue_on_error=all", "--output-format=json"}, extra...)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "fio", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	res := fioResult{Elapsed: time.Since(start), Raw: strings.TrimSpace(stderr.String())}
	var j struct {
		Jobs []struct {
			Error    int `json:"error"`
			TotalErr int `json:"total_err"`
			Write    struct {
				IOBytes int64 `json:"io_bytes"`
			} `json:"write"`
		} `json:"jobs"`
	}
	// fio prints its own messages before the JSON when I/O fails.
	if i := strings.IndexByte(string(out), '{'); i >= 0 {
		out = out[i:]
	}
	if jerr := json.Unmarshal(out, &j); jerr != nil || len(j.Jobs) != 1 {
		return res, fmt.Errorf("fio %v: %v %v\nstdout: %.2000s\nstderr: %.2000s", args, err, jerr, out, stderr.String())
	}
	res.Error, res.TotalErr, res.WrittenBytes = j.Jobs[0].Error, j.Jobs[0].TotalErr, j.Jobs[0].Write.IOBytes
	return res, nil
}

func TestThinPoolPolicyFill(t *testing.T) {
	disk := os.Getenv(policyGuestEnv)
	_, ctlErr := os.Stat("/dev/mapper/control")
	if disk == "" {
		t.Skipf("runs in the VM tier's guest (internal/vmtest TestGuestThinPoolFill sets %s); here: /dev/mapper/control: %v", policyGuestEnv, ctlErr)
	}
	if ctlErr != nil {
		t.Fatalf("in the guest without device-mapper: %v", ctlErr)
	}
	ctx := context.Background()
	const vg = "vgpol"
	guestLVM(t, "pvcreate", "-q", "-y", disk)
	guestLVM(t, "vgcreate", "-q", vg, disk)
	t.Cleanup(func() {
		cmd := exec.Command("lvm", "vgremove", "-q", "-ff", "-y", vg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("cleanup vgremove: %v %s", err, out)
		}
	})
	for _, p := range []string{"on", "off", "x"} {
		whenFull := "y"
		if p == "x" {
			whenFull = "n" // lvm's default, queueing: the policy is to switch it
		}
		guestLVM(t, "lvcreate", "-q", "-y", "--monitor", "n", "--errorwhenfull", whenFull, "-L", "64M", "-T", vg+"/pool"+p)
		guestLVM(t, "lvcreate", "-q", "-y", "--monitor", "n", "-V", "512M", "-T", vg+"/pool"+p, "-n", "thin"+p)
	}
	t.Logf("layout:\n%s", guestLVM(t, "lvs", "-a", "-o", "lv_name,lv_size,data_percent,metadata_percent,lv_when_full,pool_lv", vg))
	t.Logf("vg: %s", guestLVM(t, "vgs", "--units", "m", "-o", "vg_size,vg_free,vg_extent_size", vg))

	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	tool, err := NewTool(x, WithDevices(disk))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := NewReportSource(tool)
	if err != nil {
		t.Fatal(err)
	}
	dm, err := OpenDMSource()
	if err != nil {
		t.Fatal(err)
	}
	defer dm.Close()
	grower, err := NewToolGrower(tool)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// 1. Policy on.
	var mu sync.Mutex
	var alerts []perf.AlertEvent
	onAlert := func(e perf.AlertEvent) { mu.Lock(); alerts = append(alerts, e); mu.Unlock() }
	p1, err := NewPolicy(dm, rs, WithGrower(grower), WithPolicyInterval(200*time.Millisecond),
		WithLookahead(8*time.Second), WithHistory(10), WithPolicyLogger(logger), WithAlertHandler(onAlert))
	if err != nil {
		t.Fatal(err)
	}
	if err := p1.Watch(ctx, vg, "poolon"); err != nil {
		t.Fatal(err)
	}
	if err := p1.Check(ctx); err != nil {
		t.Fatal(err)
	}
	var re *AdmitError
	if err := p1.Admit(ctx, vg, "poolon", 1<<20); !errors.As(err, &re) || re.Code != RefusedOverProvisioned {
		t.Fatalf("Admit on an 8x over-provisioned pool: %v", err)
	} else {
		t.Logf("Admit: %v", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p1.Run(rctx) }()
	fioDone := make(chan fioResult, 1)
	fioErr := make(chan error, 1)
	go func() {
		r, err := runFio(ctx, "/dev/"+vg+"/thinon", "256M", "--rate=,8m", "--verify=crc32c", "--do_verify=1")
		fioErr <- err
		fioDone <- r
	}()
	maxPct := 0.0
	var on fioResult
	tick := time.NewTicker(100 * time.Millisecond)
	lastLog := time.Time{}
	var predictions []string
wait:
	for {
		select {
		case on = <-fioDone:
			break wait
		case <-tick.C:
			// The use by ioctl, apart from the policy's own samples.
			if u, err := dm.PoolUsage(ctx, vg, "poolon"); err == nil {
				maxPct = max(maxPct, u.DataPercent())
			}
			st, _ := p1.Status(vg, "poolon")
			if time.Since(lastLog) >= time.Second && st.Samples > 1 {
				lastLog = time.Now()
				s := fmt.Sprintf("data %.1f%% of %d MiB, fitted %.1f MiB/s, to 80%% %v, to full %v, extends %d",
					st.Usage.DataPercent(), st.Usage.DataTotal>>20, st.DataRate/(1<<20), short(st.DataTimeToThreshold), short(st.DataTimeToFull), st.DataExtends)
				predictions = append(predictions, s)
				t.Log("policy on: " + s)
			}
		}
	}
	tick.Stop()
	cancel()
	<-done
	if err := <-fioErr; err != nil {
		t.Fatal(err)
	}
	st1, _ := p1.Status(vg, "poolon")
	t.Logf("POLICY ON: fio error=%d total_err=%d wrote %d MiB in %v; %d data extensions (%d metadata), pool %d MiB, max use %.1f%%",
		on.Error, on.TotalErr, on.WrittenBytes>>20, on.Elapsed.Round(time.Millisecond), st1.DataExtends, st1.MetaExtends, st1.Layout.DataBytes>>20, maxPct)
	for _, x := range st1.Extensions {
		t.Logf("extension: %s %d -> %d MiB in %v: %s", x.Space, x.From>>20, x.To>>20, x.Took.Round(time.Millisecond), x.Reason)
	}
	if on.Error != 0 || on.TotalErr != 0 {
		t.Errorf("with the policy on fio saw errors: %+v", on)
	}
	if on.WrittenBytes != 256<<20 {
		t.Errorf("fio wrote %d bytes, want 256 MiB", on.WrittenBytes)
	}
	if st1.DataExtends == 0 || maxPct >= 100 {
		t.Errorf("extends %d, max use %.1f%%", st1.DataExtends, maxPct)
	}
	// The two sources on the same pool: the ioctl's block counts and lvs's
	// two-decimal percentages agree to 0.01%, and on the sizes.
	du, err := dm.PoolUsage(ctx, vg, "poolon")
	if err != nil {
		t.Fatal(err)
	}
	ru, err := rs.PoolUsage(ctx, vg, "poolon")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sources: dm data %.4f%% meta %.4f%% of %d/%d bytes; lvs data %.2f%% meta %.2f%% of %d/%d bytes",
		du.DataPercent(), du.MetaPercent(), du.DataTotal, du.MetaTotal, ru.DataPercent(), ru.MetaPercent(), ru.DataTotal, ru.MetaTotal)
	if d := du.DataPercent() - ru.DataPercent(); d > 0.006 || d < -0.006 || du.DataTotal != ru.DataTotal || du.MetaTotal != ru.MetaTotal {
		t.Errorf("DMSource and ReportSource disagree: %+v vs %+v", du, ru)
	}
	if d := du.MetaPercent() - ru.MetaPercent(); d > 0.006 || d < -0.006 {
		t.Errorf("metadata: DMSource %.4f%%, ReportSource %.4f%%", du.MetaPercent(), ru.MetaPercent())
	}
	// lvm runs thin_check on activation: the grown pool's metadata is sound.
	guestLVM(t, "lvchange", "-q", "-an", vg+"/thinon")
	guestLVM(t, "lvchange", "-q", "-an", vg+"/poolon")
	guestLVM(t, "lvchange", "-q", "-ay", vg+"/thinon")
	t.Logf("after reactivation (thin_check passed): %s", guestLVM(t, "lvs", "--noheadings", "-o", "lv_name,lv_size,data_percent,metadata_percent", vg+"/poolon"))

	// 2. Policy off: watch only.
	mu.Lock()
	alerts = nil
	mu.Unlock()
	p2, err := NewPolicy(dm, rs, WithPolicyInterval(200*time.Millisecond), WithPolicyLogger(logger), WithAlertHandler(onAlert))
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Watch(ctx, vg, "pooloff"); err != nil {
		t.Fatal(err)
	}
	rctx, cancel = context.WithCancel(ctx)
	go func() { done <- p2.Run(rctx) }()
	off, err := runFio(ctx, "/dev/"+vg+"/thinoff", "256M")
	if err != nil {
		cancel()
		<-done
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a few more samples
	cancel()
	<-done
	st2, _ := p2.Status(vg, "pooloff")
	lvs := guestLVM(t, "lvs", "--noheadings", "-o", "data_percent", vg+"/pooloff")
	t.Logf("POLICY OFF: fio error=%d total_err=%d wrote %d MiB in %v; pool data %.2f%% (lvs %s), mode %q; fio: %.300s",
		off.Error, off.TotalErr, off.WrittenBytes>>20, off.Elapsed.Round(time.Millisecond), st2.Usage.DataPercent(), lvs, st2.Usage.Mode, off.Raw)
	mu.Lock()
	fired := map[string]bool{}
	for _, e := range alerts {
		t.Logf("alert: %s %s %s %s value %.2f %s", e.Rule, e.Device, e.Severity, e.State, e.Value, e.Reason)
		if e.State == perf.Firing {
			fired[e.Rule] = true
		}
	}
	mu.Unlock()
	if off.Error == 0 && off.TotalErr == 0 {
		t.Errorf("with the policy off fio saw no errors: %+v", off)
	}
	if lvs != "100.00" || st2.Usage.Mode != "out_of_data_space" {
		t.Errorf("pool not full: lvs %q mode %q", lvs, st2.Usage.Mode)
	}
	for _, r := range []string{AlertOutOfDataSpace, "thinpool-data-critical", "thinpool-data-high"} {
		if !fired[r] {
			t.Errorf("alert %s not raised", r)
		}
	}

	// 3. Policy on, VG exhausted: a filler LV takes the VG's free space,
	// so the policy cannot extend poolx (queue mode) and must switch it to
	// error-when-full before it fills: fio then gets ENOSPC at once at
	// 64 MiB instead of writes queued for 60 s, and the critical
	// cannot-grow alert fires.
	guestLVM(t, "lvcreate", "-q", "-y", "-l", "100%FREE", "-n", "filler", vg)
	mu.Lock()
	alerts = nil
	mu.Unlock()
	p3, err := NewPolicy(dm, rs, WithGrower(grower), WithPolicyInterval(200*time.Millisecond),
		WithLookahead(8*time.Second), WithHistory(10), WithPolicyLogger(logger), WithAlertHandler(onAlert))
	if err != nil {
		t.Fatal(err)
	}
	if err := p3.Watch(ctx, vg, "poolx"); err != nil {
		t.Fatal(err)
	}
	rctx, cancel = context.WithCancel(ctx)
	go func() { done <- p3.Run(rctx) }()
	fctx, fcancel := context.WithTimeout(ctx, 50*time.Second)
	ex, err := runFio(fctx, "/dev/"+vg+"/thinx", "256M", "--rate=,8m")
	fcancel()
	time.Sleep(500 * time.Millisecond)
	cancel()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	st3, _ := p3.Status(vg, "poolx")
	whenFull := guestLVM(t, "lvs", "--noheadings", "-o", "lv_when_full", vg+"/poolx")
	t.Logf("EXHAUSTED: fio error=%d total_err=%d wrote %d MiB in %v; lv_when_full %s, switched %v, cannot grow %v, extends %d",
		ex.Error, ex.TotalErr, ex.WrittenBytes>>20, ex.Elapsed.Round(time.Millisecond), whenFull, st3.SwitchedErrorWhenFull, st3.CannotGrow, st3.DataExtends)
	mu.Lock()
	var cannot *perf.AlertEvent
	for i, e := range alerts {
		t.Logf("alert: %s %s %s %s value %.2f %s", e.Rule, e.Device, e.Severity, e.State, e.Value, e.Reason)
		if e.Rule == AlertCannotGrow && e.State == perf.Firing {
			cannot = &alerts[i]
		}
	}
	mu.Unlock()
	if whenFull != "error" || !st3.SwitchedErrorWhenFull || cannot == nil || cannot.Severity != perf.SeverityCritical {
		t.Errorf("the exhausted pool was not switched to error-when-full with a critical alert")
	}
	if ex.Error == 0 && ex.TotalErr == 0 || ex.Elapsed > 30*time.Second {
		t.Errorf("fio on the exhausted pool: %+v (want ENOSPC at 64 MiB, not a 60 s queue)", ex)
	}
	t.Logf("summary: on errors %d extends %d max %.1f%%; off errors %d; exhausted errors %d after %v; predictions %d",
		on.TotalErr, st1.DataExtends, maxPct, off.TotalErr, ex.TotalErr, ex.Elapsed.Round(time.Millisecond), len(predictions))
}

func short(d time.Duration) string {
	if d == NeverFull {
		return "never"
	}
	return d.Round(100 * time.Millisecond).String()
}
