// Command lvm reports and changes LVM2 volumes through the lvm package.
//
//	lvm [--journal DIR] [--devices D1,D2] [--system-dir DIR] [--no-dm] [--apply] COMMAND [ARGS]
//
// Commands:
//
//	report                           `lvm fullreport --reportformat json --units b
//	                                 --nosuffix`: the vg, pv, lv, pvseg and seg tables
//	                                 (and the orphan PVs' element), built from the
//	                                 package's Report
//	pvcreate DEV...
//	vgcreate VG DEV...
//	lvcreate VG NAME SIZE [--type linear|striped|raid1] [--stripes N] [--pvs D1,D2]
//	lvresize VG LV SIZE              filesystem-aware (shrink first, grow after)
//	thin VG POOL SIZE [--meta SIZE]  create a thin pool, or extend it when it exists
//	thin VG NAME SIZE --pool POOL    create a thin LV of SIZE (virtual)
//	snapshot VG ORIGIN NAME [SIZE]   SIZE 0 or absent: a thin snapshot
//	remove pv DEV | vg VG | lv VG LV
//
// SIZE is bytes with K/M/G/T (powers of 1024). A command that changes
// anything prints its plan and does nothing unless --apply is given; with
// it every change is a guarded, journaled operation (--journal, default
// /var/lib/eos-storage). --override CODE:REASON lets one refusal through.
//
// Exit status: 0 done, 2 usage, 3 refused, 4 any other failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

const (
	exitOK      = 0
	exitUsage   = 2
	exitRefused = 3
	exitFailed  = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type globals struct {
	journal, devices, sysdir, override string
	noDM, apply                        bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lvm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g globals
	fs.StringVar(&g.journal, "journal", safety.DefaultStateDir, "journal state directory")
	fs.StringVar(&g.devices, "devices", "", "scope lvm to these devices (comma-separated)")
	fs.StringVar(&g.sysdir, "system-dir", "", "LVM_SYSTEM_DIR")
	fs.StringVar(&g.override, "override", "", "CODE:REASON to let one refusal through")
	fs.BoolVar(&g.noDM, "no-dm", false, "metadata only (--driverloaded n)")
	fs.BoolVar(&g.apply, "apply", false, "make the change (default: print the plan)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "usage: lvm [flags] report|pvcreate|vgcreate|lvcreate|lvresize|thin|snapshot|remove ...")
		return exitUsage
	}
	tool, err := newTool(g)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if rest[0] == "report" {
		rep, err := tool.Inventory(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailed
		}
		if err := writeFullReport(stdout, rep); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailed
		}
		return exitOK
	}
	c, err := newCLI(ctx, g, tool)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailed
	}
	defer c.close()
	op, err := c.build(ctx, rest)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitCode(err)
	}
	fmt.Fprintf(stdout, "plan: %s %s\n", op.Kind, op.ID)
	for _, r := range op.Resources {
		fmt.Fprintf(stdout, "  claims %s\n", r)
	}
	if !g.apply {
		fmt.Fprintln(stdout, "dry run: nothing changed (--apply to make the change)")
		return exitOK
	}
	if err := op.Execute(ctx, func(int64, int64, string) {}); err != nil {
		fmt.Fprintln(stderr, err)
		return exitCode(err)
	}
	fmt.Fprintln(stdout, "done")
	return exitOK
}

func exitCode(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, lvm.ErrRefused), errors.Is(err, safety.ErrUnsafe):
		return exitRefused
	}
	return exitFailed
}

type usageError string

func (u usageError) Error() string { return string(u) }

func newTool(g globals) (*lvm.Tool, error) {
	x, err := command.New()
	if err != nil {
		return nil, err
	}
	var opts []lvm.Option
	if g.devices != "" {
		opts = append(opts, lvm.WithDevices(strings.Split(g.devices, ",")...))
	}
	if g.sysdir != "" {
		opts = append(opts, lvm.WithSystemDir(g.sysdir))
	}
	if g.noDM {
		opts = append(opts, lvm.WithoutDeviceMapper())
	}
	return lvm.NewTool(x, opts...)
}

type cli struct {
	g   globals
	j   *safety.Journal
	m   *lvm.Manager
	ops []lvm.OpOption
}

func newCLI(ctx context.Context, g globals, tool *lvm.Tool) (*cli, error) {
	j, err := safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(g.journal)}, lvm.RollForward(tool)...)...)
	if err != nil {
		return nil, err
	}
	fm, err := fsys.New(fsys.WithJournal(j))
	if err != nil {
		j.Close()
		return nil, err
	}
	m, err := lvm.NewManager(tool, lvm.WithJournal(j), lvm.WithFsys(fm))
	if err != nil {
		j.Close()
		return nil, err
	}
	c := &cli{g: g, j: j, m: m}
	if g.override != "" {
		code, reason, ok := strings.Cut(g.override, ":")
		if !ok {
			j.Close()
			return nil, usageError("--override wants CODE:REASON")
		}
		c.ops = append(c.ops, lvm.WithOverride(safety.Code(code), reason, "examples/lvm"))
	}
	return c, nil
}

