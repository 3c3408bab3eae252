package bpflat

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// fakeKernel is the part of a kernel's BTF the collector reads, in the
// shape of Linux 6.x, for the feature probe's tests without a kernel.
type fakeKernel struct {
	request, queue, disk, bdev *btf.Struct
	flagBits, reqOp            *btf.Enum
	issue, complete            *btf.FuncProto
}

func newFakeKernel() *fakeKernel {
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	u64 := &btf.Int{Name: "long long unsigned int", Size: 8}
	s32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	k := &fakeKernel{}
	k.bdev = &btf.Struct{Name: "block_device", Size: 16, Members: []btf.Member{
		{Name: "bd_start_sect", Type: u64, Offset: 0},
		{Name: "bd_dev", Type: &btf.Typedef{Name: "dev_t", Type: &btf.Typedef{Name: "__kernel_dev_t", Type: u32}}, Offset: 64},
	}}
	k.disk = &btf.Struct{Name: "gendisk", Size: 16, Members: []btf.Member{
		{Name: "major", Type: s32, Offset: 0},
		{Name: "part0", Type: &btf.Pointer{Target: k.bdev}, Offset: 64},
	}}
	k.queue = &btf.Struct{Name: "request_queue", Size: 24, Members: []btf.Member{
		{Name: "queuedata", Type: &btf.Pointer{Target: &btf.Void{}}, Offset: 0},
		{Name: "disk", Type: &btf.Pointer{Target: k.disk}, Offset: 128},
	}}
	// __data_len inside an anonymous struct, start_time_ns in an anonymous
	// union: the lookup must see through both.
	k.request = &btf.Struct{Name: "request", Size: 48, Members: []btf.Member{
		{Name: "q", Type: &btf.Pointer{Target: k.queue}, Offset: 0},
		{Name: "cmd_flags", Type: &btf.Typedef{Name: "blk_opf_t", Type: u32}, Offset: 64},
		{Name: "", Type: &btf.Struct{Size: 8, Members: []btf.Member{
			{Name: "tag", Type: s32, Offset: 0},
			{Name: "__data_len", Type: u32, Offset: 32},
		}}, Offset: 128},
		{Name: "", Type: &btf.Union{Size: 8, Members: []btf.Member{
			{Name: "start_time_ns", Type: u64, Offset: 0},
		}}, Offset: 256},
	}}
	k.flagBits = &btf.Enum{Name: "req_flag_bits", Size: 4, Values: []btf.EnumValue{
		{Name: "__REQ_FAILFAST_DEV", Value: 8}, {Name: "__REQ_FAILFAST_TRANSPORT", Value: 9},
	}}
	k.reqOp = &btf.Enum{Name: "req_op", Size: 4, Values: []btf.EnumValue{
		{Name: "REQ_OP_READ", Value: 0}, {Name: "REQ_OP_WRITE", Value: 1}, {Name: "REQ_OP_FLUSH", Value: 2},
		{Name: "REQ_OP_DISCARD", Value: 3}, {Name: "REQ_OP_SECURE_ERASE", Value: 5}, {Name: "REQ_OP_ZONE_APPEND", Value: 7},
		{Name: "REQ_OP_WRITE_ZEROES", Value: 9}, {Name: "REQ_OP_ZONE_OPEN", Value: 10}, {Name: "REQ_OP_DRV_IN", Value: 34},
		{Name: "REQ_OP_LAST", Value: 36 << 8}, // out of the mask: ignored
	}}
	rq := &btf.Pointer{Target: k.request}
	void := &btf.Pointer{Target: &btf.Void{}}
	k.issue = &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{{Name: "__data", Type: void}, {Name: "rq", Type: rq}}}
	k.complete = &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{{Name: "__data", Type: void}, {Name: "rq", Type: rq},
		{Name: "error", Type: &btf.Typedef{Name: "blk_status_t", Type: u8}}, {Name: "nr_bytes", Type: u32}}}
	return k
}

