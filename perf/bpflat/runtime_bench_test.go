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
// around every run), under fio load on a tmpfs loop device: the issue
// program, the complete program with all stages and with Total alone, and,
// as the anchor, a program that only returns on the same tracepoint
// (x_vs_empty is ours, issue plus complete, over two empty programs).
// Each program is attached alone in turn, one second at a time, three
// rounds. The run time includes the kernel's own timing of the run, which
// is most of the empty program's cost.
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
	totalOnly, err := load(l, loadOptions{maxInFlight: 16384, maxSeries: 1024})
	if err != nil {
		b.Fatal(err)
	}
	defer totalOnly.close()
	empty, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "eos_empty", Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp,
		AttachTo: "block_rq_issue", Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, License: license})
	if err != nil {
		b.Fatal(err)
	}
	defer empty.Close()
	progs := []struct {
		name string
		p    *ebpf.Program
	}{{"empty", empty}, {"issue", all.issue}, {"complete", all.complete}, {"total_only", totalOnly.complete}}

	const rounds, window = 3, time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fio := exec.CommandContext(ctx, fioPath, "--name=runtime", "--filename="+dev, "--direct=1", "--rw=randread", "--bs=4k",
		"--ioengine=libaio", "--iodepth=16", "--time_based", "--runtime="+strconv.Itoa(rounds*len(progs)+5), "--size=200m",
		"--output=/dev/null", "--thread")
	if err := fio.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { fio.Process.Kill(); fio.Wait() }()
	time.Sleep(time.Second)

	var runtime, runs [4]float64
	for b.Loop() {
		for range rounds {
			for i, p := range progs {
				s0, err := p.p.Stats()
				if err != nil {
					b.Fatal(err)
				}
				ln, err := link.AttachTracing(link.TracingOptions{Program: p.p})
				if err != nil {
					b.Fatal(err)
				}
				time.Sleep(window)
				ln.Close()
				s1, _ := p.p.Stats()
				runtime[i] += float64(s1.Runtime - s0.Runtime)
				runs[i] += float64(s1.RunCount - s0.RunCount)
			}
		}
	}
	ns := func(i int) float64 { return runtime[i] / runs[i] }
	for i, p := range progs {
		b.ReportMetric(ns(i), p.name+"_ns/run")
	}
	b.ReportMetric((ns(1)+ns(2))/(2*ns(0)), "x_vs_empty")
}