func (c *cli) close() { c.j.Close() }

// build parses one command into its operation.
func (c *cli) build(ctx context.Context, a []string) (sched.Operation, error) {
	need := func(n int) error {
		if len(a) < n {
			return usageError(fmt.Sprintf("%s: want %d arguments", a[0], n-1))
		}
		return nil
	}
	m, o := c.m, c.ops
	switch a[0] {
	case "pvcreate":
		if err := need(2); err != nil {
			return sched.Operation{}, err
		}
		return m.PVCreateOp(ctx, a[1], o...)
	case "vgcreate":
		if err := need(3); err != nil {
			return sched.Operation{}, err
		}
		return m.VGCreateOp(ctx, a[1], a[2:], lvm.VGOptions{}, o...)
	case "lvcreate":
		f := flag.NewFlagSet("lvcreate", flag.ContinueOnError)
		typ := f.String("type", "linear", "linear, striped or raid1")
		stripes := f.Int("stripes", 0, "stripes")
		pvs := f.String("pvs", "", "PVs to allocate from")
		pos, err := parseInterspersed(f, a[1:])
		if err != nil || len(pos) != 3 {
			return sched.Operation{}, usageError("lvcreate VG NAME SIZE [--type T] [--stripes N] [--pvs D]")
		}
		size, err := parseSize(pos[2])
		if err != nil {
			return sched.Operation{}, err
		}
		spec := lvm.LVSpec{Name: pos[1], Type: lvm.LVType(*typ), SizeBytes: size, Stripes: *stripes}
		if *pvs != "" {
			spec.PVs = strings.Split(*pvs, ",")
		}
		return m.LVCreateOp(ctx, pos[0], spec, o...)
	case "lvresize":
		if err := need(4); err != nil {
			return sched.Operation{}, err
		}
		size, err := parseSize(a[3])
		if err != nil {
			return sched.Operation{}, err
		}
		return m.LVResizeOp(ctx, a[1], a[2], size, o...)
	case "thin":
		f := flag.NewFlagSet("thin", flag.ContinueOnError)
		meta := f.String("meta", "", "metadata size")
		pool := f.String("pool", "", "the pool of a thin LV")
		pos, err := parseInterspersed(f, a[1:])
		if err != nil || len(pos) != 3 {
			return sched.Operation{}, usageError("thin VG POOL SIZE [--meta SIZE] | thin VG NAME SIZE --pool POOL")
		}
		size, err := parseSize(pos[2])
		if err != nil {
			return sched.Operation{}, err
		}
		var mb int64
		if *meta != "" {
			if mb, err = parseSize(*meta); err != nil {
				return sched.Operation{}, err
			}
		}
		if *pool != "" {
			return m.LVCreateOp(ctx, pos[0], lvm.LVSpec{Name: pos[1], Type: lvm.LVThin, Pool: *pool, SizeBytes: size}, o...)
		}
		return m.LVCreateOp(ctx, pos[0], lvm.LVSpec{Name: pos[1], Type: lvm.LVThinPool, SizeBytes: size, MetadataBytes: mb}, o...)
	case "snapshot":
		if err := need(4); err != nil {
			return sched.Operation{}, err
		}
		var size int64
		if len(a) > 4 {
			s, err := parseSize(a[4])
			if err != nil {
				return sched.Operation{}, err
			}
			size = s
		}
		return m.SnapshotOp(ctx, a[1], a[2], a[3], size, o...)
	case "remove":
		if err := need(3); err != nil {
			return sched.Operation{}, err
		}
		switch a[1] {
		case "pv":
			return m.PVRemoveOp(ctx, a[2], o...)
		case "vg":
			return m.VGRemoveOp(ctx, a[2], o...)
		case "lv":
			if err := need(4); err != nil {
				return sched.Operation{}, err
			}
			return m.LVRemoveOp(ctx, a[2], a[3], o...)
		}
	}
	return sched.Operation{}, usageError("unknown command " + strings.Join(a, " "))
}

// parseInterspersed parses flags anywhere among the positional arguments.
func parseInterspersed(f *flag.FlagSet, args []string) ([]string, error) {
	f.SetOutput(io.Discard)
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseSize reads bytes with an optional K/M/G/T suffix (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if n := len(s); n > 0 {
		switch strings.ToUpper(s[n-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, usageError(fmt.Sprintf("size %q: want bytes with K/M/G/T", s))
	}
	return v * mult, nil
}
