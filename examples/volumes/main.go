// Command volumes manages volumes through any registered volume backend:
// the in-tree ones (loopfile, lvm, btrfs, zfs) and
// external plugins given with --plugin.
//
//	volumes [global flags] COMMAND [ARGS]
//
// Commands:
//
//	backends                     every backend and what it can do here (technology × mode), or why not
//	pools                        the backend's pools: capacity, free, over-provisioning
//	list [POOL]                  volumes
//	snapshots [VOLUME-ID]        snapshots
//	create POOL NAME SIZE [--thin] [--from SNAPSHOT-ID] [--tag T]...
//	resize VOLUME-ID SIZE
//	snapshot VOLUME-ID NAME
//	delete ID [--snapshot]       a volume, or with --snapshot a snapshot
//
// Global flags (before or after the command):
//
//	--backend NAME      the backend to use (default: the one --plugin, else loopfile)
//	--plugin PATH       load an external backend executable (repeatable)
//	--plugin-arg ARG    an argument for every --plugin executable (repeatable)
//	--loopfile-dir DIR  the loopfile backend's directory (default /var/lib/eos-storage/loopfile;
//	                    only --apply creates it)
//	--btrfs-dir DIR     the btrfs backend's directory (of a mounted btrfs with quotas on)
//	--lvm-vg VG         the lvm backend's volume group; --lvm-thin-pool LV its thin pool
//	--state DIR         the journal of the lvm backend's changes (default /var/lib/eos-storage/volumes;
//	                    without --apply a temporary one)
//	--timeout D         bound on each plugin call (default 30s)
//	--json              print JSON
//	--apply             make the change; without it a mutating command prints the operations it would run
//	--debug             log at debug level to stderr
//
// SIZE is bytes, or a number with K, M, G or T (powers of 1024). Exit
// status: 0 done, 2 usage, 3 the backend refused (invalid, exists, not
// found, in use, no space, not supported), 4 any other failure.
package main

import (
	"context"
	"encoding/json"
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
	"text/tabwriter"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
	lvmplugin "github.com/CodeMonkeyCybersecurity/eos-storage/plugin/lvm"
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
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(f string, a ...any) error { return usageError{fmt.Sprintf(f, a...)} }

// flags are the global flags; registry reads them.
type flags struct {
	backend     string
	plugins     []string
	pluginArgs  []string
	loopfileDir string
	btrfsDir    string
	lvmVG       string
	lvmThinPool string
	stateDir    string
	callTimeout time.Duration
	asJSON      bool
	apply       bool
	debug       bool
	log         *slog.Logger
}

type cli struct {
	flags
	out io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{out: stdout}
	c.loopfileDir = "/var/lib/eos-storage/loopfile"
	c.stateDir = "/var/lib/eos-storage/volumes"
	err := c.main(ctx, args, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "volumes: %v\nusage: volumes [--backend NAME] [--plugin PATH] [--json] [--apply] backends|pools|list|snapshots|create|resize|snapshot|delete ...\n", err)
		return exitUsage
	case refused(err):
		fmt.Fprintf(stderr, "volumes: %v\n", err)
		return exitRefused
	}
	fmt.Fprintf(stderr, "volumes: %v\n", err)
	return exitFailed
}

func refused(err error) bool {
	if errors.Is(err, plugin.ErrBackend) {
		return false
	}
	for _, s := range []error{plugin.ErrInvalid, plugin.ErrExists, plugin.ErrNotFound, plugin.ErrInUse, plugin.ErrNoSpace, plugin.ErrNotSupported} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.backend, "backend", c.backend, "backend name")
	fs.Func("plugin", "external backend executable (repeatable)", func(v string) error {
		c.plugins = append(c.plugins, v)
		return nil
	})
	fs.Func("plugin-arg", "argument for every --plugin (repeatable)", func(v string) error {
		c.pluginArgs = append(c.pluginArgs, v)
		return nil
	})
	fs.StringVar(&c.loopfileDir, "loopfile-dir", c.loopfileDir, "loopfile backend directory")
	fs.StringVar(&c.btrfsDir, "btrfs-dir", "", "btrfs backend: a directory of a mounted btrfs (with quotas on) to keep subvolume volumes in")
	fs.StringVar(&c.lvmVG, "lvm-vg", "", "lvm backend: the volume group to keep LV volumes in")
	fs.StringVar(&c.lvmThinPool, "lvm-thin-pool", "", "lvm backend: the VG's thin pool for thin volumes")
	fs.StringVar(&c.stateDir, "state", c.stateDir, "journal directory of the lvm backend's changes (with --apply)")
	fs.DurationVar(&c.callTimeout, "timeout", c.callTimeout, "bound on each plugin call")
	fs.BoolVar(&c.asJSON, "json", c.asJSON, "print JSON")
	fs.BoolVar(&c.apply, "apply", c.apply, "make the change")
	fs.BoolVar(&c.debug, "debug", c.debug, "debug logging")
}

