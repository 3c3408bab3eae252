// Command fs inspects, makes, checks, repairs, resizes, relabels, freezes
// and mounts filesystems (ext2/3/4, xfs, btrfs, vfat, swap) through the
// fsys package.
//
//	fs [--journal DIR] [--apply] [--json] COMMAND [ARGS]
//
// Commands:
//
//	info DEV                     type, UUID, label, sizes, state, mounts (--json: the Info object)
//	make DEV TYPE [--label L] [--uuid U] [--block-size N] [--sector-size N]
//	             [--feature F]... [--nodiscard] [--force] [--page-size N]
//	check DEV                    read-only check; exit 1 unless clean
//	repair DEV [--yes] [--override-dangerous]
//	resize DEV SIZE              SIZE: bytes with K/M/G/T (powers of 1024) or "max"
//	min-size DEV                 the smallest size a shrink may reach
//	label DEV LABEL
//	uuid DEV UUID
//	freeze MOUNTPOINT            stays frozen until thaw, as fsfreeze -f
//	thaw MOUNTPOINT
//	mount DEV DIR [--type T] [--ro] [--options a,b]
//	umount DIR [--lazy]
//	features TYPE                the capability matrix and the tools present
//	recover                      settle mutations a crash interrupted, from the journal
//	subvolume|snapshot|scrub|balance|device|qgroup ...
//	                             a mounted btrfs's volumes and jobs (btrfs.go)
//
// A command that changes anything prints its plan and does nothing unless
// --apply is given. Every change runs the safety preflight and is
// journaled in --journal (default /var/lib/eos-storage); --override
// CODE:REASON lets one preflight refusal through.
//
// Exit status: 0 done, 1 the check found problems, 2 usage, 3 refused
// (preflight, or a resize the filesystem cannot do), 4 any other failure.
package main

import (
	"context"
	"encoding/json"
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
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/quota"
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

var errProblems = errors.New("problems found")

type cli struct {
	journalDir string
	apply      bool
	asJSON     bool
	overrides  []fsys.OpOption
	out, errw  io.Writer
	m          *fsys.Manager
	journal    *safety.Journal // open while a mutating command runs
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{out: stdout, errw: stderr}
	err := c.main(ctx, args)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errProblems):
		return exitProblems
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "fs: %v\nusage: fs [--journal DIR] [--apply] [--json] info|make|check|repair|resize|min-size|label|uuid|freeze|thaw|mount|umount|features|recover ...\n", err)
		return exitUsage
	case errors.Is(err, fsys.ErrRefused), errors.Is(err, safety.ErrUnsafe), errors.Is(err, fsys.ErrMounted):
		fmt.Fprintf(stderr, "fs: %v\n", err)
		return exitRefused
	}
	fmt.Fprintf(stderr, "fs: %v\n", err)
	return exitFailed
}

// globalFlags are accepted before and after the command.
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.journalDir, "journal", c.journalDir, "journal state directory")
	fs.BoolVar(&c.apply, "apply", c.apply, "make the change (otherwise only print the plan)")
	fs.BoolVar(&c.asJSON, "json", c.asJSON, "print JSON")
	fs.Func("override", "let one preflight refusal through: CODE:REASON", func(v string) error {
		code, reason, ok := strings.Cut(v, ":")
		if !ok || code == "" || strings.TrimSpace(reason) == "" {
			return errors.New("--override wants CODE:REASON")
		}
		by := os.Getenv("SUDO_USER")
		if by == "" {
			by = os.Getenv("USER")
		}
		c.overrides = append(c.overrides, fsys.WithOverride(safety.Code(code), reason, by))
		return nil
	})
}

// parse parses a command's flags; flags and positional arguments may mix.
func (c *cli) parse(fs *flag.FlagSet, args []string, npos int) ([]string, error) {
	c.globalFlags(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) != npos {
		return nil, usagef("%s wants %d argument(s), got %d", fs.Name(), npos, len(pos))
	}
	return pos, nil
}

func (c *cli) main(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fs", flag.ContinueOnError)
	c.globalFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	rest := fs.Args()
	if len(rest) < 1 {
		return usagef("need a COMMAND")
	}
	cmd, cargs := rest[0], rest[1:]
	h, ok := commands[cmd]
	if !ok {
		return usagef("unknown command %q", cmd)
	}
	defer func() {
		if c.journal != nil {
			c.journal.Close()
		}
	}()
	return h(c, ctx, cargs)
}

// manager opens the Manager once per run; a mutating command with --apply
// gets the journal, which main closes when the command returns.
func (c *cli) manager(ctx context.Context, mutating bool) error {
	if c.m != nil {
		return nil
	}
	opts := []fsys.Option{}
	if hook := crashHook(); hook != nil {
		opts = append(opts, hook)
	}
	if mutating && c.apply {
		dir := c.journalDir
		if dir == "" {
			dir = safety.DefaultStateDir
		}
		roll := append(append(fsys.RollForward(), btrfs.RollForward()...), quota.RollForward()...)
		j, err := safety.OpenJournal(ctx, append(roll, safety.WithStateDir(dir))...)
		if err != nil {
			return err
		}
		c.journal = j
		opts = append(opts, fsys.WithJournal(j))
	}
	m, err := fsys.New(opts...)
	if err != nil {
		return err
	}
	c.m = m
	return nil
}

func (c *cli) print(v any, text func(w io.Writer)) error {
	if c.asJSON {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(c.out)
	return nil
}

// plan prints what would be done without --apply and says whether to go on.
func (c *cli) plan(format string, a ...any) bool {
	if c.apply {
		return true
	}
	fmt.Fprintf(c.out, "would "+format+" (add --apply to do it)\n", a...)
	return false
}

// parseSize reads a byte count with an optional K, M, G or T suffix
// (powers of 1024; "KiB" and "K" alike) or "max" (devBytes).
func parseSize(s string, devBytes int64) (int64, error) {
	if s == "max" {
		return devBytes, nil
	}
	mult := int64(1)
	u := strings.ToUpper(s)
	u = strings.TrimSuffix(strings.TrimSuffix(u, "B"), "I")
	if u != "" {
		switch u[len(u)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			u = u[:len(u)-1]
		}
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, usagef("bad size %q", s)
	}
	return n * mult, nil
}
