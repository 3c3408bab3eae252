package bpflat

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// The histogram map's value: three stages of latency.NumBuckets counters
// (device, queue, total), then the three stages' sums in nanoseconds, then
// the number of requests that completed with an error. Every field is a
// u64 the programs add to atomically.
const (
	nb          = latency.NumBuckets
	slotDevice  = 0
	slotQueue   = nb
	slotTotal   = 2 * nb
	slotSums    = 3 * nb // + stage-1
	slotErrors  = 3*nb + 3
	valueSlots  = 3*nb + 4
	valueSize   = valueSlots * 8
	histKeySize = 8 // {u32 dev; u32 op}
)

// Counters in the stats map (an array of u64).
const (
	statUnmatched    = iota // completions with no issue on record (or a stale one)
	statIssueDropped        // issues that could not be recorded (start map full)
	statHistFull            // completions lost because the histogram map was full
	statUnstamped           // completions of requests without a creation stamp (no queue or total stage)
	statCount
)

// Stack slots of the programs (offsets from the frame pointer R10).
const (
	stRq      = -8  // u64: the request pointer, key of the start map
	stTs      = -16 // u64: issue time (issue program)
	stHistKey = -16 // {u32 dev, u32 op} (complete program)
	stZero    = -20 // u32: 0, key of the zero map
	stStat    = -24 // u32: index into the stats map
	stError   = -32 // u64: the completion's status
)

// progMaps are the maps the programs reference. Instructions hold the maps
// themselves (not bare descriptors), so nothing closes them under a load.
type progMaps struct {
	starts, hists, zero, stats *ebpf.Map
	watch                      *ebpf.Map // devices watched (WithDeviceFilter); nil: all
}

func loadMap(dst asm.Register, m *ebpf.Map) asm.Instruction {
	ins := asm.LoadMapPtr(dst, 0)
	if err := ins.AssociateMap(m); err != nil {
		panic(err) // only for an instruction that is not a map load
	}
	return ins
}

// issueProgram records bpf_ktime_get_ns() for the request in the start
// map. An entry stays in the map after completion (zeroed, see
// completeProgram): requests are reused from per-tag pools, so the next issue
// of the same request usually finds its entry and only stores the time,
// which is cheaper than inserting.
func issueProgram(m progMaps) asm.Instructions {
	insns := asm.Instructions{
		asm.LoadMem(asm.R6, asm.R1, 0, asm.DWord), // r6 = ctx[0]: struct request *
		asm.StoreMem(asm.RFP, stRq, asm.R6, asm.DWord),
		asm.FnKtimeGetNs.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		loadMap(asm.R1, m.starts),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stRq),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "insert"),
		asm.StoreMem(asm.R0, 0, asm.R7, asm.DWord),
		asm.Ja.Label("out"),

		asm.StoreMem(asm.RFP, stTs, asm.R7, asm.DWord).WithSymbol("insert"),
		loadMap(asm.R1, m.starts),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stRq),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, stTs),
		asm.Mov.Imm(asm.R4, 0), // BPF_ANY
		asm.FnMapUpdateElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
	}
	insns = append(insns, countStat(m, statIssueDropped, "issue_dropped")...)
	return append(insns,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
}