// parse parses a command's flags; flags and positional arguments mix.
func (c *cli) parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
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
	if len(pos) < min || len(pos) > max {
		if min == max {
			return nil, usagef("%s wants %d argument(s), got %d", fs.Name(), min, len(pos))
		}
		return nil, usagef("%s wants %d to %d arguments, got %d", fs.Name(), min, max, len(pos))
	}
	return pos, nil
}

func (c *cli) main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("volumes", flag.ContinueOnError)
	c.globalFlags(fs)
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	rest := fs.Args()
	if len(rest) < 1 {
		return usagef("no command")
	}
	cmd, rest := rest[0], rest[1:]
	cf := flag.NewFlagSet(cmd, flag.ContinueOnError)
	var thin, snapshot bool
	var from string
	var tags []string
	var pos []string
	var err error
	switch cmd {
	case "backends", "pools":
		pos, err = c.parse(cf, rest, 0, 0)
	case "list", "snapshots":
		pos, err = c.parse(cf, rest, 0, 1)
	case "create":
		cf.BoolVar(&thin, "thin", false, "thin volume")
		cf.StringVar(&from, "from", "", "clone from this snapshot")
		cf.Func("tag", "tag (repeatable)", func(v string) error { tags = append(tags, v); return nil })
		pos, err = c.parse(cf, rest, 3, 3)
	case "resize", "snapshot":
		pos, err = c.parse(cf, rest, 2, 2)
	case "delete":
		cf.BoolVar(&snapshot, "snapshot", false, "ID is a snapshot")
		pos, err = c.parse(cf, rest, 1, 1)
	default:
		return usagef("unknown command %q", cmd)
	}
	if err != nil {
		return err
	}
	var size int64
	switch cmd {
	case "create":
		size, err = parseSize(pos[2])
	case "resize":
		size, err = parseSize(pos[1])
	}
	if err != nil {
		return err
	}

	level := slog.LevelWarn
	if c.debug {
		level = slog.LevelDebug
	}
	c.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if c.backend == "" {
		c.backend = "loopfile"
	}
	reg, err := registry(ctx, &c.flags)
	if err != nil {
		return err
	}
	defer closeAll(reg)
	if cmd == "backends" {
		return c.backends(ctx, reg)
	}
	if len(c.plugins) == 1 && !explicit(args, "backend") {
		// The one plugin given is the backend meant, whatever it is called.
		names := reg.Names()
		inTree := map[string]bool{loopfile.Name: true, btrfs.Name: true, "zfs": true, lvmplugin.Name: true}
		for _, n := range names {
			if !inTree[n] {
				c.backend = n
			}
		}
	}
	b, err := reg.Lookup(c.backend)
	if err != nil {
		return err
	}
	arg := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	switch cmd {
	case "pools":
		ps, err := b.Pools(ctx)
		if err != nil {
			return err
		}
		return c.pools(ps)
	case "list":
		vs, err := b.Volumes(ctx, arg(0))
		if err != nil {
			return err
		}
		return c.volumes(vs)
	case "snapshots":
		ss, err := b.Snapshots(ctx, arg(0))
		if err != nil {
			return err
		}
		return c.snapshots(ss)
	case "create":
		return c.mutate(ctx, b, cmd)(b.CreateVolume(ctx, plugin.CreateRequest{Pool: pos[0], Name: pos[1],
			SizeBytes: size, Thin: thin, FromSnapshot: from, Tags: tags}))
	case "resize":
		return c.mutate(ctx, b, cmd)(b.ResizeVolume(ctx, pos[0], size))
	case "snapshot":
		return c.mutate(ctx, b, cmd)(b.CreateSnapshot(ctx, pos[0], pos[1]))
	case "delete":
		if snapshot {
			return c.mutate(ctx, b, cmd)(b.DeleteSnapshot(ctx, pos[0]))
		}
		return c.mutate(ctx, b, cmd)(b.DeleteVolume(ctx, pos[0]))
	}
	return nil
}

// explicit reports whether --name was given.
func explicit(args []string, name string) bool {
	for _, a := range args {
		if a == "--"+name || a == "-"+name || strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"=") {
			return true
		}
	}
	return false
}

// parseSize reads bytes with an optional K, M, G or T suffix (powers of
// 1024; "KiB", "MB" and the like are accepted for the same).
func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "B"), "I")
	mul := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mul = 1 << 10
		case 'M':
			mul = 1 << 20
		case 'G':
			mul = 1 << 30
		case 'T':
			mul = 1 << 40
		}
		if mul > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)/mul {
		return 0, usagef("bad size %q: want a positive number of bytes, or one with K, M, G or T", s)
	}
	return v * mul, nil
}

