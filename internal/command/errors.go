package command

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrToolMissing matches (errors.Is) a *ToolMissingError.
var ErrToolMissing = errors.New("tool not installed")

// ErrOutputLimit matches the error of a run whose standard output exceeded
// the limit set by WithMaxStdout; its process group was killed.
var ErrOutputLimit = errors.New("standard output over the limit")

// ErrUnexpectedCommand matches the error a Replayer returns for a command it
// has no fixture for (or whose stdin or environment differ from the
// recording).
var ErrUnexpectedCommand = errors.New("unexpected command")

// ToolMissingError says a program was not found, and which Debian package
// provides it (empty when the table does not know the tool).
type ToolMissingError struct {
	Tool     string
	Package  string
	Searched []string // the directories looked in
}

func (e *ToolMissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v", e.Tool, ErrToolMissing)
	if len(e.Searched) > 0 {
		fmt.Fprintf(&b, " (searched %s)", strings.Join(e.Searched, ":"))
	}
	if e.Package != "" {
		fmt.Fprintf(&b, "; install the Debian package %s", e.Package)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrToolMissing) true.
func (e *ToolMissingError) Is(target error) bool { return target == ErrToolMissing }

// ExitError is a tool that ran and failed: a non-zero exit status, or death
// by a signal the caller did not send (Code -1, Signal set, such as
// "SIGSEGV"). Stderr is the tail Result.Stderr holds.
type ExitError struct {
	Tool   string
	Args   []string
	Code   int
	Signal string
	Stderr []byte
}

// ExitCode is Code, as in os/exec.
func (e *ExitError) ExitCode() int { return e.Code }

func (e *ExitError) Error() string {
	var b strings.Builder
	b.WriteString(commandLine(e.Tool, e.Args))
	if e.Signal != "" {
		fmt.Fprintf(&b, ": killed by signal %s", e.Signal)
	} else {
		fmt.Fprintf(&b, ": exit status %d", e.Code)
	}
	if s := lastLines(e.Stderr, 3, 512); s != "" {
		b.WriteString(": ")
		b.WriteString(s)
	}
	return b.String()
}

// lastLines gives the last n non-empty lines of b (split on '\n' and '\r'),
// joined by "; ", keeping at most max bytes of the end.
func lastLines(b []byte, n, max int) string {
	var lines []string
	for len(b) > 0 && len(lines) < n {
		i := bytes.LastIndexAny(b, "\r\n")
		line := bytes.TrimSpace(b[i+1:])
		b = b[:max0(i)]
		if len(line) > 0 {
			lines = append(lines, string(line))
		}
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	s := strings.Join(lines, "; ")
	if len(s) > max {
		s = "..." + s[len(s)-max:]
	}
	return s
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

// CanceledError is a run stopped because its context ended. It matches
// context.Canceled or context.DeadlineExceeded (errors.Is) through Err. The
// tool's whole process group was sent SIGKILL. Lingering is set when the
// tool had still not exited WaitDelay after the kill (a process in
// uninterruptible sleep on a hung device); it is then reaped in the
// background and Run returns without waiting for it.
type CanceledError struct {
	Tool      string
	Args      []string
	PGID      int
	Err       error
	Lingering time.Duration
	Stderr    []byte
}

func (e *CanceledError) Error() string {
	s := fmt.Sprintf("%s: %v: process group %d killed (SIGKILL)", commandLine(e.Tool, e.Args), e.Err, e.PGID)
	if e.Lingering > 0 {
		s += fmt.Sprintf("; it had not exited after %v (uninterruptible sleep?), reaping it in the background", e.Lingering)
	}
	return s
}

func (e *CanceledError) Unwrap() error { return e.Err }
