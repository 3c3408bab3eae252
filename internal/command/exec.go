package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultDirs are searched after $PATH: a non-login root shell (cron, a
// systemd unit, sudo with a secure_path) may lack the sbin directories where
// mkfs, e2fsck and lvm live.
var DefaultDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// childPath is the PATH a tool sees: fixed, never the caller's, so the shell
// scripts among the tools (xfs_admin, xfs_info) find their helpers.
const childPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// DefaultWaitDelay is how long a run waits, after the tool exited, for its
// output pipes to close, and, after a cancel, for the killed tool to exit.
const DefaultWaitDelay = 5 * time.Second

// DefaultMaxStdout bounds a tool's standard output, which is kept whole.
const DefaultMaxStdout = 256 << 20

// Exec runs tools for real. It is safe for concurrent use.
type Exec struct {
	log       *slog.Logger
	dirs      []string // nil: $PATH, then DefaultDirs
	childPath string
	rec       *recorder
	waitDelay time.Duration
	maxStdout int64
}

// An Option configures New. Options are checked once, when New runs.
type Option func(*Exec) error

// WithLogger logs each run (start and end, at debug level; a cancel or an
// output pipe held open past WaitDelay, at warn level).
func WithLogger(l *slog.Logger) Option {
	return func(e *Exec) error {
		if l == nil {
			return errors.New("WithLogger: nil logger")
		}
		e.log = l
		return nil
	}
}

// WithSearchPath replaces the directories tools are looked up in ($PATH and
// DefaultDirs). They must be absolute. They are also put first on the
// tool's own PATH, before the standard directories.
func WithSearchPath(dirs ...string) Option {
	return func(e *Exec) error {
		if len(dirs) == 0 {
			return errors.New("WithSearchPath: no directories")
		}
		for _, d := range dirs {
			if !filepath.IsAbs(d) {
				return fmt.Errorf("WithSearchPath: %q is not absolute", d)
			}
			if strings.Contains(d, ":") {
				return fmt.Errorf("WithSearchPath: %q contains ':'", d)
			}
		}
		e.dirs = append([]string(nil), dirs...)
		e.childPath = strings.Join(dirs, ":") + ":" + childPath
		return nil
	}
}

// WithRecorder writes every run (including a missing tool, excluding runs
// cancelled or stopped at the output limit) as a JSON fixture into dir,
// which is created if needed. Within one process, every Exec recording into
// the same directory shares the sequence numbers of repeated commands.
// Record into an empty directory: a re-recording overwrites files of the
// same name, and a left-over file from a longer earlier recording shows up
// in Replayer.Unused.
func WithRecorder(dir string) Option {
	return func(e *Exec) error {
		r, err := openRecorder(dir)
		if err != nil {
			return fmt.Errorf("WithRecorder: %w", err)
		}
		e.rec = r
		return nil
	}
}

// WithWaitDelay sets the wait delay (DefaultWaitDelay otherwise).
func WithWaitDelay(d time.Duration) Option {
	return func(e *Exec) error {
		if d <= 0 {
			return fmt.Errorf("WithWaitDelay: %v is not positive", d)
		}
		e.waitDelay = d
		return nil
	}
}

// WithMaxStdout sets the standard output limit (DefaultMaxStdout otherwise).
// A tool that writes more is killed with its process group and the run
// fails with ErrOutputLimit.
func WithMaxStdout(n int64) Option {
	return func(e *Exec) error {
		if n <= 0 {
			return fmt.Errorf("WithMaxStdout: %d is not positive", n)
		}
		e.maxStdout = n
		return nil
	}
}

// New returns an Exec configured by opts.
func New(opts ...Option) (*Exec, error) {
	e := &Exec{
		log:       slog.New(slog.DiscardHandler),
		childPath: childPath,
		waitDelay: DefaultWaitDelay,
		maxStdout: DefaultMaxStdout,
	}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("command: nil Option")
		}
		if err := o(e); err != nil {
			return nil, fmt.Errorf("command: %w", err)
		}
	}
	return e, nil
}

