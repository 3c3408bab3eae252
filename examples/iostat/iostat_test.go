package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"-dxy", "-o", "JSON", "2", "5", "sda", "/dev/sdb"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.disk || c.cpu || !c.extended || !c.omitBoot || !c.json || c.interval != 2*time.Second || c.count != 5 ||
		len(c.devices) != 2 || c.devices[1] != "sdb" || !c.unfiltered {
		t.Fatalf("%+v", c)
	}
	c, _ = parseArgs([]string{"-p", "1"})
	if !c.partsAll || c.interval != time.Second || c.count != -1 || !c.cpu {
		t.Fatalf("-p 1: %+v", c)
	}
	c, _ = parseArgs([]string{"-p", "sda,sdb", "-x"})
	if c.partsAll || len(c.partsOf) != 2 || c.count != 1 {
		t.Fatalf("-p list: %+v", c)
	}
	for _, bad := range [][]string{{"-q"}, {"-o", "XML"}, {"1", "0"}, {"1", "2", "3"}, {"-km"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// A fake tree: the since-boot report over a 100 s uptime, worked by hand.
func TestFakeTreeSinceBoot(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proc"), 0o755)
	os.WriteFile(filepath.Join(dir, "proc", "diskstats"), []byte(
		"   8 0 sda 1000 10 20000 500 3000 30 60000 1500 0 2000 2500 0 0 0 0 0 0\n"+
			"   8 16 sdb 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "proc", "uptime"), []byte("100.00 180.00\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "proc", "stat"), []byte("cpu  60 0 20 100 20 0 0 0 0 0\n"), 0o644)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--root", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(out.String(), "\n")
	// avg-cpu: 60/200 user, 20/200 system, 20/200 iowait, 100/200 idle.
	if got := strings.Fields(lines[3]); strings.Join(got, " ") != "30.00 0.00 10.00 10.00 0.00 50.00" {
		t.Fatalf("cpu %q", lines[3])
	}
	// sda: tps 40, 100 kB/s read, 300 kB/s written, totals 10000 and 30000 kB;
	// sdb never did I/O and is not shown, as iostat does.
	want := "sda              40.00       100.00       300.00         0.00      10000      30000          0"
	if lines[6] != want || strings.Contains(out.String(), "sdb") {
		t.Fatalf("got\n%s\nwant line %q", out.String(), want)
	}
	out.Reset()
	if code := run(context.Background(), []string{"--root", dir, "-x", "-o", "JSON", "sdb"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var doc sysstatDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out.String())
	}
	disks := doc.Sysstat.Hosts[0].Statistics[0].Disk
	if len(disks) != 1 || disks[0]["disk_device"] != "sdb" {
		t.Fatalf("explicit device: %+v", disks)
	}
}

type sysstatDoc struct {
	Sysstat struct {
		Hosts []struct {
			Nodename   string `json:"nodename"`
			Statistics []struct {
				Disk []map[string]any `json:"disk"`
			} `json:"statistics"`
		} `json:"hosts"`
	} `json:"sysstat"`
}

// jsonKeys returns the keys of the first disk object in document order.
func jsonKeys(t *testing.T, out []byte) []string {
	t.Helper()
	i := bytes.Index(out, []byte(`{"disk_device"`))
	if i < 0 {
		t.Fatalf("no disk object in\n%s", out)
	}
	dec := json.NewDecoder(bytes.NewReader(out[i:]))
	var keys []string
	dec.Token()
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v any
		dec.Decode(&v)
	}
	return keys
}

// Our headers and JSON keys are sysstat's, byte for byte.
func TestFormatMatchesSysstat(t *testing.T) {
	testenv.RequireTool(t, "iostat")
	for _, args := range [][]string{{"-d", "-x", "vda"}, {"-d", "vda"}, {"-c"}, {"-x", "-o", "JSON", "-p", "ALL"}, {"-o", "JSON", "-p", "ALL"}} {
		theirs := testenv.Run(t, "iostat", args...)
		var ours, errb bytes.Buffer
		if code := run(context.Background(), args, &ours, &errb); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errb.String())
		}
		if contains(args, "JSON") {
			var a, b sysstatDoc
			if err := json.Unmarshal(ours.Bytes(), &a); err != nil {
				t.Fatalf("%v: our JSON: %v\n%s", args, err, ours.String())
			}
			if err := json.Unmarshal(theirs, &b); err != nil {
				t.Fatal(err)
			}
			if k1, k2 := strings.Join(jsonKeys(t, ours.Bytes()), " "), strings.Join(jsonKeys(t, theirs), " "); k1 != k2 {
				t.Errorf("%v: keys\n ours   %s\n theirs %s", args, k1, k2)
			}
			if a.Sysstat.Hosts[0].Nodename != b.Sysstat.Hosts[0].Nodename {
				t.Errorf("nodename %q vs %q", a.Sysstat.Hosts[0].Nodename, b.Sysstat.Hosts[0].Nodename)
			}
			continue
		}
		ol, tl := strings.Split(ours.String(), "\n"), strings.Split(string(theirs), "\n")
		if len(ol) != len(tl) {
			t.Errorf("%v: %d lines, sysstat %d\n%s\n---\n%s", args, len(ol), len(tl), ours.String(), theirs)
			continue
		}
		for i := range ol {
			// Header and column layout must be identical; the numbers move.
			if strings.HasPrefix(tl[i], "Device") || strings.HasPrefix(tl[i], "avg-cpu") || strings.HasPrefix(tl[i], "Linux") || tl[i] == "" {
				if ol[i] != tl[i] {
					t.Errorf("%v line %d:\n ours   %q\n theirs %q", args, i, ol[i], tl[i])
				}
			} else if len(ol[i]) != len(tl[i]) && len(strings.Fields(ol[i])) != len(strings.Fields(tl[i])) {
				t.Errorf("%v line %d columns:\n ours   %q\n theirs %q", args, i, ol[i], tl[i])
			}
		}
	}
}

