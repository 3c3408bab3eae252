package command

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Runner runs one external tool. *Exec runs it for real; *Replayer serves
// recorded fixtures. Packages that shell out take a Runner so their tests
// can replay captured output without the tool, root or a device.
type Runner interface {
	Run(ctx context.Context, c Cmd) (*Result, error)
}

// Stream names an output of the tool that Cmd.Progress follows.
type Stream int

const (
	// Stdout is the tool's standard output (the default).
	Stdout Stream = iota
	// Stderr is the tool's standard error.
	Stderr
	// FD3 is a pipe given to the tool as file descriptor 3, for tools that
	// write progress to a descriptor the caller names (e2fsck -C 3,
	// resize2fs has no such flag). The caller still passes the flag.
	FD3
)

func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	case FD3:
		return "fd3"
	}
	return fmt.Sprintf("Stream(%d)", int(s))
}

// Cmd is one invocation. Only Tool is required.
type Cmd struct {
	// Tool is a program name, looked up in the search path, or an
	// absolute path used as is.
	Tool string
	// Args are the arguments after the program name, passed as argv:
	// nothing is ever interpreted by a shell.
	Args []string
	// Env holds extra KEY=VALUE variables (for example
	// LVM_SUPPRESS_FD_WARNINGS=1). The tool's environment is LC_ALL=C, a
	// fixed PATH (see New) and these; nothing is inherited. LC_ALL cannot be
	// overridden.
	Env []string
	// Stdin is written to the tool's standard input, which is then closed.
	// Without it, standard input is /dev/null, so a tool that asks a
	// question reads end-of-file instead of waiting forever.
	Stdin []byte
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Progress, if set, receives each line of ProgressFrom as it arrives,
	// split on '\n' and '\r' (mkfs and e2fsck -C redraw progress with '\r'),
	// without the terminator; empty lines are not reported. It runs on the
	// goroutine reading that stream, so a slow Progress slows the tool; it
	// must not block forever. The stream is still captured in full (stdout)
	// or in its bounded tail (stderr, fd3).
	Progress     func(line string)
	ProgressFrom Stream
}

// String renders the command line for messages: tool and args, each quoted
// only when it needs to be.
func (c Cmd) String() string { return commandLine(c.Tool, c.Args) }

func commandLine(tool string, args []string) string {
	var b strings.Builder
	b.WriteString(quoteArg(tool))
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(quoteArg(a))
	}
	return b.String()
}

func quoteArg(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '\'' || r == '\\' || r == 0x7f || r > 0x7e {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// Result is what a run produced. Run returns it whenever the tool was
// started, together with any error (so a caller can still read the stdout
// of a tool that exited non-zero).
type Result struct {
	// Stdout is the complete standard output.
	Stdout []byte
	// Stderr is the last StderrTail bytes of standard error;
	// StderrTruncated says whether earlier bytes were dropped.
	Stderr          []byte
	StderrTruncated bool
	// FD3 is the last StderrTail bytes written to descriptor 3 when
	// ProgressFrom is FD3.
	FD3 []byte
	// Code is the exit status, or -1 when the tool was killed by a signal
	// (Signal then names it).
	Code   int
	Signal string
	// Duration is the wall time from start to reaping; zero in a replay.
	Duration time.Duration
}

// StderrTail is how many bytes of standard error (and of FD3) are kept: the
// end of the stream, where tools put the reason they failed.
const StderrTail = 64 << 10
