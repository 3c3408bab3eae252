package bpflat

import (
	"math"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"pgregory.net/rapid"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// The kernel-side bucket computation is latency.BucketIndex: the same
// instructions the complete program uses, run by the kernel (a socket
// filter program run with BPF_PROG_TEST_RUN, since tracing programs
// cannot be test-run) on values from a map.
func TestBucketIndexInKernel(t *testing.T) {
	requireBPF(t)
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 16, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	insns := asm.Instructions{
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		loadMap(asm.R1, m),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
	}
	insns = append(insns, bucketIndex(asm.R1, asm.R2, asm.R3, asm.R4, "idx")...)
	insns = append(insns,
		asm.StoreMem(asm.R0, 8, asm.R2, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: license})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	kernel := func(t testing.TB, v uint64) int {
		if err := m.Put(uint32(0), [2]uint64{v, math.MaxUint64}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(&ebpf.RunOptions{Data: make([]byte, 64)}); err != nil {
			t.Fatal(err)
		}
		var out [2]uint64
		if err := m.Lookup(uint32(0), &out); err != nil {
			t.Fatal(err)
		}
		return int(out[1])
	}
	// Every bucket's bounds, and around every power of two.
	for i := range latency.NumBuckets {
		lo, hi := latency.BucketBounds(i)
		for _, v := range []uint64{lo, hi - 1} {
			if got := kernel(t, v); got != latency.BucketIndex(v) {
				t.Fatalf("kernel index of %d = %d, want %d", v, got, latency.BucketIndex(v))
			}
		}
	}
	for _, v := range []uint64{math.MaxUint64, 1 << 63, latency.OverflowNanos - 1, latency.OverflowNanos} {
		if got := kernel(t, v); got != latency.BucketIndex(v) {
			t.Fatalf("kernel index of %d = %d, want %d", v, got, latency.BucketIndex(v))
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		v := rapid.Uint64().Draw(rt, "v") >> rapid.IntRange(0, 63).Draw(rt, "shift")
		if got := kernel(t, v); got != latency.BucketIndex(v) {
			rt.Fatalf("kernel index of %d = %d, want %d", v, got, latency.BucketIndex(v))
		}
	})
}
