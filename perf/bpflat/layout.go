package bpflat

import (
	"errors"
	"fmt"
	"sort"

	"github.com/cilium/ebpf/btf"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// layout is what the programs need to know about the running kernel, all
// of it read from its BTF (nothing is hard-coded): where the fields of
// struct request and the structures behind it sit, how the operation is
// encoded in cmd_flags, and the arguments of the two tracepoints.
type layout struct {
	rqQueue     int16 // struct request.q (struct request_queue *)
	rqCmdFlags  int16 // struct request.cmd_flags (blk_opf_t, u32)
	rqDataLen   int16 // struct request.__data_len (unsigned int): bytes left to complete
	rqStartTime int16 // struct request.start_time_ns (u64): 0 when not stamped
	queueDisk   int16 // struct request_queue.disk (struct gendisk *)
	diskPart0   int16 // struct gendisk.part0 (struct block_device *)
	bdevDev     int16 // struct block_device.bd_dev (dev_t, u32)

	opMask uint32                // cmd_flags & opMask is the enum req_op value
	ops    map[uint32]latency.Op // enum req_op value -> Op; absent values are Other
	opName map[uint32]string     // enum req_op value -> REQ_OP_ name

	// Context slots (u64 each) of block_rq_complete's arguments after the
	// request: blk_status_t error and unsigned int nr_bytes.
	completeError, completeBytes int16
}

// kernelLayout reads the layout from the kernel's BTF.
func kernelLayout(spec *btf.Spec) (*layout, error) {
	l := &layout{}
	var err error
	field := func(dst *int16, structName, member string, want func(btf.Type) bool, what string) {
		if err != nil {
			return
		}
		var off uint32
		off, err = memberOffset(spec, structName, member, want, what)
		if err == nil && off > 1<<15-8 {
			err = fmt.Errorf("struct %s.%s at offset %d is out of reach", structName, member, off)
		}
		*dst = int16(off)
	}
	field(&l.rqQueue, "request", "q", isPtrTo("request_queue"), "struct request_queue *")
	field(&l.rqCmdFlags, "request", "cmd_flags", isUint(4), "a 32-bit integer")
	field(&l.rqDataLen, "request", "__data_len", isUint(4), "a 32-bit integer")
	field(&l.rqStartTime, "request", "start_time_ns", isUint(8), "a 64-bit integer")
	field(&l.queueDisk, "request_queue", "disk", isPtrTo("gendisk"), "struct gendisk *")
	field(&l.diskPart0, "gendisk", "part0", isPtrTo("block_device"), "struct block_device *")
	field(&l.bdevDev, "block_device", "bd_dev", isUint(4), "a 32-bit integer")
	if err != nil {
		return nil, err
	}

	// The operation is the low bits of cmd_flags; the flags start at
	// __REQ_FAILFAST_DEV (REQ_OP_BITS in the kernel's headers).
	var flags *btf.Enum
	if err := spec.TypeByName("req_flag_bits", &flags); err != nil {
		return nil, fmt.Errorf("enum req_flag_bits: %w", err)
	}
	opBits := -1
	for _, v := range flags.Values {
		if v.Name == "__REQ_FAILFAST_DEV" {
			opBits = int(v.Value)
		}
	}
	if opBits < 1 || opBits > 16 {
		return nil, errors.New("enum req_flag_bits has no usable __REQ_FAILFAST_DEV")
	}
	l.opMask = 1<<uint(opBits) - 1

	var ops *btf.Enum
	if err := spec.TypeByName("req_op", &ops); err != nil {
		return nil, fmt.Errorf("enum req_op: %w", err)
	}
	l.ops, l.opName = map[uint32]latency.Op{}, map[uint32]string{}
	for _, v := range ops.Values {
		if v.Value > uint64(l.opMask) {
			continue // REQ_OP_LAST
		}
		l.opName[uint32(v.Value)] = v.Name
		if op, ok := opGroups[v.Name]; ok {
			l.ops[uint32(v.Value)] = op
		}
	}
	for _, need := range []string{"REQ_OP_READ", "REQ_OP_WRITE", "REQ_OP_FLUSH", "REQ_OP_DISCARD"} {
		found := false
		for _, n := range l.opName {
			found = found || n == need
		}
		if !found {
			return nil, fmt.Errorf("enum req_op has no %s", need)
		}
	}

	if _, err := tracepointArgs(spec, "block_rq_issue", 1); err != nil {
		return nil, err
	}
	args, err := tracepointArgs(spec, "block_rq_complete", 3)
	if err != nil {
		return nil, err
	}
	if !isUint(1)(args[1]) {
		return nil, fmt.Errorf("block_rq_complete: second argument is %v, want blk_status_t (u8)", args[1])
	}
	if !isUint(4)(args[2]) {
		return nil, fmt.Errorf("block_rq_complete: third argument is %v, want unsigned int nr_bytes", args[2])
	}
	l.completeError, l.completeBytes = 8, 16
	return l, nil
}

// opGroups groups the kernel's operations as diskstats does (op_stat_group:
// discards, then writes, then the rest as reads; flushes on their own).
var opGroups = map[string]latency.Op{
	"REQ_OP_READ":         latency.Read,
	"REQ_OP_WRITE":        latency.Write,
	"REQ_OP_WRITE_ZEROES": latency.Write,
	"REQ_OP_WRITE_SAME":   latency.Write,
	"REQ_OP_ZONE_APPEND":  latency.Write,
	"REQ_OP_DISCARD":      latency.Discard,
	"REQ_OP_SECURE_ERASE": latency.Discard,
	"REQ_OP_FLUSH":        latency.Flush,
}

// op returns the Op of a raw enum req_op value.
func (l *layout) op(raw uint32) latency.Op {
	if op, ok := l.ops[raw]; ok {
		return op
	}
	return latency.Other
}

// opNames lists the kernel's operations, for messages and tests.
func (l *layout) opNames() []string {
	var s []string
	for _, n := range l.opName {
		s = append(s, n)
	}
	sort.Strings(s)
	return s
}

// tracepointArgs checks the raw tracepoint's prototype (btf_trace_NAME is
// void (*)(void *, ARGS...)) and returns ARGS, the first of which must be
// a struct request *.
func tracepointArgs(spec *btf.Spec, name string, n int) ([]btf.Type, error) {
	var td *btf.Typedef
	if err := spec.TypeByName("btf_trace_"+name, &td); err != nil {
		return nil, fmt.Errorf("tracepoint %s: %w", name, err)
	}
	ptr, ok := btf.UnderlyingType(td.Type).(*btf.Pointer)
	if !ok {
		return nil, fmt.Errorf("tracepoint %s: btf_trace_%s is not a function pointer", name, name)
	}
	fp, ok := btf.UnderlyingType(ptr.Target).(*btf.FuncProto)
	if !ok || len(fp.Params) != n+1 {
		return nil, fmt.Errorf("tracepoint %s: prototype %v, want %d arguments", name, ptr.Target, n)
	}
	args := make([]btf.Type, n)
	for i := range args {
		args[i] = fp.Params[i+1].Type
	}
	if !isPtrTo("request")(args[0]) {
		return nil, fmt.Errorf("tracepoint %s: first argument is %v, want struct request *", name, args[0])
	}
	return args, nil
}

// memberOffset finds a member of a struct (looking into anonymous structs
// and unions) and checks its type.
func memberOffset(spec *btf.Spec, structName, member string, want func(btf.Type) bool, what string) (uint32, error) {
	var st *btf.Struct
	if err := spec.TypeByName(structName, &st); err != nil {
		return 0, fmt.Errorf("struct %s: %w", structName, err)
	}
	m, off, ok := findMember(st.Members, member, 0)
	if !ok {
		return 0, fmt.Errorf("struct %s has no member %s", structName, member)
	}
	if m.BitfieldSize != 0 || off%8 != 0 || !want(m.Type) {
		return 0, fmt.Errorf("struct %s.%s is %v, want %s", structName, member, m.Type, what)
	}
	return off.Bytes(), nil
}

func findMember(ms []btf.Member, name string, base btf.Bits) (btf.Member, btf.Bits, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, base + m.Offset, true
		}
		if m.Name != "" {
			continue
		}
		var inner []btf.Member
		switch t := btf.UnderlyingType(m.Type).(type) {
		case *btf.Struct:
			inner = t.Members
		case *btf.Union:
			inner = t.Members
		}
		if f, off, ok := findMember(inner, name, base+m.Offset); ok {
			return f, off, true
		}
	}
	return btf.Member{}, 0, false
}

func isPtrTo(structName string) func(btf.Type) bool {
	return func(t btf.Type) bool {
		p, ok := btf.UnderlyingType(t).(*btf.Pointer)
		if !ok {
			return false
		}
		s, ok := btf.UnderlyingType(p.Target).(*btf.Struct)
		return ok && s.Name == structName
	}
}

func isUint(size uint32) func(btf.Type) bool {
	return func(t btf.Type) bool {
		i, ok := btf.UnderlyingType(t).(*btf.Int)
		return ok && i.Size == size && i.Encoding&btf.Signed == 0
	}
}