// searchDirs is where LookPath looks, in order, without repeats; relative
// $PATH entries are ignored (a tool is never found in the working directory).
func (e *Exec) searchDirs() []string {
	if e.dirs != nil {
		return e.dirs
	}
	var dirs []string
	seen := map[string]bool{}
	for _, d := range append(filepath.SplitList(os.Getenv("PATH")), DefaultDirs...) {
		if filepath.IsAbs(d) && !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// LookPath resolves a tool as Run would: an absolute path is checked as is,
// a name is searched for. A tool not found is a *ToolMissingError. Callers
// use it to report a capability as unavailable before trying.
func (e *Exec) LookPath(tool string) (string, error) {
	if tool == "" {
		return "", errors.New("command: empty tool name")
	}
	if strings.Contains(tool, "/") {
		if !filepath.IsAbs(tool) {
			return "", fmt.Errorf("command: tool path %q is not absolute", tool)
		}
		if isExecutable(tool) {
			return tool, nil
		}
		return "", &ToolMissingError{Tool: tool, Package: DebianPackage(filepath.Base(tool))}
	}
	dirs := e.searchDirs()
	for _, d := range dirs {
		if p := filepath.Join(d, tool); isExecutable(p) {
			return p, nil
		}
	}
	return "", &ToolMissingError{Tool: tool, Package: DebianPackage(tool), Searched: append([]string(nil), dirs...)}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// validate checks what Run and a replay both refuse.
func (c *Cmd) validate() error {
	if c.Tool == "" {
		return errors.New("command: Cmd.Tool is empty")
	}
	if strings.ContainsRune(c.Tool, 0) {
		return fmt.Errorf("command: Cmd.Tool %q contains NUL", c.Tool)
	}
	for _, a := range c.Args {
		if strings.ContainsRune(a, 0) {
			return fmt.Errorf("command: %s: argument %q contains NUL", c.Tool, a)
		}
	}
	seen := map[string]bool{}
	for _, kv := range c.Env {
		k, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			return fmt.Errorf("command: %s: environment entry %q is not KEY=VALUE", c.Tool, kv)
		case strings.ContainsRune(kv, 0):
			return fmt.Errorf("command: %s: environment entry %q contains NUL", c.Tool, kv)
		case k == "LC_ALL":
			return fmt.Errorf("command: %s: LC_ALL is always C and cannot be set", c.Tool)
		case seen[k]:
			return fmt.Errorf("command: %s: environment variable %s given twice", c.Tool, k)
		}
		seen[k] = true
	}
	if c.ProgressFrom < Stdout || c.ProgressFrom > FD3 {
		return fmt.Errorf("command: %s: unknown ProgressFrom %v", c.Tool, c.ProgressFrom)
	}
	return nil
}

// recordedEnv is the environment that matters for a fixture: LC_ALL=C and
// the caller's extra variables (not PATH, unless the caller set it).
func recordedEnv(c Cmd) []string { return append([]string{"LC_ALL=C"}, c.Env...) }

func (e *Exec) environ(c Cmd) []string {
	env := recordedEnv(c)
	for _, kv := range c.Env {
		if strings.HasPrefix(kv, "PATH=") {
			return env
		}
	}
	return append(env, "PATH="+e.childPath)
}

// Run runs c and waits for it. See the package documentation for what
// happens on cancel and when the tool leaves processes behind.
func (e *Exec) Run(ctx context.Context, c Cmd) (*Result, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: not started: %w", c, err)
	}
	path, err := e.LookPath(c.Tool)
	if err != nil {
		var tm *ToolMissingError
		if e.rec != nil && errors.As(err, &tm) {
			f := newFixture(c)
			f.Missing, f.Package = true, tm.Package
			if rerr := e.rec.record(f); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return nil, err
	}
	res, recordable, err := e.run(ctx, path, c)
	if e.rec != nil && recordable {
		f := newFixture(c)
		f.Stdout, f.Stderr, f.StderrTruncated, f.FD3 = res.Stdout, res.Stderr, res.StderrTruncated, res.FD3
		f.Code, f.Signal = res.Code, res.Signal
		if rerr := e.rec.record(f); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	return res, err
}

// group is the tool's process group. Its id is the leader's pid, which stays
// reserved only while the leader is unreaped, so every kill(-pgid) happens
// under mu before the reaper marks the leader gone: a signal never reaches a
// later process that happens to reuse the number.
type group struct {
	mu       sync.Mutex
	pgid     int
	gone     bool // leader reaped or about to be: no more kills
	canceled bool // killed because the context ended
	limited  bool // killed because stdout went over the limit
	pending  bool // a kill asked for before the pgid was known
}

func (g *group) kill(reason *bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone {
		return
	}
	if reason != nil {
		*reason = true
	}
	if g.pgid == 0 { // output arrived before Start returned: setPGID kills
		g.pending = true
		return
	}
	_ = unix.Kill(-g.pgid, unix.SIGKILL)
}

func (g *group) setPGID(pid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pgid = pid
	if g.pending {
		_ = unix.Kill(-g.pgid, unix.SIGKILL)
	}
}

// leaderExited kills what is left of the group (children the tool left
// behind in it) while the exited leader still holds the id, then lets the
// reaper reap it.
func (g *group) leaderExited() {
	g.mu.Lock()
	defer g.mu.Unlock()
	_ = unix.Kill(-g.pgid, unix.SIGKILL)
	g.gone = true
}

func (g *group) state() (canceled, limited bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.canceled, g.limited
}

// waitExited blocks until the child pid has exited, leaving it unreaped.
func waitExited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return
		}
	}
}

type fd3Reader struct {
	r    *os.File
	tail tailBuffer
	done chan struct{}
}

