package command

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Replayer is a Runner that serves recorded fixtures instead of running
// anything. A command is matched exactly on tool and args; repeats of one
// command are served in their recorded order, independently of other
// commands (so callers running commands concurrently replay
// deterministically). The matched fixture's environment and stdin must equal
// the call's too. It is safe for concurrent use.
type Replayer struct {
	mu      sync.Mutex
	entries []*replayEntry            // in the order given
	byArgv  map[string][]*replayEntry // per command, in serving order
}

type replayEntry struct {
	f    Fixture
	used bool
}

// NewReplayer serves fixtures. Two fixtures of one command with the same
// non-zero Seq are an error.
func NewReplayer(fixtures ...Fixture) (*Replayer, error) {
	r := &Replayer{byArgv: map[string][]*replayEntry{}}
	for _, f := range fixtures {
		if f.Tool == "" {
			return nil, fmt.Errorf("command: replay: fixture %s has no tool", f.File)
		}
		if f.Missing && (f.Code != 0 || len(f.Stdout) > 0 || len(f.Stderr) > 0) {
			return nil, fmt.Errorf("command: replay: fixture %s of a missing tool has output", fixtureLabel(&f))
		}
		f.Args = slices.Clone(f.Args)
		e := &replayEntry{f: f}
		r.entries = append(r.entries, e)
		k := argvKey(f.Tool, f.Args)
		r.byArgv[k] = append(r.byArgv[k], e)
	}
	for _, q := range r.byArgv {
		sort.SliceStable(q, func(i, j int) bool { return q[i].f.Seq < q[j].f.Seq })
		for i := 1; i < len(q); i++ {
			if q[i].f.Seq != 0 && q[i].f.Seq == q[i-1].f.Seq {
				return nil, fmt.Errorf("command: replay: fixtures %s and %s both have seq %d", fixtureLabel(&q[i-1].f), fixtureLabel(&q[i].f), q[i].f.Seq)
			}
		}
	}
	return r, nil
}

// ReplayDir serves the fixtures in dir (see LoadFixtures).
func ReplayDir(dir string) (*Replayer, error) {
	fs, err := LoadFixtures(dir)
	if err != nil {
		return nil, err
	}
	return NewReplayer(fs...)
}

func fixtureLabel(f *Fixture) string {
	s := commandLine(f.Tool, f.Args)
	if f.Seq != 0 {
		s += fmt.Sprintf(" #%d", f.Seq)
	}
	if f.File != "" {
		s += " (" + f.File + ")"
	}
	return s
}

// Run serves the next unused fixture recorded for c's tool and args, as a
// real run would have returned it: a non-zero code or a signal is an
// *ExitError, a tool recorded missing a *ToolMissingError, and Progress
// receives the chosen stream's recorded lines.
func (r *Replayer) Run(ctx context.Context, c Cmd) (*Result, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: not started: %w", c, err)
	}
	f, err := r.take(c)
	if err != nil {
		return nil, err
	}
	if f.Missing {
		return nil, &ToolMissingError{Tool: f.Tool, Package: f.Package}
	}
	res := &Result{
		Stdout:          clone(f.Stdout),
		Stderr:          clone(f.Stderr),
		StderrTruncated: f.StderrTruncated,
		FD3:             clone(f.FD3),
		Code:            f.Code,
		Signal:          f.Signal,
	}
	if c.Progress != nil {
		splitLines(map[Stream][]byte{Stdout: f.Stdout, Stderr: f.Stderr, FD3: f.FD3}[c.ProgressFrom], c.Progress)
	}
	if f.Code != 0 || f.Signal != "" {
		return res, &ExitError{Tool: c.Tool, Args: c.Args, Code: f.Code, Signal: f.Signal, Stderr: clone(f.Stderr)}
	}
	return res, nil
}

// clone copies b; empty is nil, as in a real run.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

func (r *Replayer) take(c Cmd) (*Fixture, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.byArgv[argvKey(c.Tool, c.Args)]
	var e *replayEntry
	for _, x := range q {
		if !x.used {
			e = x
			break
		}
	}
	if e == nil {
		why := "no fixture records it"
		if len(q) > 0 {
			why = fmt.Sprintf("all %d fixtures of it were already used", len(q))
		}
		return nil, fmt.Errorf("command: replay: %w: %s: %s; %s", ErrUnexpectedCommand, c, why, r.describeLocked())
	}
	if d := diffEnv(e.f.Env, recordedEnv(c)); d != "" {
		return nil, fmt.Errorf("command: replay: %w: %s: environment differs from %s: %s", ErrUnexpectedCommand, c, fixtureLabel(&e.f), d)
	}
	if d := diffStdin(&e.f, c.Stdin); d != "" {
		return nil, fmt.Errorf("command: replay: %w: %s: stdin differs from %s: %s", ErrUnexpectedCommand, c, fixtureLabel(&e.f), d)
	}
	e.used = true
	return &e.f, nil
}

// describeLocked lists the fixtures not yet used, for a mismatch message.
func (r *Replayer) describeLocked() string {
	var unused []string
	for _, e := range r.entries {
		if !e.used {
			unused = append(unused, fixtureLabel(&e.f))
		}
	}
	if len(unused) == 0 {
		return fmt.Sprintf("all %d fixtures are used", len(r.entries))
	}
	const show = 20
	s := fmt.Sprintf("%d unused fixtures: %s", len(unused), strings.Join(unused[:min(show, len(unused))], "; "))
	if len(unused) > show {
		s += fmt.Sprintf("; and %d more", len(unused)-show)
	}
	return s
}

// diffEnv compares a recorded environment with a call's, both starting with
// LC_ALL=C; a hand-written fixture may leave Env out, meaning LC_ALL=C only.
func diffEnv(recorded, call []string) string {
	if len(recorded) == 0 {
		recorded = []string{"LC_ALL=C"}
	}
	a, b := slices.Clone(recorded), slices.Clone(call)
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(a, b) {
		return ""
	}
	return fmt.Sprintf("recorded %q, called with %q", recorded, call)
}

func diffStdin(f *Fixture, stdin []byte) string {
	switch {
	case len(f.Stdin) > 0:
		if !bytes.Equal(f.Stdin, stdin) {
			return fmt.Sprintf("recorded %d bytes, called with %d bytes that differ", len(f.Stdin), len(stdin))
		}
	case f.StdinSHA256 != "":
		if len(stdin) == 0 || stdinHash(stdin) != f.StdinSHA256 {
			return fmt.Sprintf("recorded sha256 %s, called with %d bytes of another hash", f.StdinSHA256, len(stdin))
		}
	case len(stdin) > 0:
		return fmt.Sprintf("recorded no stdin, called with %d bytes", len(stdin))
	}
	return ""
}

// Unused returns the fixtures never served, in the order given, so a test
// can assert the code under test ran every command it was expected to.
func (r *Replayer) Unused() []Fixture {
	r.mu.Lock()
	defer r.mu.Unlock()
	var fs []Fixture
	for _, e := range r.entries {
		if !e.used {
			fs = append(fs, e.f)
		}
	}
	return fs
}

// Verify returns an error naming every fixture never served, or nil.
func (r *Replayer) Verify() error {
	fs := r.Unused()
	if len(fs) == 0 {
		return nil
	}
	labels := make([]string, len(fs))
	for i := range fs {
		labels[i] = fixtureLabel(&fs[i])
	}
	return fmt.Errorf("command: replay: %d fixtures never used: %s", len(fs), strings.Join(labels, "; "))
}
