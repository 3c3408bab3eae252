// Command partition reads, verifies, repairs and edits GPT and dos partition
// tables on block devices and image files.
//
//	partition [--journal DIR] [--sector-size N] TARGET COMMAND [ARGS]
//
// Commands:
//
//	show [--json]                      the table (--json: the JSON of sfdisk --json)
//	create-table gpt|dos               a new, empty table
//	add [--start S] --size SIZE [--type T] [--name N] [--logical]
//	delete N
//	resize N --size SIZE
//	verify                             exit 1 and the problems when any
//	repair                             rewrite a damaged copy from the good one
//	recover                            settle interrupted writes from the journal (needs --journal)
//
// A command that would write prints its plan and writes nothing unless
// --apply is given (before or after the command). On a block device the
// safety preflight runs first: a partition the kernel would have to delete,
// move or resize must not be mounted, swap or held, and a new table needs a
// positively empty disk; --override CODE:REASON lets one refusal through. SIZE takes units (MiB,
// GiB, ...), a percentage of the disk ("25%") or "rest".
//
// Exit status: 0 done, 1 verify found problems, 2 usage, 3 refused by a
// safety check, 4 any other failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
	"github.com/CodeMonkeyCybersecurity/eos-storage/partsafety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

const (
	exitOK       = 0
	exitProblems = 1
	exitUsage    = 2
	exitRefused  = 3
	exitFailed   = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(f string, a ...any) error { return usageError{fmt.Sprintf(f, a...)} }

type cli struct {
	journalDir string
	sectorSize int
	apply      bool
	verbose    bool
	overrides  []safety.CheckOption
	target     string
	out, errw  io.Writer
	journal    *safety.Journal
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{out: stdout, errw: stderr}
	err := c.main(ctx, args)
	var ue usageError
	var refused *partsafety.RefusedError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errProblems):
		return exitProblems
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "partition: %v\nusage: partition [--journal DIR] [--sector-size N] [--apply] TARGET show|create-table|add|delete|resize|verify|repair|recover ...\n", err)
		return exitUsage
	case errors.As(err, &refused), errors.Is(err, partition.ErrUnsafe), errors.Is(err, safety.ErrUnsafe):
		fmt.Fprintf(stderr, "partition: %v\n", err)
		return exitRefused
	}
	fmt.Fprintf(stderr, "partition: %v\n", err)
	return exitFailed
}

var errProblems = errors.New("problems found")

