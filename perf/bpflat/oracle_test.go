package bpflat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// fio runs fio with args (plus --output-format=json, and --thread: its jobs
// are threads, so killing fio on a deadline kills them too) and returns its
// report. Runs are bounded by --runtime in args and by a deadline here.
func fio(t testing.TB, args ...string) *fioReport {
	t.Helper()
	return fioWith(t, nil, args...)
}

// fioWith runs fio under a wrapper command (such as chrt).
func fioWith(t testing.TB, wrapper []string, args ...string) *fioReport {
	t.Helper()
	path := testenv.RequireTool(t, "fio")[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append(append(append([]string{}, wrapper...), path), append(args, "--output-format=json", "--thread")...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fio %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	// fio may print warnings before the JSON document.
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	var r fioReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("fio output: %v\n%s", err, out)
	}
	if len(r.Jobs) == 0 {
		t.Fatalf("fio reported no jobs:\n%s", out)
	}
	return &r
}

type fioReport struct {
	Jobs []struct {
		Read  fioDir `json:"read"`
		Write fioDir `json:"write"`
	} `json:"jobs"`
}

type fioDir struct {
	IOPS     float64 `json:"iops"`
	TotalIOs uint64  `json:"total_ios"`
	Clat     struct {
		N          uint64             `json:"N"`
		Mean       float64            `json:"mean"`
		Percentile map[string]float64 `json:"percentile"`
	} `json:"clat_ns"`
}

// clat returns fio's completion-latency percentile p (as fio keys them,
// "99.000000") in nanoseconds.
func (d *fioDir) clat(t testing.TB, p float64) float64 {
	t.Helper()
	v, ok := d.Clat.Percentile[strconv.FormatFloat(p, 'f', 6, 64)]
	if !ok {
		t.Fatalf("fio reported no clat percentile %v: %v", p, d.Clat.Percentile)
	}
	return v
}

// ensureTracefs mounts tracefs at /sys/kernel/tracing where nothing did
// (bpftrace finds tracepoints there; the collector itself does not need
// it). The mount is left in place: another tracer may be using it.
func ensureTracefs(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/sys/kernel/tracing/events/block/block_rq_issue"); err == nil {
		return
	}
	if err := unix.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil && err != unix.EBUSY {
		testenv.Skip(t, "cannot mount tracefs for bpftrace: %v", err)
	}
	if _, err := os.Stat("/sys/kernel/tracing/events/block/block_rq_issue"); err != nil {
		testenv.Skip(t, "no block tracepoints in tracefs: %v", err)
	}
}

// bpftraceRun is the oracle, a bpftrace script restricted to one device
// with power-of-two histograms in nanoseconds keyed by rwbs. Stop ends it
// and returns its histograms.
type bpftraceRun struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	stderr bytes.Buffer
	done   chan error
}

// startBpftrace starts the oracle on dev for the stages given: Device is
// TESTBED.md's tracepoint one-liner (block_rq_issue to block_rq_complete,
// paired by dev and sector), Total the same from block_io_start, where the
// kernel starts accounting a request it made (and stamps it, right after
// the tracepoint). It returns once bpftrace has attached.
func startBpftrace(t testing.TB, dev uint32, stages ...latency.Stage) *bpftraceRun {
	t.Helper()
	path := testenv.RequireTool(t, "bpftrace")[0]
	ensureTracefs(t)
	var probes, complete, clears string
	if slices.Contains(stages, latency.Total) {
		clears += " clear(@c);"
		probes += "tracepoint:block:block_io_start /args->dev == %[1]d/ { @c[args->dev, args->sector] = nsecs; }\n"
		complete += `
	$c = @c[args->dev, args->sector];
	if ($c != 0) {
		@tot[args->rwbs] = hist($now - $c);
		@totsum[args->rwbs] = sum($now - $c);
		delete(@c[args->dev, args->sector]);
	}`
	}
	if slices.Contains(stages, latency.Device) {
		clears += " clear(@s);"
		probes += "tracepoint:block:block_rq_issue /args->dev == %[1]d/ { @s[args->dev, args->sector] = nsecs; }\n"
		complete += `
	$s = @s[args->dev, args->sector];
	if ($s != 0) {
		@ns[args->rwbs] = hist($now - $s);
		@sum[args->rwbs] = sum($now - $s);
		delete(@s[args->dev, args->sector]);
	}`
	}
	// At exit bpftrace prints every map; the start times of requests
	// still in flight are cleared first (on a loaded machine printing them
	// took longer than the stop's deadline).
	script := fmt.Sprintf(probes+"tracepoint:block:block_rq_complete /args->dev == %[1]d/ {\n\t$now = nsecs;"+complete+
		"\n}\nEND {"+clears+" }", dev)
	b := &bpftraceRun{done: make(chan error, 1)}
	b.cmd = exec.Command(path, "-f", "json", "-e", script)
	b.cmd.Stderr = &b.stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b.cmd.Stdout = pw
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	attached := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent && strings.Contains(line, `"attached_probes"`) {
				attached <- true
				sent = true
				continue
			}
			b.out.WriteString(line + "\n")
		}
		if !sent {
			attached <- false
		}
		b.done <- b.cmd.Wait()
	}()
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.cmd.Process.Kill()
			<-b.done
		}
	})
	select {
	case ok := <-attached:
		if !ok {
			<-b.done
			t.Fatalf("bpftrace did not attach: %s", b.stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("bpftrace did not attach within 60 s: %s", b.stderr.String())
	}
	return b
}

// bpftraceResult is what the script counted, by rwbs: the histograms and
// the sums of the latencies in nanoseconds, of each request's device stage
// (block_rq_issue to block_rq_complete) and of its total
// (block_io_start, where the block layer starts accounting a request it
// made, to block_rq_complete).
type bpftraceResult struct {
	hist, total map[string][]bpftraceBucket
	sum, totSum map[string]uint64
}

// quit ends bpftrace when its maps are not wanted: an interrupt, and a
// kill if it has not exited within 10 s (on a loaded machine bpftrace once
// took over a minute to exit after an interrupt).
func (b *bpftraceRun) quit() {
	b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-b.done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
	}
}

