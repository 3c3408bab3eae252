// Command preflight asks package safety whether an operation on a block
// device would be allowed, and why not.
//
//	preflight [--json] [--protect DEV]... [--tool NAME]... [--override CODE=REASON]...
//	          [--min-size BYTES] [--state-dir DIR] DEVICE [--op format|partition|resize|wipe]
//
// It prints the report (JSON with --json) and exits 0 when the operation is
// allowed, 1 when it is refused, 2 on a usage error or a failure.
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
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preflight", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	op := fs.String("op", "format", "operation: format, partition, resize or wipe")
	var protect, tools, overrides multi
	fs.Var(&protect, "protect", "also protect this device (repeatable)")
	fs.Var(&tools, "tool", "the operation needs this program (repeatable)")
	fs.Var(&overrides, "override", "CODE=REASON: let one refusal code through, saying why (repeatable; never all at once)")
	minSize := fs.Int64("min-size", 0, "refuse devices smaller than this many bytes")
	stateDir := fs.String("state-dir", "", "also refuse what this journal shows locked down or awaiting recovery (read-only; e.g. "+safety.DefaultStateDir+")")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: preflight [--json] DEVICE [--op format|partition|resize|wipe]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the device.
	var dev []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 2
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		dev = append(dev, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(dev) != 1 {
		fs.Usage()
		return 2
	}
	o := safety.Op(*op)
	if !o.Valid() {
		fmt.Fprintf(stderr, "preflight: unknown --op %q\n", *op)
		return 2
	}
	opts := []safety.CheckOption{safety.WithProtected(protect...)}
	if len(tools) > 0 {
		opts = append(opts, safety.WithTools(tools...))
	}
	for _, ov := range overrides {
		code, why, ok := strings.Cut(ov, "=")
		if !ok || why == "" {
			fmt.Fprintf(stderr, "preflight: --override wants CODE=REASON, got %q\n", ov)
			return 2
		}
		opts = append(opts, safety.WithOverride(safety.Code(code), why, os.Getenv("USER")))
	}
	if *stateDir != "" {
		snap, err := safety.ReadJournal(ctx, *stateDir)
		if err != nil {
			fmt.Fprintf(stderr, "preflight: %v\n", err)
			return 2
		}
		opts = append(opts, safety.WithSnapshot(snap))
	}
	if *minSize > 0 {
		opts = append(opts, safety.WithMinSize(*minSize))
	}
	rep, err := safety.Check(ctx, dev[0], o, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "preflight: %v\n", err)
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "preflight: %v\n", err)
			return 2
		}
	} else {
		fmt.Fprint(stdout, rep.String())
	}
	if !rep.Allowed {
		return 1
	}
	return 0
}