func (e *Exec) run(ctx context.Context, path string, c Cmd) (res *Result, recordable bool, err error) {
	g := &group{}
	stdout := &limitBuffer{max: e.maxStdout, over: func() { g.kill(&g.limited) }}
	stderr := &tailBuffer{max: StderrTail}
	var lines *lineSplitter
	if c.Progress != nil {
		lines = &lineSplitter{fn: c.Progress}
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        append([]string{c.Tool}, c.Args...),
		Env:         e.environ(c),
		Dir:         c.Dir,
		Stdout:      tee{capture: stdout},
		Stderr:      tee{capture: stderr},
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
		WaitDelay:   e.waitDelay,
	}
	if len(c.Stdin) > 0 {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	switch c.ProgressFrom {
	case Stdout:
		cmd.Stdout = tee{capture: stdout, lines: lines}
	case Stderr:
		cmd.Stderr = tee{capture: stderr, lines: lines}
	}
	var fd3 *fd3Reader
	var fd3w *os.File
	if c.ProgressFrom == FD3 {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", c, err)
		}
		fd3, fd3w = &fd3Reader{r: r, tail: tailBuffer{max: StderrTail}, done: make(chan struct{})}, w
		cmd.ExtraFiles = []*os.File{w}
	}

	e.log.Debug("command start", "tool", c.Tool, "path", path, "args", c.Args)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if fd3 != nil {
			fd3.r.Close()
			fd3w.Close()
		}
		return nil, false, fmt.Errorf("%s: start: %w", c, err)
	}
	pid := cmd.Process.Pid
	g.setPGID(pid)
	if fd3 != nil {
		fd3w.Close() // the child has its copy; EOF comes when it (and its children) close theirs
		go func() {
			defer close(fd3.done)
			var w interface{ Write([]byte) (int, error) } = &fd3.tail
			if lines != nil {
				w = tee{capture: &fd3.tail, lines: lines}
			}
			buf := make([]byte, 32<<10)
			for {
				n, err := fd3.r.Read(buf)
				w.Write(buf[:n])
				if err != nil {
					return
				}
			}
		}()
	}

	exited := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		waitExited(pid)
		g.leaderExited()
		close(exited)
		werr := cmd.Wait() // reaps; waits for stdout and stderr up to WaitDelay
		if fd3 != nil {
			t := time.NewTimer(e.waitDelay)
			select {
			case <-fd3.done:
			case <-t.C:
				fd3.r.SetReadDeadline(time.Now())
				<-fd3.done
			}
			t.Stop()
			fd3.r.Close()
		}
		done <- werr
	}()

	select {
	case <-exited:
	case <-ctx.Done():
		g.kill(&g.canceled)
		t := time.NewTimer(e.waitDelay)
		select {
		case <-exited:
			t.Stop()
		case <-t.C:
			e.log.Warn("command killed but not exited", "tool", c.Tool, "pgid", pid, "after", e.waitDelay)
			return nil, false, &CanceledError{Tool: c.Tool, Args: c.Args, PGID: pid, Err: ctx.Err(), Lingering: e.waitDelay}
		}
	}
	werr := <-done
	dur := time.Since(start)

	if lines != nil {
		lines.Flush()
	}
	res = &Result{Stdout: stdout.buf, Duration: dur}
	res.Stderr, res.StderrTruncated = stderr.Bytes()
	if fd3 != nil {
		res.FD3, _ = fd3.tail.Bytes()
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		res.Code, res.Signal = -1, unix.SignalName(ws.Signal())
	default:
		res.Code = ws.ExitStatus()
	}
	e.log.Debug("command done", "tool", c.Tool, "code", res.Code, "signal", res.Signal, "duration", dur)

	canceled, limited := g.state()
	switch {
	case canceled:
		e.log.Warn("command canceled", "tool", c.Tool, "pgid", pid, "err", ctx.Err())
		return res, false, &CanceledError{Tool: c.Tool, Args: c.Args, PGID: pid, Err: ctx.Err(), Stderr: res.Stderr}
	case limited:
		return res, false, fmt.Errorf("%s: %w of %d bytes: process group %d killed", c, ErrOutputLimit, e.maxStdout, pid)
	}
	if errors.Is(werr, exec.ErrWaitDelay) {
		// The tool exited, but something outside its process group (a
		// daemon it started in a new session) still holds its output.
		// Everything the tool itself wrote had been read by then.
		e.log.Warn("command output held open after exit", "tool", c.Tool, "wait_delay", e.waitDelay)
		werr = nil
	}
	var xe *exec.ExitError
	if errors.As(werr, &xe) {
		werr = nil
	}
	if werr != nil {
		return res, false, fmt.Errorf("%s: %w", c, werr)
	}
	if res.Code != 0 || res.Signal != "" {
		return res, true, &ExitError{Tool: c.Tool, Args: c.Args, Code: res.Code, Signal: res.Signal, Stderr: res.Stderr}
	}
	return res, true, nil
}