// The differential test: a steady rate-limited fio load on a loop device,
// our iostat and sysstat's run side by side with `-x -y -o JSON 1 N`.
func TestDifferentialFio(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "iostat", "fio")
	dev := testenv.Loop(t, 64<<20)
	name := filepath.Base(dev)
	const intervals = 5
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fioPath, _ := testenv.LookTool("fio")
	fio := exec.CommandContext(ctx, fioPath, "--name=diff", "--filename="+dev, "--direct=1", "--rw=randrw",
		"--rwmixread=50", "--bs=4k", "--ioengine=psync", "--rate_iops=100,100", "--time_based",
		fmt.Sprintf("--runtime=%d", intervals+5), "--output=/dev/null", "--thread")
	fio.Env = append(os.Environ(), "LC_ALL=C")
	if err := fio.Start(); err != nil {
		t.Fatal(err)
	}
	fioDone := make(chan error, 1)
	go func() { fioDone <- fio.Wait() }()
	t.Cleanup(func() {
		fio.Process.Kill()
		<-fioDone
	})
	time.Sleep(1500 * time.Millisecond) // let fio reach its rate

	args := []string{"-x", "-y", "-o", "JSON", "1", fmt.Sprint(intervals), name}
	// Start sysstat first and start ours the moment sysstat has taken its
	// first sample, so both measure the same intervals to within a few
	// milliseconds. Its output does not show that moment (with -y nothing
	// is printed until the first report), but its state does: after each
	// sample iostat blocks in pause(2) until the next alarm, and
	// /proc/PID/syscall names the system call a task is blocked in.
	iostatPath, _ := testenv.LookTool("iostat")
	cmd := exec.CommandContext(ctx, iostatPath, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var theirs []byte
	waitPaused(t, cmd.Process.Pid)
	var wg sync.WaitGroup
	var theirErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		rest, err := io.ReadAll(pipe)
		theirs = append(theirs, rest...)
		if err == nil {
			err = cmd.Wait()
		}
		theirErr = err
	}()
	var ours, errb bytes.Buffer
	code := run(ctx, args, &ours, &errb)
	wg.Wait()
	if code != 0 || theirErr != nil {
		t.Fatalf("ours exit %d %s; sysstat %v", code, errb.String(), theirErr)
	}
	a, b := perInterval(t, ours.Bytes(), name), perInterval(t, theirs, name)
	if len(a) != intervals || len(b) != intervals {
		t.Fatalf("intervals: ours %d sysstat %d", len(a), len(b))
	}
	// Compare the mean over the run. The two processes' intervals are
	// offset by a few ms (the poll that sees sysstat blocked in pause(2)
	// and the start of ours), and sysstat measures intervals with
	// /proc/uptime's 10 ms clock where we use the monotonic one; both
	// effects stay well under 1% of a steady load over 1 s intervals, and
	// measured runs agree within 0.3%. Rates: 3%. Await and aqu-sz are
	// tenths of a millisecond on a loop device, printed by both tools to
	// 0.01, so they get 5% or three rounding units (0.03); %util 5% or one
	// point.
	tol := map[string][2]float64{ // relative, absolute
		"r/s": {0.03, 1}, "w/s": {0.03, 1}, "rkB/s": {0.03, 4}, "wkB/s": {0.03, 4},
		"r_await": {0.05, 0.03}, "w_await": {0.05, 0.03}, "aqu-sz": {0.05, 0.03}, "util": {0.05, 1.0},
	}
	for i := range a {
		t.Logf("interval %d: r/s ours %v sysstat %v, w_await ours %v sysstat %v", i, a[i]["r/s"], b[i]["r/s"], a[i]["w_await"], b[i]["w_await"])
	}
	for k, tl := range tol {
		ma, mb := mean(a, k), mean(b, k)
		diff := math.Abs(ma - mb)
		t.Logf("%-8s ours %9.3f sysstat %9.3f", k, ma, mb)
		if diff > tl[1] && diff > tl[0]*math.Abs(mb) {
			t.Errorf("%s: ours %.3f, sysstat %.3f", k, ma, mb)
		}
	}
	// fio asks for 50 reads a second; on a machine loaded by other work
	// it gets fewer, which is still load (the comparison above is what
	// the test is for). Only almost none means fio never reached it.
	if mean(b, "r/s") < 10 {
		t.Errorf("fio load did not reach the device: sysstat r/s %.1f", mean(b, "r/s"))
	}
}

// waitPaused waits until pid is blocked in pause(2) (x86-64 system call 34).
func waitPaused(t *testing.T, pid int) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		time.Sleep(100 * time.Millisecond) // no pause(2) elsewhere: approximate
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
		if err != nil {
			t.Fatalf("sysstat iostat exited early: %v", err)
		}
		if f := strings.Fields(string(b)); len(f) > 0 && f[0] == "34" {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("sysstat iostat never reached pause(2)")
}

func perInterval(t *testing.T, out []byte, dev string) []map[string]any {
	t.Helper()
	var doc sysstatDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	var res []map[string]any
	for _, st := range doc.Sysstat.Hosts[0].Statistics {
		for _, d := range st.Disk {
			if d["disk_device"] == dev {
				res = append(res, d)
			}
		}
	}
	return res
}

func mean(rows []map[string]any, k string) float64 {
	s := 0.0
	for _, r := range rows {
		v, _ := r[k].(float64)
		s += v
	}
	return s / float64(len(rows))
}
