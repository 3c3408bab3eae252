package bpflat

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// BenchmarkProgramRuntime is the kernel's own account of what each program
// costs per request (BPF_ENABLE_STATS: the run time the kernel measures
// around every run), under fio load on a tmpfs loop device. Measured, each
// attached alone in turn, one second at a time, three rounds:
//
//   - empty: a program that only returns (the anchor: most of its cost is
//     the kernel's timing of the run);
//   - clock: one that only calls bpf_ktime_get_ns;
//   - lookup: one that builds the histogram key (four loads from the
//     request) and looks it up in a hash map;
//   - total: the default mode's complete program (key, lookup, clock,
//     bucket, two atomic adds);
//   - skipped: the same WithDeviceFilter, on a device the filter does not
//     keep (two lookups, no clock);
//   - issue and complete: WithStages(latency.Stages...)'s two programs,
//     attached together so that completions find their issue.
//
// total_x_vs_empty is the default mode's run time over the empty
// program's; stages_x_vs_empty is issue plus complete over two empty
// programs.
//
//	go test -run '^$' -bench ProgramRuntime -benchtime 1x ./perf/bpflat/
func BenchmarkProgramRuntime(b *testing.B) {
	requireBPF(b)
	fioPath := testenv.RequireTool(b, "fio")[0]
	dev, _ := shmLoop(b, 256<<20)
	st, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		testenv.Skip(b, "BPF run-time statistics: %v", err)
	}
	defer st.Close()
	l, err := kernelLayoutOnce()
	if err != nil {
		b.Fatal(err)
	}
	all, err := load(l, loadOptions{maxInFlight: 16384, maxSeries: 1024, pair: true})
	if err != nil {
		b.Fatal(err)
	}
	defer all.close()
	total, err := load(l, loadOptions{maxInFlight: 16384, maxSeries: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer total.close()
	skipped, err := load(l, loadOptions{maxInFlight: 16384, maxSeries: 1024, watch: true}) // watching nothing
	if err != nil {
		b.Fatal(err)
	}
	defer skipped.close()
	variant := func(name string, insns asm.Instructions) *ebpf.Program {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "eos_" + name, Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp,
			AttachTo: "block_rq_complete", Instructions: append(insns, asm.Mov.Imm(asm.R0, 0), asm.Return()), License: license})
		if err != nil {
			b.Fatal(name, err)
		}
		b.Cleanup(func() { p.Close() })
		return p
	}
	empty := variant("empty", nil)
	clock := variant("clock", asm.Instructions{asm.FnKtimeGetNs.Call()})
	lookup := variant("lookup", asm.Instructions{
		asm.LoadMem(asm.R6, asm.R1, 0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R6, l.rqQueue, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, l.queueDisk, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, l.diskPart0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, l.bdevDev, asm.Word),
		asm.StoreMem(asm.RFP, stHistKey, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, l.rqCmdFlags, asm.Word),
		asm.And.Imm(asm.R1, int32(l.opMask)),
		asm.StoreMem(asm.RFP, stHistKey+4, asm.R1, asm.Word),
		loadMap(asm.R1, total.maps.hists),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stHistKey),
		asm.FnMapLookupElem.Call(),
	})
	type run struct {
		name  string
		progs []*ebpf.Program // attached together; the first is measured
	}
	runs := []run{{"empty", []*ebpf.Program{empty}}, {"clock", []*ebpf.Program{clock}}, {"lookup", []*ebpf.Program{lookup}},
		{"total", []*ebpf.Program{total.complete}}, {"skipped", []*ebpf.Program{skipped.complete}},
		{"issue", []*ebpf.Program{all.issue, all.complete}}, {"complete", []*ebpf.Program{all.complete, all.issue}}}

	const rounds, window = 3, time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fio := exec.CommandContext(ctx, fioPath, "--name=runtime", "--filename="+dev, "--direct=1", "--rw=randread", "--bs=4k",
		"--ioengine=libaio", "--iodepth=16", "--time_based", "--runtime="+strconv.Itoa(rounds*len(runs)+5), "--size=200m",
		"--output=/dev/null", "--thread")
	if err := fio.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { fio.Process.Kill(); fio.Wait() }()
	time.Sleep(time.Second)

	runtime := make([]float64, len(runs))
	count := make([]float64, len(runs))
	for b.Loop() {
		for range rounds {
			for i, r := range runs {
				s0, err := r.progs[0].Stats()
				if err != nil {
					b.Fatal(err)
				}
				var links []link.Link
				for _, p := range r.progs {
					ln, err := link.AttachTracing(link.TracingOptions{Program: p})
					if err != nil {
						b.Fatal(err)
					}
					links = append(links, ln)
				}
				time.Sleep(window)
				for _, ln := range links {
					ln.Close()
				}
				s1, _ := r.progs[0].Stats()
				runtime[i] += float64(s1.Runtime - s0.Runtime)
				count[i] += float64(s1.RunCount - s0.RunCount)
			}
		}
	}
	ns := map[string]float64{}
	for i, r := range runs {
		ns[r.name] = runtime[i] / count[i]
		b.ReportMetric(ns[r.name], r.name+"_ns/run")
	}
	b.ReportMetric(ns["total"]/ns["empty"], "total_x_vs_empty")
	b.ReportMetric((ns["issue"]+ns["complete"])/(2*ns["empty"]), "stages_x_vs_empty")
}