func (c *cli) json(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) table(header string, rows [][]string) error {
	w := tabwriter.NewWriter(c.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

func (c *cli) backends(ctx context.Context, reg *plugin.Registry) error {
	rep := reg.Report(ctx)
	if c.asJSON {
		return c.json(rep)
	}
	var rows [][]string
	for _, r := range rep {
		if r.Error != "" {
			rows = append(rows, []string{r.Name, "-", "-", "no", r.Error})
			continue
		}
		for _, cp := range r.Capabilities {
			avail, why := "yes", ""
			if !cp.Available {
				avail, why = "no", cp.Reason
				if cp.MissingTool != "" {
					why += " (missing " + cp.MissingTool + ")"
				}
			}
			rows = append(rows, []string{r.Name, string(cp.Technology), string(cp.Mode), avail, why})
		}
	}
	return c.table("BACKEND\tTECHNOLOGY\tMODE\tAVAILABLE\tREASON", rows)
}

func (c *cli) pools(ps []plugin.Pool) error {
	if c.asJSON {
		return c.json(nonNil(ps))
	}
	var rows [][]string
	for _, p := range ps {
		rows = append(rows, []string{p.Name, p.Backend, fmt.Sprint(p.CapacityBytes), fmt.Sprint(p.FreeBytes),
			fmt.Sprint(p.AllocatedBytes), strconv.FormatFloat(p.OverProvisioning, 'f', 2, 64)})
	}
	return c.table("POOL\tBACKEND\tCAPACITY\tFREE\tALLOCATED\tOVERPROV", rows)
}

func (c *cli) volumes(vs []plugin.Volume) error {
	if c.asJSON {
		return c.json(nonNil(vs))
	}
	var rows [][]string
	for _, v := range vs {
		where := v.Device
		if where == "" {
			where = v.Path
		}
		rows = append(rows, []string{v.ID, v.Pool, fmt.Sprint(v.SizeBytes), fmt.Sprint(v.UsedBytes), where, v.SnapshotOf})
	}
	return c.table("ID\tPOOL\tSIZE\tUSED\tDEVICE/PATH\tFROM", rows)
}

func (c *cli) snapshots(ss []plugin.Snapshot) error {
	if c.asJSON {
		return c.json(nonNil(ss))
	}
	var rows [][]string
	for _, s := range ss {
		rows = append(rows, []string{s.ID, s.SourceID, fmt.Sprint(s.Size), fmt.Sprint(s.ReadOnly)})
	}
	return c.table("ID\tSOURCE\tSIZE\tREADONLY", rows)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// opJSON is an operation as --json prints it.
type opJSON struct {
	ID           string   `json:"id"`
	Kind         string   `json:"kind"`
	Resources    []string `json:"resources"`
	Dependencies []string `json:"dependencies,omitempty"`
	Undoable     bool     `json:"undoable"`
}

type resultJSON struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

type planJSON struct {
	Backend    string       `json:"backend"`
	Command    string       `json:"command"`
	Applied    bool         `json:"applied"`
	Operations []opJSON     `json:"operations"`
	Results    []resultJSON `json:"results,omitempty"`
}

// mutate prints the operations a mutating call returned and, with
// --apply, runs them as one plan.
func (c *cli) mutate(ctx context.Context, b plugin.Backend, cmd string) func([]sched.Operation, error) error {
	return func(ops []sched.Operation, err error) error {
		if err != nil {
			return err
		}
		out := planJSON{Backend: b.Name(), Command: cmd, Applied: c.apply, Operations: []opJSON{}}
		for _, op := range ops {
			o := opJSON{ID: op.ID, Kind: op.Kind, Dependencies: op.Dependencies, Undoable: op.Rollback != nil, Resources: []string{}}
			for _, r := range op.Resources {
				o.Resources = append(o.Resources, r.String())
			}
			out.Operations = append(out.Operations, o)
		}
		var runErr error
		if c.apply && len(ops) > 0 {
			var rep *sched.Report
			rep, runErr = plugin.Apply(ctx, nil, ops)
			if rep != nil {
				for _, r := range rep.Results {
					rj := resultJSON{ID: r.ID, State: r.State.String()}
					if r.Err != nil {
						rj.Error = r.Err.Error()
					}
					out.Results = append(out.Results, rj)
				}
			}
		}
		if c.asJSON {
			if err := c.json(out); err != nil {
				return err
			}
			return runErr
		}
		switch {
		case len(ops) == 0:
			fmt.Fprintln(c.out, "nothing to do: the backend says the desired state holds")
		case !c.apply:
			fmt.Fprintf(c.out, "plan (dry run; --apply runs it): %d operation(s)\n", len(ops))
		default:
			fmt.Fprintf(c.out, "applied %d operation(s)\n", len(ops))
		}
		states := map[string]string{}
		for _, r := range out.Results {
			states[r.ID] = r.State
		}
		var rows [][]string
		for _, o := range out.Operations {
			state := states[o.ID]
			rows = append(rows, []string{o.ID, o.Kind, strings.Join(o.Resources, ", "), strings.Join(o.Dependencies, ","), state})
		}
		if len(rows) > 0 {
			if err := c.table("ID\tKIND\tRESOURCES\tAFTER\tSTATE", rows); err != nil {
				return err
			}
		}
		return runErr
	}
}