// stop interrupts bpftrace, which prints its maps, and returns them.
func (b *bpftraceRun) stop(t testing.TB) bpftraceResult {
	t.Helper()
	b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-b.done:
	case <-time.After(60 * time.Second):
		b.cmd.Process.Kill()
		<-b.done
		t.Fatal("bpftrace did not exit on SIGINT")
	}
	out := bpftraceResult{hist: map[string][]bpftraceBucket{}, sum: map[string]uint64{},
		total: map[string][]bpftraceBucket{}, totSum: map[string]uint64{}}
	for _, line := range strings.Split(b.out.String(), "\n") {
		var doc struct {
			Type string                     `json:"type"`
			Data map[string]json.RawMessage `json:"data"`
		}
		if json.Unmarshal([]byte(line), &doc) != nil {
			continue
		}
		switch doc.Type {
		case "hist":
			for name, dst := range map[string]map[string][]bpftraceBucket{"@ns": out.hist, "@tot": out.total} {
				var h map[string][]bpftraceBucket
				if json.Unmarshal(doc.Data[name], &h) == nil {
					for k, v := range h {
						dst[k] = mergeBuckets(dst[k], v)
					}
				}
			}
		case "map":
			for name, dst := range map[string]map[string]uint64{"@sum": out.sum, "@totsum": out.totSum} {
				var m map[string]uint64
				if json.Unmarshal(doc.Data[name], &m) == nil {
					for k, v := range m {
						dst[k] += v
					}
				}
			}
		}
	}
	return out
}

// bpftraceBucket is one bucket of bpftrace's hist(): values in [Min, Max].
type bpftraceBucket struct {
	Min   uint64 `json:"min"`
	Max   uint64 `json:"max"`
	Count uint64 `json:"count"`
}

// rwbsOp is the op of a tracepoint's rwbs string (blk_fill_rwbs: an 'F'
// for a preflush, then the operation's letter).
func rwbsOp(rwbs string) latency.Op {
	if len(rwbs) > 1 && rwbs[0] == 'F' && strings.ContainsRune("WRDN", rune(rwbs[1])) {
		rwbs = rwbs[1:]
	}
	switch {
	case strings.HasPrefix(rwbs, "R"):
		return latency.Read
	case strings.HasPrefix(rwbs, "W"):
		return latency.Write
	case strings.HasPrefix(rwbs, "D"):
		return latency.Discard
	case strings.HasPrefix(rwbs, "F"):
		return latency.Flush
	}
	return latency.Other
}

// sumRange is our count of values in [lo, hi]: exact where lo and hi+1
// are bucket bounds (every power of two is one).
func sumRange(t testing.TB, h *latency.Histogram, lo, hi uint64) uint64 {
	t.Helper()
	var n uint64
	for i, c := range h.Counts {
		blo, bhi := latency.BucketBounds(i)
		if blo >= lo && bhi-1 <= hi {
			n += c
		} else if c != 0 && blo <= hi && bhi-1 >= lo {
			t.Fatalf("bucket [%d, %d) straddles the range [%d, %d]", blo, bhi, lo, hi)
		}
	}
	return n
}