// completeProgram adds a completed request to its device's and
// operation's histograms. Without the issue program (pair false: the
// default, the Total stage alone) it needs no pairing: Total is the
// completion time less the kernel's own creation stamp. With pair it also
// looks up and consumes the request's issue time for Device and Queue.
// With watch (a device filter) a device not in the watch map is skipped
// after one lookup (its histograms do not exist, so the lookup of them
// misses first).
//
// Everything that can skip a request comes before the clock is read:
// partial completions, unstamped requests (without pair) and unwatched
// devices cost a few loads and lookups, not bpf_ktime_get_ns.
//
//	r6: the request, then the histogram value
//	r7: issue time   r8: completion time   r9: creation time (0: unknown)
func completeProgram(l *layout, m progMaps, pair, watch bool) asm.Instructions {
	insns := asm.Instructions{
		asm.LoadMem(asm.R6, asm.R1, 0, asm.DWord),               // struct request *
		asm.LoadMem(asm.R2, asm.R1, l.completeBytes, asm.DWord), // nr_bytes
		asm.LoadMem(asm.R3, asm.R1, l.completeError, asm.DWord), // blk_status_t
		asm.And.Imm(asm.R3, 0xff),
		asm.StoreMem(asm.RFP, stError, asm.R3, asm.DWord),
		asm.Mov.Reg32(asm.R2, asm.R2),
		asm.LoadMem(asm.R1, asm.R6, l.rqDataLen, asm.Word),
		// A partial completion (nr_bytes short of what is left): the
		// request stays in flight until its last bytes complete.
		asm.JLT.Reg(asm.R2, asm.R1, "out"),
		asm.LoadMem(asm.R9, asm.R6, l.rqStartTime, asm.DWord),
	}
	if pair {
		insns = append(insns, asm.StoreMem(asm.RFP, stRq, asm.R6, asm.DWord))
	} else {
		insns = append(insns, asm.JEq.Imm(asm.R9, 0, "unstamped_out"))
	}
	insns = append(insns,
		// The key: the whole disk's dev_t (the tracepoints' dev) and the op.
		asm.LoadMem(asm.R1, asm.R6, l.rqQueue, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, l.queueDisk, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, l.diskPart0, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, l.bdevDev, asm.Word),
		asm.StoreMem(asm.RFP, stHistKey, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.R6, l.rqCmdFlags, asm.Word),
		asm.And.Imm(asm.R1, int32(l.opMask)),
		asm.StoreMem(asm.RFP, stHistKey+4, asm.R1, asm.Word),

		loadMap(asm.R1, m.hists),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stHistKey),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, "have"),
	)
	if watch {
		// No histograms yet: a device not watched stops here (the key's
		// first word, the dev, is the watch map's key).
		insns = append(insns,
			loadMap(asm.R1, m.watch),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, stHistKey),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "out"),
		)
	}
	insns = append(insns,
		// First request of this device and op: insert a zeroed value
		// (copied from the one-entry zero map), then look it up again. A
		// concurrent insert on another CPU makes ours fail with EEXIST,
		// which is fine.
		asm.StoreImm(asm.RFP, stZero, 0, asm.Word),
		loadMap(asm.R1, m.zero),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stZero),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "full"),
		asm.Mov.Reg(asm.R3, asm.R0),
		loadMap(asm.R1, m.hists),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stHistKey),
		asm.Mov.Imm(asm.R4, 1), // BPF_NOEXIST
		asm.FnMapUpdateElem.Call(),
		loadMap(asm.R1, m.hists),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stHistKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "full"),

		asm.Mov.Reg(asm.R6, asm.R0).WithSymbol("have"),
		asm.FnKtimeGetNs.Call(),
		asm.Mov.Reg(asm.R8, asm.R0),
	)
	if pair {
		insns = append(insns,
			loadMap(asm.R1, m.starts),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, stRq),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "unmatched"),
			asm.LoadMem(asm.R7, asm.R0, 0, asm.DWord),
			asm.JEq.Imm(asm.R7, 0, "unmatched"),
			asm.Mov.Imm(asm.R1, 0),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord), // consumed
			// An issue time before the request was created is left over
			// from an earlier request at the same address whose
			// completion was never seen: not this request's.
			asm.JEq.Imm(asm.R9, 0, "unstamped"),
			asm.JLT.Reg(asm.R7, asm.R9, "unmatched"),
			asm.Ja.Label("device"),
		)
		insns = append(insns, countStat(m, statUnstamped, "unstamped")...)
		insns = append(insns,
			// Device: completion - issue (clamped at 0: the clock is
			// monotonic, but read on two CPUs).
			asm.Mov.Reg(asm.R1, asm.R8).WithSymbol("device"),
			asm.Sub.Reg(asm.R1, asm.R7),
			asm.JSGE.Imm(asm.R1, 0, "dev_ok"),
			asm.Mov.Imm(asm.R1, 0),
		)
		insns = append(insns, record(slotDevice, slotSums, "dev_ok")...)
		insns = append(insns,
			asm.JEq.Imm(asm.R9, 0, "errors"),
			// Queue: issue - creation (>= 0, checked above).
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.Sub.Reg(asm.R1, asm.R9),
		)
		insns = append(insns, record(slotQueue, slotSums+1, "q")...)
	}
	insns = append(insns,
		// Total: completion - creation.
		asm.Mov.Reg(asm.R1, asm.R8),
		asm.Sub.Reg(asm.R1, asm.R9),
		asm.JSGE.Imm(asm.R1, 0, "total_ok"),
		asm.Mov.Imm(asm.R1, 0),
	)
	insns = append(insns, record(slotTotal, slotSums+2, "total_ok")...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.RFP, stError, asm.DWord).WithSymbol("errors"),
		asm.JEq.Imm(asm.R1, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R6, asm.R1, asm.DWord, slotErrors*8),
		asm.Ja.Label("out"),
	)
	if pair {
		insns = append(insns, countStat(m, statUnmatched, "unmatched")...)
	} else {
		insns = append(insns, countStat(m, statUnstamped, "unstamped_out")...)
	}
	insns = append(insns, asm.Ja.Label("out"))
	insns = append(insns, countStat(m, statHistFull, "full")...)
	insns = append(insns,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	return insns
}

