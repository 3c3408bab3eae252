// Package command is the one way the project runs an external tool (mkfs,
// e2fsck, resize2fs, xfs_repair, lvm and the rest): only where no kernel
// interface does the job, and then the same careful way every time.
//
// A caller holds a Runner. New returns an *Exec, which runs tools for real
// and, with WithRecorder, writes each run as a JSON fixture; a *Replayer
// serves such fixtures back, so the packages that shell out are unit-tested
// without the tool, root or a device.
//
//	x, err := command.New(command.WithLogger(log))
//	res, err := x.Run(ctx, command.Cmd{
//		Tool: "lvm",
//		Args: []string{"fullreport", "--reportformat", "json"},
//		Env:  []string{"LVM_SUPPRESS_FD_WARNINGS=1"},
//	})
//
// # What a run is
//
// The tool is started from argv: there is no shell, so no quoting, globbing
// or word splitting can turn a device name or a label into something else.
// Its environment is LC_ALL=C (messages and numbers in the C locale, which
// is what our parsers read), a fixed PATH of the standard directories (some
// tools are shell scripts that run others), and exactly the variables the
// caller lists; nothing of the caller's environment, locale included, is
// inherited. Tools are looked up on $PATH and then in DefaultDirs, because a
// non-login root shell may lack the sbin directories. A tool not found is a
// *ToolMissingError (errors.Is ErrToolMissing) naming the Debian package
// that ships it. Standard input is /dev/null unless Cmd.Stdin is given, so a
// tool that asks "Proceed anyway? (y,N)" reads end-of-file instead of
// waiting forever.
//
// Standard output is read to its end and kept whole (up to WithMaxStdout);
// standard error is kept as its last StderrTail bytes, where tools explain
// a failure, so a tool that floods stderr cannot exhaust memory. A non-zero
// exit is an *ExitError carrying the code and that tail, whose message ends
// with stderr's last lines; a death by a signal we did not send has Code -1
// and Signal set. Run returns the Result alongside an *ExitError, because
// some tools (e2fsck, lvm) exit non-zero with output worth reading.
//
// # Lifecycle hazards
//
// Process groups. Each tool runs in its own process group (Setpgid). When
// the context ends, the whole group gets SIGKILL, not only the tool: mkfs or
// lvm may have children, and a killed parent whose child keeps writing to a
// device is the worst outcome. The error is a *CanceledError that matches
// context.Canceled or context.DeadlineExceeded and says the group was
// killed. A group's id is its leader's pid, and a pid is free for reuse once
// reaped, so the leader is waited for without reaping (waitid WNOWAIT), the
// group is killed while the exited leader still holds the id, and only then
// is it reaped: a kill never reaches an unrelated process. The same kill is
// sent when the tool exits on its own, so nothing it left in its group
// outlives the call. A process that moved to its own session (a daemon;
// lvm's background poller for pvmove -b and lvconvert --background calls
// setsid and closes its stdio) is not in the group and is left alone.
//
// WaitDelay. A process outside the group can still hold the tool's stdout
// or stderr open, and reading "to the end" would then wait for that
// process. After the tool exits, the output pipes get WaitDelay to close;
// then they are closed from our side and the run returns (by then
// everything the tool itself wrote has been read). After a cancel, a tool
// that has not exited WaitDelay after SIGKILL (uninterruptible sleep on a
// hung device) is left to be reaped in the background, and Run returns a
// *CanceledError with Lingering set instead of hanging its caller.
//
// Progress. Cmd.Progress receives each line of the chosen stream (stdout,
// stderr, or a pipe on descriptor 3 for e2fsck -C 3) as it arrives, split
// on '\n' and '\r', while the stream is still captured. It runs on the
// goroutine reading the pipe: a slow callback slows the tool, a blocked one
// stalls it.
//
// Not done on purpose: no Pdeathsig (Linux ties it to the thread that
// forked, not the process, so Go's thread reuse fires it at random), and no
// terminal: the tool's stdio are pipes and /dev/null.
//
// # Fixtures
//
// A fixture is one JSON file: tool, args, the environment that matters
// (LC_ALL=C and the caller's variables), stdin (its SHA-256, and the bytes
// when small), stdout, stderr and descriptor 3 (as text when valid UTF-8,
// else base64; byte-exact either way), the exit code or signal, or that the
// tool was missing. FixtureName derives a stable file name from the argv and
// a sequence number for repeats. A Replayer matches tool and args exactly,
// serves repeats in recorded order, refuses a call whose environment or
// stdin differ from the recording, and names the unexpected command with the
// fixtures it still has; Unused and Verify report fixtures never served.
package command