func (k *fakeKernel) spec(t *testing.T) *btf.Spec {
	t.Helper()
	types := []btf.Type{k.request, k.queue, k.disk, k.bdev, k.flagBits, k.reqOp,
		&btf.Typedef{Name: "btf_trace_block_rq_issue", Type: &btf.Pointer{Target: k.issue}},
		&btf.Typedef{Name: "btf_trace_block_rq_complete", Type: &btf.Pointer{Target: k.complete}}}
	b, err := btf.NewBuilder(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range types {
		if typ == nil {
			continue
		}
		if _, err := b.Add(typ); err != nil {
			t.Fatal(err)
		}
	}
	spec, err := b.Spec()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestKernelLayoutFromBTF(t *testing.T) {
	l, err := kernelLayout(newFakeKernel().spec(t))
	if err != nil {
		t.Fatal(err)
	}
	want := layout{rqQueue: 0, rqCmdFlags: 8, rqDataLen: 20, rqStartTime: 32, queueDisk: 16, diskPart0: 8, bdevDev: 8,
		opMask: 0xff, completeError: 8, completeBytes: 16}
	got := *l
	got.ops, got.opName = nil, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("layout %+v, want %+v", got, want)
	}
	for raw, op := range map[uint32]latency.Op{0: latency.Read, 1: latency.Write, 2: latency.Flush, 3: latency.Discard,
		5: latency.Discard, 7: latency.Write, 9: latency.Write, 10: latency.Other, 34: latency.Other, 99: latency.Other} {
		if l.op(raw) != op {
			t.Errorf("op %d: %v, want %v", raw, l.op(raw), op)
		}
	}
	if n := strings.Join(l.opNames(), " "); strings.Contains(n, "REQ_OP_LAST") || !strings.Contains(n, "REQ_OP_DRV_IN") {
		t.Errorf("op names %s", n)
	}
}

// The probe names what it misses: every way a kernel's BTF can differ
// from what the programs read is an error, not a program that reads the
// wrong bytes.
func TestKernelLayoutRejects(t *testing.T) {
	u64 := &btf.Int{Name: "long unsigned int", Size: 8}
	for name, c := range map[string]struct {
		change func(k *fakeKernel)
		want   string
	}{
		"no struct request":  {func(k *fakeKernel) { k.request.Name = "request_x" }, "struct request"},
		"no start_time_ns":   {func(k *fakeKernel) { k.request.Members = k.request.Members[:3] }, "no member start_time_ns"},
		"wide cmd_flags":     {func(k *fakeKernel) { k.request.Members[1].Type = u64 }, "cmd_flags"},
		"bitfield bd_dev":    {func(k *fakeKernel) { k.bdev.Members[1].BitfieldSize = 20 }, "bd_dev"},
		"part0 not pointer":  {func(k *fakeKernel) { k.disk.Members[1].Type = k.bdev }, "part0"},
		"queue disk wrong":   {func(k *fakeKernel) { k.queue.Members[1].Type = &btf.Pointer{Target: k.bdev} }, "request_queue.disk"},
		"no FAILFAST_DEV":    {func(k *fakeKernel) { k.flagBits.Values = k.flagBits.Values[1:] }, "__REQ_FAILFAST_DEV"},
		"no req_flag_bits":   {func(k *fakeKernel) { k.flagBits.Name = "other_bits" }, "req_flag_bits"},
		"no discard op":      {func(k *fakeKernel) { k.reqOp.Values[3].Name = "REQ_OP_TRIM" }, "REQ_OP_DISCARD"},
		"no req_op":          {func(k *fakeKernel) { k.reqOp.Name = "req_opf" }, "req_op"},
		"issue arity":        {func(k *fakeKernel) { k.issue.Params = k.issue.Params[:1] }, "block_rq_issue"},
		"issue arg":          {func(k *fakeKernel) { k.issue.Params[1].Type = &btf.Pointer{Target: k.queue} }, "block_rq_issue"},
		"complete arity":     {func(k *fakeKernel) { k.complete.Params = k.complete.Params[:3] }, "block_rq_complete"},
		"complete nr_bytes":  {func(k *fakeKernel) { k.complete.Params[3].Type = u64 }, "nr_bytes"},
		"complete status":    {func(k *fakeKernel) { k.complete.Params[2].Type = u64 }, "blk_status_t"},
		"out of reach field": {func(k *fakeKernel) { k.request.Members[3].Offset = 1 << 20 * 8 }, "out of reach"},
	} {
		k := newFakeKernel()
		c.change(k)
		_, err := kernelLayout(k.spec(t))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
		// The probe turns it into ErrNotSupported with the reason.
		_, err = probeLayout(func() (*btf.Spec, error) { return k.spec(t), nil })
		var nse *NotSupportedError
		if !errors.Is(err, ErrNotSupported) || !errors.As(err, &nse) || nse.Reason == "" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: probe gave %v", name, err)
		}
	}
}

func TestProbeWithoutBTF(t *testing.T) {
	_, err := probeLayout(func() (*btf.Spec, error) { return nil, fmt.Errorf("load: %w", fs.ErrNotExist) })
	var nse *NotSupportedError
	if !errors.Is(err, ErrNotSupported) || !errors.As(err, &nse) || !strings.Contains(nse.Reason, "BTF") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%v", err)
	}
}

// classify tells "the kernel lacks it" (ErrNotSupported) from "not
// allowed" (fs.ErrPermission) from everything else.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err           error
		notSupp, perm bool
	}{
		{fmt.Errorf("x: %w", unix.ENOSYS), true, false},
		{fmt.Errorf("x: %w", ebpf.ErrNotSupported), true, false},
		{unix.EPERM, false, true},
		{unix.EINVAL, false, false},
	} {
		err := classify("load program", c.err)
		if errors.Is(err, ErrNotSupported) != c.notSupp || errors.Is(err, fs.ErrPermission) != c.perm || !errors.Is(err, c.err) {
			t.Errorf("classify(%v) = %v", c.err, err)
		}
	}
}