// record adds the value in R1 (nanoseconds) to the histogram of the value
// at R6 whose buckets start at slot first, and to its sum at slot sum. The
// first instruction carries the symbol label. Clobbers R2-R5.
func record(first, sum int, label string) asm.Instructions {
	insns := bucketIndex(asm.R1, asm.R2, asm.R3, asm.R4, label)
	return append(insns,
		asm.Add.Imm(asm.R2, int32(first)),
		asm.LSh.Imm(asm.R2, 3),
		asm.Mov.Reg(asm.R3, asm.R6),
		asm.Add.Reg(asm.R3, asm.R2),
		asm.Mov.Imm(asm.R4, 1),
		asm.AddAtomic.Mem(asm.R3, asm.R4, asm.DWord, 0),
		asm.AddAtomic.Mem(asm.R6, asm.R1, asm.DWord, int16(sum*8)),
	)
}

// bucketIndex computes latency.BucketIndex(v) into idx, leaving v intact:
// e = floor(log2 v) by a binary search over shifts (eBPF has no count of
// leading zeros), s = max(e-4, 0), idx = min(s*16 + v>>s, OverflowBucket).
// The first instruction carries the symbol label, so jumps may target it.
func bucketIndex(v, idx, e, x asm.Register, label string) asm.Instructions {
	insns := asm.Instructions{
		asm.Mov.Imm(e, 0).WithSymbol(label),
		asm.Mov.Reg(x, v),
	}
	for _, b := range []int32{32, 16, 8, 4, 2, 1} {
		skip := fmt.Sprintf("%s_log%d", label, b)
		insns = append(insns,
			asm.Mov.Reg(idx, x),
			asm.RSh.Imm(idx, b),
			asm.JEq.Imm(idx, 0, skip),
			asm.Mov.Reg(x, idx),
			asm.Add.Imm(e, b),
			asm.Mov.Reg(idx, idx).WithSymbol(skip), // a no-op to land on
		)
	}
	return append(insns,
		asm.Sub.Imm(e, latency.SubBucketBits),
		asm.JSGE.Imm(e, 0, label+"_s"),
		asm.Mov.Imm(e, 0),
		asm.Mov.Reg(idx, v).WithSymbol(label+"_s"),
		asm.RSh.Reg(idx, e),
		asm.LSh.Imm(e, latency.SubBucketBits),
		asm.Add.Reg(idx, e),
		asm.JLE.Imm(idx, latency.OverflowBucket, label+"_done"),
		asm.Mov.Imm(idx, latency.OverflowBucket),
		asm.Mov.Reg(idx, idx).WithSymbol(label+"_done"),
	)
}

// countStat adds one to a counter of the stats map; the first instruction
// carries the label.
func countStat(m progMaps, stat int32, label string) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, stStat, int64(stat), asm.Word).WithSymbol(label),
		loadMap(asm.R1, m.stats),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stStat),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, label+"_end"),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 0),
		asm.Mov.Reg(asm.R0, asm.R0).WithSymbol(label + "_end"),
	}
}
