package bpflat

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Program and map names, as bpftool and /proc/PID/fdinfo show them (the
// kernel keeps 15 characters).
const (
	issueName    = "eos_rq_issue"
	completeName = "eos_rq_complete"
	// license of the generated programs. The kernel lets only programs
	// under a GPL-compatible license read its structures (struct request);
	// "Dual BSD/GPL" is what cilium's and libbpf-tools' programs declare.
	license = "Dual BSD/GPL"
)

// maxWatch bounds the watch map: the whole disks a device filter keeps.
const maxWatch = 4096

// objects is everything a Collector holds in the kernel.
type objects struct {
	maps            progMaps
	issue, complete *ebpf.Program
	links           []link.Link
}

// close releases everything, links first (detaching the programs), then
// programs, then maps. The kernel frees each object once its last reference
// is gone.
func (o *objects) close() error {
	errs := []error{o.detach()}
	for _, p := range []**ebpf.Program{&o.complete, &o.issue} {
		if *p != nil {
			errs = append(errs, (*p).Close())
			*p = nil
		}
	}
	for _, m := range []**ebpf.Map{&o.maps.watch, &o.maps.stats, &o.maps.zero, &o.maps.hists, &o.maps.starts} {
		if *m != nil {
			errs = append(errs, (*m).Close())
			*m = nil
		}
	}
	return errors.Join(errs...)
}

// kernelLayoutOnce reads the running kernel's BTF once per process.
var kernelLayoutOnce = sync.OnceValues(func() (*layout, error) { return probeLayout(btf.LoadKernelSpec) })

// probeLayout is the first half of the feature probe: BTF, and in it the
// structures and tracepoints the programs read. Anything missing is
// ErrNotSupported with the reason.
func probeLayout(loadSpec func() (*btf.Spec, error)) (*layout, error) {
	spec, err := loadSpec()
	if err != nil {
		return nil, &NotSupportedError{Reason: "the kernel has no BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)", Err: err}
	}
	l, err := kernelLayout(spec)
	if err != nil {
		return nil, &NotSupportedError{Reason: "the block layer's tracepoints or structures are not as this collector reads them", Err: err}
	}
	return l, nil
}

// Supported reports whether the collector can run here: nil, or an error
// matching ErrNotSupported that says what is missing (or the permission
// error, matching fs.ErrPermission, when the process may not load BPF
// programs). It loads the programs once without attaching them; the
// result is cached for the life of the process.
func Supported() error { return supportedOnce() }

var supportedOnce = sync.OnceValue(func() error {
	l, err := kernelLayoutOnce()
	if err != nil {
		return err
	}
	o, err := load(l, loadOptions{maxInFlight: 64, maxSeries: 1, pair: true, watch: true})
	if err != nil {
		return err
	}
	return o.close()
})

// loadOptions say what load makes: with pair, the issue program and the
// in-flight table (Device and Queue); with watch, the watch map of the
// devices a filter keeps, which the complete program consults.
type loadOptions struct {
	maxInFlight, maxSeries int
	pair, watch            bool
	fail                   func(string) error
}

// load creates the maps and loads the programs without attaching them;
// without pair, only the complete program (for the Total stage alone).
func load(l *layout, opt loadOptions) (_ *objects, err error) {
	maxInFlight, maxSeries, pair, fail := opt.maxInFlight, opt.maxSeries, opt.pair, opt.fail
	o := &objects{}
	defer func() {
		if err != nil {
			o.close()
		}
	}()
	step := func(name string) error {
		if fail != nil {
			return fail(name)
		}
		return nil
	}
	mk := func(dst **ebpf.Map, spec *ebpf.MapSpec) error {
		m, err := ebpf.NewMap(spec)
		if err != nil {
			return classify("create map "+spec.Name, err)
		}
		*dst = m
		return step("map " + spec.Name)
	}
	if pair {
		if err := mk(&o.maps.starts, &ebpf.MapSpec{Name: "eos_rq_starts", Type: ebpf.LRUHash,
			KeySize: 8, ValueSize: 8, MaxEntries: uint32(maxInFlight)}); err != nil {
			return nil, err
		}
	}
	if err := mk(&o.maps.hists, &ebpf.MapSpec{Name: "eos_rq_hists", Type: ebpf.Hash,
		KeySize: histKeySize, ValueSize: valueSize, MaxEntries: uint32(maxSeries), Flags: unix.BPF_F_NO_PREALLOC}); err != nil {
		return nil, err
	}
	if err := mk(&o.maps.zero, &ebpf.MapSpec{Name: "eos_rq_zero", Type: ebpf.Array,
		KeySize: 4, ValueSize: valueSize, MaxEntries: 1, Flags: unix.BPF_F_RDONLY_PROG}); err != nil {
		return nil, err
	}
	if err := mk(&o.maps.stats, &ebpf.MapSpec{Name: "eos_rq_stats", Type: ebpf.Array,
		KeySize: 4, ValueSize: 8, MaxEntries: statCount}); err != nil {
		return nil, err
	}
	if opt.watch {
		if err := mk(&o.maps.watch, &ebpf.MapSpec{Name: "eos_rq_watch", Type: ebpf.Hash,
			KeySize: 4, ValueSize: 4, MaxEntries: uint32(maxWatch), Flags: unix.BPF_F_RDONLY_PROG}); err != nil {
			return nil, err
		}
	}
	prog := func(dst **ebpf.Program, name, tracepoint string, insns asm.Instructions) error {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: name, Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp,
			AttachTo: tracepoint, Instructions: insns, License: license})
		if err != nil {
			return classify("load program "+name+" (tp_btf/"+tracepoint+")", err)
		}
		*dst = p
		return step("program " + name)
	}
	if pair {
		if err := prog(&o.issue, issueName, "block_rq_issue", issueProgram(o.maps)); err != nil {
			return nil, err
		}
	}
	if err := prog(&o.complete, completeName, "block_rq_complete", completeProgram(l, o.maps, pair, opt.watch)); err != nil {
		return nil, err
	}
	return o, nil
}

// attach links both programs to their tracepoints: issue first, so no
// completion is seen whose issue could have been missed after attaching.
func (o *objects) attach(fail func(string) error) error {
	for _, p := range []struct {
		name string
		prog *ebpf.Program
	}{{issueName, o.issue}, {completeName, o.complete}} {
		if p.prog == nil {
			continue
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: p.prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			return classify("attach "+p.name, err)
		}
		o.links = append(o.links, l)
		if fail != nil {
			if err := fail("attach " + p.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// classify turns kernel refusals into ErrNotSupported where the kernel
// lacks something, and keeps permission errors and everything else as they
// are (a verifier rejection on a kernel that has everything is our bug, not
// a missing feature).
func classify(what string, err error) error {
	switch {
	case errors.Is(err, ebpf.ErrNotSupported):
		return &NotSupportedError{Reason: what, Err: err}
	case errors.Is(err, unix.ENOSYS):
		return &NotSupportedError{Reason: "the kernel has no BPF system call (CONFIG_BPF_SYSCALL)", Err: err}
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("bpflat: %s: loading BPF programs needs CAP_BPF and CAP_PERFMON (or root): %w", what, err)
	}
	return fmt.Errorf("bpflat: %s: %w", what, err)
}

// detach closes the links, leaving programs and maps loaded (tests toggle
// the collector this way to measure its cost).
func (o *objects) detach() error {
	var errs []error
	for i := len(o.links) - 1; i >= 0; i-- {
		errs = append(errs, o.links[i].Close())
	}
	o.links = nil
	return errors.Join(errs...)
}