func (c *cli) main(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("partition", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.journalDir, "journal", "", "journal state directory (before-images and intent)")
	fs.IntVar(&c.sectorSize, "sector-size", 0, "logical sector size of an image file (512 or 4096)")
	fs.BoolVar(&c.apply, "apply", false, "write (otherwise only print the plan)")
	fs.BoolVar(&c.verbose, "v", false, "log each write")
	fs.Func("override", "let one preflight refusal through: CODE:REASON (e.g. not_empty:replacing a stale table)", func(v string) error {
		code, reason, ok := strings.Cut(v, ":")
		if !ok || code == "" || strings.TrimSpace(reason) == "" {
			return errors.New("--override wants CODE:REASON")
		}
		by := os.Getenv("SUDO_USER")
		if by == "" {
			by = os.Getenv("USER")
		}
		c.overrides = append(c.overrides, safety.WithOverride(safety.Code(code), reason, by))
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	rest := fs.Args()
	if len(rest) < 2 {
		return usagef("need TARGET and COMMAND")
	}
	c.target, rest = rest[0], rest[1:]
	cmd, cargs := rest[0], rest[1:]

	var opts []partition.Option
	if c.sectorSize != 0 {
		opts = append(opts, partition.WithSectorSize(c.sectorSize))
	}
	if c.verbose {
		opts = append(opts, partition.WithLogger(slog.New(slog.NewTextHandler(c.errw, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	if c.journalDir != "" {
		j, err := safety.OpenJournal(ctx, safety.WithStateDir(c.journalDir), partsafety.RollForward())
		if err != nil {
			return err
		}
		defer j.Close()
		c.journal = j
		opts = append(opts, partition.WithJournal(partsafety.Journal(j)))
	}
	if cmd == "recover" {
		return c.recover(ctx)
	}
	if cmd == "show" || cmd == "verify" {
		opts = append(opts, partition.WithReadOnly())
	}
	d, err := partition.Open(ctx, c.target, append(opts, crashHook()...)...)
	if err != nil {
		return err
	}
	defer d.Close()
	switch cmd {
	case "show":
		return c.show(ctx, d, cargs)
	case "verify":
		return c.verify(ctx, d, cargs)
	case "repair":
		return c.repair(ctx, d, cargs)
	case "create-table", "add", "delete", "resize":
		return c.edit(ctx, d, cmd, cargs)
	}
	return usagef("unknown command %q", cmd)
}

// parse parses a command's flags; --apply is accepted after the command too.
func (c *cli) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.BoolVar(&c.apply, "apply", c.apply, "write")
	// Let flags and positional arguments mix (delete 2 --apply).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

func (c *cli) show(ctx context.Context, d *partition.Disk, args []string) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print sfdisk --json's JSON")
	if _, err := c.parse(fs, args); err != nil {
		return err
	}
	t, err := d.Read(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := t.Dump(c.target).MarshalIndent()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "%s\n", b)
		return err
	}
	printTable(c.out, c.target, t)
	return nil
}

func printTable(w io.Writer, target string, t *partition.Table) {
	dump := t.Dump(target).PartitionTable
	fmt.Fprintf(w, "%s: label %s, id %s, %d sectors of %d bytes", target, dump.Label, dump.ID, t.Sectors, t.SectorSize)
	if t.Label == partition.LabelGPT {
		fmt.Fprintf(w, ", usable %d-%d", t.FirstUsable, t.LastUsable)
		if t.Source == partition.FromBackup {
			fmt.Fprint(w, " (read from the BACKUP: the primary is damaged, run repair)")
		}
	}
	fmt.Fprintln(w)
	for _, p := range t.Partitions {
		typ := fmt.Sprintf("%02x", p.MBRType)
		if t.Label == partition.LabelGPT {
			typ = p.Type.String()
			if n := partition.TypeName(p.Type); n != "" {
				typ = n
			}
		}
		fmt.Fprintf(w, "%3d  start %10d  size %10d (%s)  %s", p.Number, p.Start, p.Size, human(p.Size*uint64(t.SectorSize)), typ)
		if p.Name != "" {
			fmt.Fprintf(w, "  %q", p.Name)
		}
		if p.Bootable {
			fmt.Fprint(w, "  boot")
		}
		fmt.Fprintln(w)
	}
}

func human(b uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(b)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[i]
}

func (c *cli) verify(ctx context.Context, d *partition.Disk, args []string) error {
	if _, err := c.parse(flag.NewFlagSet("verify", flag.ContinueOnError), args); err != nil {
		return err
	}
	r, err := d.Verify(ctx)
	for _, p := range r.Problems {
		fmt.Fprintf(c.out, "problem: %v\n", p)
	}
	if err != nil {
		return err
	}
	if !r.OK() {
		fmt.Fprintf(c.out, "%d problems found\n", len(r.Problems))
		return errProblems
	}
	fmt.Fprintf(c.out, "%s table: no problems found\n", r.Label)
	return nil
}

func (c *cli) repair(ctx context.Context, d *partition.Disk, args []string) error {
	if _, err := c.parse(flag.NewFlagSet("repair", flag.ContinueOnError), args); err != nil {
		return err
	}
	r, err := d.Verify(ctx)
	if err != nil && !errors.Is(err, partition.ErrUnreadable) {
		return err
	}
	for _, p := range r.Problems {
		fmt.Fprintf(c.out, "problem: %v\n", p)
	}
	if err == nil && r.OK() {
		fmt.Fprintln(c.out, "nothing to repair")
		return nil
	}
	if !c.apply {
		fmt.Fprintln(c.out, "plan: rewrite both GPT copies and the protective MBR from the good copy")
		fmt.Fprintln(c.out, "dry run: nothing written (add --apply)")
		return nil
	}
	if _, _, err := d.Repair(ctx); err != nil {
		return err
	}
	fmt.Fprintln(c.out, "repaired")
	return nil
}

func (c *cli) edit(ctx context.Context, d *partition.Disk, cmd string, args []string) error {
	var next *partition.Table
	switch cmd {
	case "create-table":
		pos, err := c.parse(flag.NewFlagSet(cmd, flag.ContinueOnError), args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("create-table gpt|dos")
		}
		switch partition.Label(pos[0]) {
		case partition.LabelGPT:
			next, err = partition.NewGPT(d.Geometry())
		case partition.LabelDOS:
			next, err = partition.NewDOS(d.Geometry())
		default:
			return usagef("create-table: label %q is not gpt or dos", pos[0])
		}
		if err != nil {
			return err
		}
	default:
		cur, err := d.Read(ctx)
		if err != nil {
			return err
		}
		next = cur.Clone()
		if err := c.change(next, cmd, args, d.Geometry().SectorSize); err != nil {
			return err
		}
	}
	steps, err := d.Plan(ctx, next)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "new table:")
	printTable(c.out, c.target, next)
	fmt.Fprintln(c.out, "plan (each write synced before the next):")
	for i, s := range steps {
		fmt.Fprintf(c.out, "  %d. write %s: %d bytes at offset %d\n", i+1, s.What, len(s.Data), s.Offset)
	}
	if d.IsBlockDevice() {
		kp, err := d.KernelPlan(ctx, next)
		if err != nil {
			return err
		}
		for _, k := range kp {
			fmt.Fprintf(c.out, "  kernel: BLKPG %s\n", k)
		}
	}
	if !c.apply {
		fmt.Fprintln(c.out, "dry run: nothing written (add --apply)")
		return nil
	}
	opts := c.overrides
	if c.journal != nil {
		opts = append(opts, safety.WithJournal(c.journal))
	}
	if err := partsafety.Preflight(ctx, d, next, opts...); err != nil {
		return err
	}
	if err := d.Write(ctx, next); err != nil {
		return err
	}
	if d.IsBlockDevice() {
		if _, err := d.SyncKernel(ctx, next); err != nil {
			return err
		}
	}
	fmt.Fprintln(c.out, "written")
	return nil
}

func (c *cli) change(t *partition.Table, cmd string, args []string, ss int) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	size := fs.String("size", "", "size: 512MiB, 2GiB, 25%, rest")
	switch cmd {
	case "add":
		start := fs.Uint64("start", 0, "start sector (rounded up to the alignment)")
		typ := fs.String("type", "linux", "type: linux, efi, swap, lvm, raid, bios, home, a GUID or an sgdisk code")
		name := fs.String("name", "", "GPT partition name")
		logical := fs.Bool("logical", false, "dos: a logical partition inside the extended one")
		if _, err := c.parse(fs, args); err != nil {
			return err
		}
		if *size == "" {
			return usagef("add needs --size")
		}
		sz, err := partition.ParseSize(*size, ss)
		if err != nil {
			return err
		}
		_, err = t.Add(partition.AddSpec{Start: *start, Size: sz, Type: *typ, Name: *name, Logical: *logical})
		return err
	case "delete":
		pos, err := c.parse(fs, args)
		if err != nil {
			return err
		}
		n, err := number(pos)
		if err != nil {
			return err
		}
		return t.Delete(n)
	case "resize":
		pos, err := c.parse(fs, args)
		if err != nil {
			return err
		}
		n, err := number(pos)
		if err != nil {
			return err
		}
		if *size == "" {
			return usagef("resize needs --size")
		}
		sz, err := partition.ParseSize(*size, ss)
		if err != nil {
			return err
		}
		_, err = t.Resize(n, sz)
		return err
	}
	return usagef("unknown command %q", cmd)
}

func number(pos []string) (int, error) {
	if len(pos) != 1 {
		return 0, usagef("need one partition number")
	}
	n, err := strconv.Atoi(pos[0])
	if err != nil || n < 1 {
		return 0, usagef("partition number %q", pos[0])
	}
	return n, nil
}

func (c *cli) recover(ctx context.Context) error {
	if c.journal == nil {
		return usagef("recover needs --journal DIR")
	}
	rs, err := c.journal.Recover(ctx)
	for _, r := range rs {
		state := r.Outcome.State()
		if r.Err != nil {
			fmt.Fprintf(c.out, "%s on %s: not recovered: %v\n", r.Entry.Intent.Op, r.Entry.Intent.Target.Path, r.Err)
			continue
		}
		fmt.Fprintf(c.out, "%s on %s after step %q: %s (%s table)\n", r.Entry.Intent.Op, r.Entry.Intent.Target.Path, r.Entry.LastStep(), r.Outcome, state)
		if r.Entry.Intent.Op == partsafety.Op {
			c.syncAfterRecover(ctx, r.Entry.Intent.Target.Path)
		}
	}
	if len(rs) == 0 {
		fmt.Fprintln(c.out, "nothing to recover")
	}
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// syncAfterRecover tells the kernel about the table recovery left on a block
// device; the interrupted command never got that far. A failure is reported
// with its advice but does not fail the recovery, which did its job.
func (c *cli) syncAfterRecover(ctx context.Context, path string) {
	d, err := partition.Open(ctx, path)
	if err != nil {
		fmt.Fprintf(c.errw, "partition: after recovery: %v\n", err)
		return
	}
	defer d.Close()
	if !d.IsBlockDevice() {
		return
	}
	t, err := d.Read(ctx)
	if err == nil {
		var changes []partition.KernelChange
		changes, err = d.SyncKernel(ctx, t)
		for _, ch := range changes {
			fmt.Fprintf(c.out, "  kernel: BLKPG %s\n", ch)
		}
	}
	if err != nil {
		fmt.Fprintf(c.errw, "partition: after recovery, kernel not updated: %v\n", err)
	}
}
