// Command storage is the Engine from the command line:
//
//	storage inventory [--json]          the machine as one tree (or JSON); works as non-root,
//	                                    listing what it could not read
//	storage plan -f spec.json [--json]  the stages and the reason of each action (a dry run)
//	storage apply -f spec.json          plan, then run it under the journal, a progress bar per
//	                                    operation on a terminal
//	storage recover                     finish or undo what a crash interrupted
//	storage journal [--json]            what happened, newest first
//
// --journal DIR sets the journal's state directory (default
// /var/lib/eos-storage/journal). Exit status: 0 done, 2 usage, 3 the spec
// was refused (every reason printed), 4 any other failure.
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
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/schollz/progressbar/v3"

	storage "github.com/CodeMonkeyCybersecurity/eos-storage"
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
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, out, errw io.Writer) int {
	err := dispatch(ctx, args, out, errw)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(errw, "storage:", err)
		fmt.Fprintln(errw, "usage: storage inventory|plan|apply|recover|journal [flags] (-h for flags)")
		return exitUsage
	case errors.Is(err, flag.ErrHelp):
		return exitUsage
	case errors.Is(err, storage.ErrRefused):
		var re *storage.RefusedError
		if errors.As(err, &re) {
			fmt.Fprintf(errw, "storage: the spec cannot hold (%d reasons):\n", len(re.Reasons))
			for _, r := range re.Reasons {
				fmt.Fprintf(errw, "  - %s\n", r)
			}
		} else {
			fmt.Fprintln(errw, "storage:", err)
		}
		return exitRefused
	default:
		fmt.Fprintln(errw, "storage:", err)
		return exitFailed
	}
}

type flags struct {
	fs         *flag.FlagSet
	asJSON     bool
	specFile   string
	journalDir string
	workers    int
}

func parse(name string, args []string, errw io.Writer, spec bool) (*flags, error) {
	f := &flags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(errw)
	f.fs.BoolVar(&f.asJSON, "json", false, "print JSON")
	f.fs.StringVar(&f.journalDir, "journal", "/var/lib/eos-storage/journal", "journal state directory")
	if spec {
		f.fs.StringVar(&f.specFile, "f", "", "the spec (JSON)")
		f.fs.IntVar(&f.workers, "workers", 0, "operations run at once (0: the scheduler's default)")
	}
	if err := f.fs.Parse(args); err != nil {
		return nil, err
	}
	if f.fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("%s: unexpected argument %q", name, f.fs.Arg(0))}
	}
	if spec && f.specFile == "" {
		return nil, usageError{name + ": -f spec.json is required"}
	}
	return f, nil
}

func dispatch(ctx context.Context, args []string, out, errw io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "inventory":
		f, err := parse(cmd, rest, errw, false)
		if err != nil {
			return err
		}
		return inventory(ctx, f, out)
	case "plan", "apply":
		f, err := parse(cmd, rest, errw, true)
		if err != nil {
			return err
		}
		return planApply(ctx, f, cmd == "apply", out, errw)
	case "recover", "journal":
		f, err := parse(cmd, rest, errw, false)
		if err != nil {
			return err
		}
		return journalCmd(ctx, f, cmd == "recover", out)
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func inventory(ctx context.Context, f *flags, out io.Writer) error {
	e, err := storage.New()
	if err != nil {
		return err
	}
	defer e.Close()
	inv, err := e.Inventory(ctx)
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(inv)
	}
	return storage.WriteTree(out, inv)
}

func openJournal(ctx context.Context, dir string) (*safety.Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	opts := append([]safety.Option{safety.WithStateDir(dir)}, storage.JournalOptions()...)
	return safety.OpenJournal(ctx, opts...)
}

func planApply(ctx context.Context, f *flags, apply bool, out, errw io.Writer) error {
	r, err := os.Open(f.specFile)
	if err != nil {
		return err
	}
	spec, err := storage.ReadSpec(r)
	r.Close()
	if err != nil {
		return err
	}
	var bars *progress
	sopts := []sched.Option{}
	if f.workers > 0 {
		sopts = append(sopts, sched.WithWorkers(f.workers))
	}
	if apply {
		bars = newProgress(errw)
		sopts = append(sopts, sched.WithSubscriber(bars.event))
	}
	s, err := sched.New(sopts...)
	if err != nil {
		return err
	}
	opts := []storage.Option{storage.WithScheduler(s)}
	if apply {
		j, err := openJournal(ctx, f.journalDir)
		if err != nil {
			return err
		}
		defer j.Close()
		opts = append(opts, storage.WithJournal(j))
	}
	e, err := storage.New(opts...)
	if err != nil {
		return err
	}
	defer e.Close()
	p, err := e.Plan(ctx, spec)
	if err != nil {
		return err
	}
	if f.asJSON && !apply {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	if err := p.WriteStages(out); err != nil || !apply || p.Empty() {
		return err
	}
	rep, err := e.Apply(ctx, p)
	bars.finish()
	if rep != nil {
		for _, res := range rep.Results {
			line := fmt.Sprintf("%-10s %s", res.State, res.ID)
			if res.Err != nil {
				line += ": " + res.Err.Error()
			}
			fmt.Fprintln(out, line)
		}
	}
	return err
}

func journalCmd(ctx context.Context, f *flags, recover bool, out io.Writer) error {
	j, err := openJournal(ctx, f.journalDir)
	if err != nil {
		return err
	}
	defer j.Close()
	if recover {
		e, err := storage.New(storage.WithJournal(j))
		if err != nil {
			return err
		}
		defer e.Close()
		rs, err := e.Recover(ctx)
		for _, r := range rs {
			fmt.Fprintf(out, "%s %s: %s\n", r.Entry.ID, r.Entry.Intent.Op, r.Outcome)
		}
		if err == nil && len(rs) == 0 {
			fmt.Fprintln(out, "nothing to recover")
		}
		return err
	}
	es := j.Entries()
	sort.SliceStable(es, func(a, b int) bool { return es[a].Started.After(es[b].Started) })
	if f.asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(es)
	}
	for _, e := range es {
		desc := e.Intent.Description
		if desc == "" {
			desc = e.Intent.Op
		}
		fmt.Fprintf(out, "%s  %-10s %-20s %s  %s\n", e.Started.Format("2006-01-02 15:04:05"), e.Outcome, e.Intent.Op, e.Intent.Target.Path, desc)
	}
	return nil
}

// progress shows one bar per running operation on a terminal, and plain
// lines otherwise.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	bars map[string]*progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, bars: map[string]*progressbar.ProgressBar{}}
}

func (p *progress) event(ev sched.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := ev.ID
	desc := fmt.Sprintf("%s %s", ev.Type, id)
	if !p.tty {
		if ev.Type != sched.EventProgress {
			fmt.Fprintln(p.w, strings.TrimSpace(desc))
		}
		return
	}
	b := p.bars[id]
	if b == nil {
		b = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(id),
			progressbar.OptionSpinnerType(14), progressbar.OptionClearOnFinish())
		p.bars[id] = b
	}
	switch ev.Type {
	case sched.EventProgress:
		if ev.Total > 0 {
			b.ChangeMax64(ev.Total)
			_ = b.Set64(ev.Done)
		} else {
			_ = b.Add(1)
		}
		if ev.Note != "" {
			b.Describe(id + ": " + ev.Note)
		}
	case sched.EventStarted:
		_ = b.Add(0)
	default:
		_ = b.Finish()
		fmt.Fprintln(p.w, desc)
		delete(p.bars, id)
	}
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, b := range p.bars {
		_ = b.Finish()
		delete(p.bars, id)
	}
}
