package bpflat

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// overheadResult is, for each state, the median over the rounds of fio's
// IOPS in that state's window over its IOPS in the round's "off" window
// (1.0: free), and how many rounds measured it.
type overheadResult struct {
	ratio   map[string]float64
	iqr     map[string][2]float64 // the per-round ratios' quartiles: how much the rounds scattered
	rounds  map[string]int
	offIOPS float64 // the median IOPS with nothing attached
}

func median(v []float64) float64 { return quantile(v, 0.5) }

// quantile interpolates the q-quantile of v.
func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	x := q * float64(len(s)-1)
	i := int(x)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (x-float64(i))*(s[i+1]-s[i])
}

// measureOverhead measures what attaching costs fio, in one fio run: fio
// reads a tmpfs-backed loop device (the cheapest requests this machine
// has, so a cost per request weighs the most) while the states take turns
// in short windows; the device's completed reads in each window (from its
// sysfs stat file) give the IOPS. The states are "off" (nothing
// attached), "ours" (the collector as New makes it by default: its
// completion program alone, the Total stage), "stages" (the programs of
// WithStages(latency.Stages...): issue and completion, every stage),
// "floor_complete" (a program that only returns, on block_rq_complete:
// what attaching anything where the default attaches costs here) and
// "floor" (two such programs, on both tracepoints, as the stages'
// are). Each round runs them in turn, the next
// round in the reverse order, so that a drift of the machine's load hits
// them alike; each state's ratio to the same round's "off" window is
// taken, and the median over the rounds is reported, so a round disturbed
// by another process on the shared machine does not move the result. With
// bpftrace, whose start takes a second or more, a round is a window with
// bpftrace attached (starting once it has attached) and one after it
// exited, in alternating order.
func measureOverhead(t testing.TB, engine []string, window time.Duration, rounds int, btWindow time.Duration, btRounds int) overheadResult {
	t.Helper()
	requireBPF(t)
	path := testenv.RequireTool(t, "fio")[0]
	dev, num := shmLoop(t, 256<<20)
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.mu.Lock()
	c.obj.detach()
	c.mu.Unlock()
	floor := &objects{}
	for _, p := range []struct {
		dst **ebpf.Program
		tp  string
	}{{&floor.issue, "block_rq_issue"}, {&floor.complete, "block_rq_complete"}} {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "eos_floor", Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp,
			AttachTo: p.tp, Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, License: license})
		if err != nil {
			t.Fatal(err)
		}
		*p.dst = prog
	}
	defer floor.close()
	stages, err := load(c.layout, loadOptions{maxInFlight: c.cfg.maxInFlight, maxSeries: c.cfg.maxSeries, pair: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stages.close()
	// floorSet attaches the empty programs given, or detaches them all.
	floorSet := func(on bool, progs ...*ebpf.Program) {
		if !on {
			floor.detach()
			return
		}
		for _, p := range progs {
			l, err := link.AttachTracing(link.TracingOptions{Program: p})
			if err != nil {
				t.Fatal(err)
			}
			floor.links = append(floor.links, l)
		}
	}

	set := map[string]func(on bool){
		"stages": func(on bool) {
			if !on {
				stages.detach()
			} else if err := stages.attach(nil); err != nil {
				t.Fatal(err)
			}
		},
		"off": func(bool) {},
		"ours": func(on bool) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if !on {
				c.obj.detach()
			} else if err := c.obj.attach(nil); err != nil {
				t.Fatal(err)
			}
		},
		"floor":          func(on bool) { floorSet(on, floor.issue, floor.complete) },
		"floor_complete": func(on bool) { floorSet(on, floor.complete) },
	}
	run := time.Duration(rounds*len(set))*window + time.Duration(btRounds)*(2*btWindow+20*time.Second) + 5*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), run+time.Minute)
	defer cancel()
	args := append([]string{"--name=overhead", "--filename=" + dev, "--direct=1", "--rw=randread", "--bs=4k",
		"--time_based", "--runtime=" + strconv.Itoa(int(run.Seconds())), "--size=200m", "--output=/dev/null",
		"--thread"}, engine...)
	cmd := exec.CommandContext(ctx, path, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	stat := filepath.Join("/sys/block", loopName(dev), "stat")
	reads := func() (uint64, time.Time) {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseUint(strings.Fields(string(b))[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n, time.Now()
	}
	measure := func(d time.Duration) float64 {
		n0, t0 := reads()
		time.Sleep(d)
		n1, t1 := reads()
		return float64(n1-n0) / t1.Sub(t0).Seconds()
	}
	time.Sleep(time.Second) // fio's start-up

	ratios := map[string][]float64{}
	var offs []float64
	order := []string{"off", "ours", "floor_complete", "stages", "floor"}
	for i := range rounds {
		seq := slices.Clone(order)
		if i%2 == 1 {
			slices.Reverse(seq)
		}
		iops := map[string]float64{}
		for _, s := range seq {
			set[s](true)
			iops[s] = measure(window)
			set[s](false)
		}
		offs = append(offs, iops["off"])
		for _, s := range order[1:] {
			ratios[s] = append(ratios[s], iops[s]/iops["off"])
		}
	}
	if btRounds > 0 {
		if _, err := testenv.LookTool("bpftrace"); err == nil {
			for i := range btRounds {
				var on, off float64
				if i%2 == 1 {
					off = measure(btWindow)
				}
				bt := startBpftrace(t, num, latency.Total) // what the default measures
				on = measure(btWindow)
				bt.quit()
				if i%2 == 0 {
					off = measure(btWindow)
				}
				ratios["bpftrace"] = append(ratios["bpftrace"], on/off)
			}
		}
	}
	r := overheadResult{ratio: map[string]float64{}, iqr: map[string][2]float64{}, rounds: map[string]int{}, offIOPS: median(offs)}
	for s, v := range ratios {
		r.ratio[s], r.rounds[s] = median(v), len(v)
		r.iqr[s] = [2]float64{quantile(v, 0.25), quantile(v, 0.75)}
	}
	return r
}

// BenchmarkFioOverhead is the issue's overhead measurement. fio reads a
// tmpfs loop device with libaio, 16 requests in flight: fio and the loop
// worker keep both CPUs busy, so every nanosecond a program spends is
// requests lost, the worst case for a per-request cost. It reports
// iops_ratio (fio's IOPS with the collector attached as New makes it by
// default, the Total stage alone, over its IOPS with nothing; 1.0 is
// free), stages_iops_ratio (WithStages(latency.Stages...): both programs
// and the in-flight table), floor_complete_iops_ratio and floor_iops_ratio
// (programs that do nothing, attached to block_rq_complete, and to both
// tracepoints: the least any tool there costs) and bpftrace_iops_ratio (TestMatchesBpftrace's
// script). They are reported metrics, not assertions: on a shared 2-core
// machine a bound as tight as 3% would flake. (A one-request-at-a-time
// load, psync, is no measure here: there attaching even the empty
// programs made fio faster, by 7%, the CPUs idling less deeply between
// requests.) Run it alone; it takes about two and a half minutes:
//
//	go test -run '^$' -bench FioOverhead -benchtime 1x ./perf/bpflat/
func BenchmarkFioOverhead(b *testing.B) {
	var r overheadResult
	for b.Loop() {
		r = measureOverhead(b, []string{"--ioengine=libaio", "--iodepth=16"}, 250*time.Millisecond, 100, 2*time.Second, 8)
	}
	b.Logf("median IOPS with nothing attached %.0f; median ratios %v (quartiles %v) over rounds %v", r.offIOPS, r.ratio, r.iqr, r.rounds)
	b.ReportMetric(r.ratio["ours"], "iops_ratio")
	b.ReportMetric(r.ratio["stages"], "stages_iops_ratio")
	b.ReportMetric(r.ratio["floor_complete"], "floor_complete_iops_ratio")
	b.ReportMetric(r.ratio["floor"], "floor_iops_ratio")
	if r.rounds["bpftrace"] > 0 {
		b.ReportMetric(r.ratio["bpftrace"], "bpftrace_iops_ratio")
	}
}
