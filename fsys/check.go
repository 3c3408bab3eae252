package fsys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// checkCmd builds the check command; separate so every argv is tested.
func checkCmd(dev string, t Type, mode CheckMode, override bool) (command.Cmd, error) {
	if mode < CheckReadOnly || mode > CheckRepair {
		return command.Cmd{}, fmt.Errorf("%w: check mode %v", ErrInvalid, mode)
	}
	switch {
	case t.IsExt():
		// -f always: without it e2fsck trusts the clean flag and a preen
		// "passes" without looking. -C 3: machine-readable progress on fd 3.
		flag := map[CheckMode]string{CheckReadOnly: "-n", CheckPreen: "-p", CheckRepair: "-y"}[mode]
		return command.Cmd{Tool: "e2fsck", Args: []string{"-f", flag, "-C", "3", dev}, ProgressFrom: command.FD3}, nil
	case t == XFS:
		switch mode {
		case CheckReadOnly:
			return command.Cmd{Tool: "xfs_repair", Args: []string{"-n", dev}, ProgressFrom: command.Stderr}, nil
		case CheckRepair:
			// -e: exit 4 when corruption was found and fixed, so "fixed" is
			// told from "clean". -L zeroes a log that cannot be replayed:
			// it loses the changes in it, so only on the caller's override.
			args := []string{"-e"}
			if override {
				args = append(args, "-L")
			}
			return command.Cmd{Tool: "xfs_repair", Args: append(args, dev), ProgressFrom: command.Stderr}, nil
		}
		return command.Cmd{}, &NotSupportedError{Type: t, What: "preen (xfs_repair repairs fully or not at all)"}
	case t == Btrfs:
		switch mode {
		case CheckReadOnly:
			return command.Cmd{Tool: "btrfs", Args: []string{"check", "--readonly", dev}, ProgressFrom: command.Stderr}, nil
		case CheckRepair:
			if !override {
				return command.Cmd{}, &RefusedError{Code: "repair_needs_override",
					Reason: "btrfs check --repair can make a damaged btrfs worse; it runs only on an explicit override"}
			}
			return command.Cmd{Tool: "btrfs", Args: []string{"check", "--repair", "--force", dev}, ProgressFrom: command.Stderr}, nil
		}
		return command.Cmd{}, &NotSupportedError{Type: t, What: "preen (btrfs check has no safe-only repair)"}
	case t == VFAT:
		// fsck.fat -a is its automatic repair (-p and -y are the same); it
		// has no gentler mode, so preen and repair are one.
		flag := "-n"
		if mode != CheckReadOnly {
			flag = "-a"
		}
		return command.Cmd{Tool: "fsck.fat", Args: []string{flag, dev}}, nil
	case t == Swap:
		return command.Cmd{}, &NotSupportedError{Type: t, What: "check (a swap area has nothing to check)"}
	}
	return command.Cmd{}, fmt.Errorf("%w: unknown filesystem type %q", ErrInvalid, t)
}

// check runs t's checker on dev. A verdict the tool reached (clean, fixed,
// errors_left, reboot_needed, dirty_log) is returned with a nil error: it
// is the answer, not a failure. A tool that could not check returns its
// result (verdict failed) and its *command.ExitError; a cancel returns the
// result (verdict cancelled) and the *command.CanceledError, the tool's
// process group being dead. A missing tool is a NotSupportedError.
// Refusing a mounted filesystem is the driver's job (see mountedAt).
func (m *Manager) check(ctx context.Context, dev string, t Type, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error) {
	return m.checkUndo(ctx, dev, t, mode, override, "", progress)
}

// checkUndo is check with, for an ext repair, e2fsck -z: every block
// e2fsck overwrites is saved to undo first, so e2undo can put a failed
// repair's filesystem back as it was.
func (m *Manager) checkUndo(ctx context.Context, dev string, t Type, mode CheckMode, override bool, undo string, progress func(CheckProgress)) (*CheckResult, error) {
	if dev == "" {
		return nil, fmt.Errorf("%w: no device", ErrInvalid)
	}
	c, err := checkCmd(dev, t, mode, override)
	if err != nil {
		return nil, err
	}
	if undo != "" {
		if !t.IsExt() || mode == CheckReadOnly {
			return nil, fmt.Errorf("%w: an undo file is for an ext repair", ErrInvalid)
		}
		// The device stays last.
		c.Args = append(append(c.Args[:len(c.Args)-1:len(c.Args)-1], "-z", undo), dev)
	}
	if progress != nil {
		parse := progressParser(t)
		// Percent never goes back: e2fsck reruns pass 5 after fixing
		// bitmaps, and a caller's bar should not jump backwards for it.
		// Pass, Current and Max stay as the tool said.
		var best float64
		c.Progress = func(line string) {
			if p, ok := parse(line); ok {
				best = max(best, p.Percent)
				p.Percent = best
				progress(p)
			}
		}
	}
	res, err := m.run.Run(ctx, c)
	r := &CheckResult{Tool: c.Tool, Args: c.Args}
	if res != nil {
		r.ExitCode = res.Code
		r.Output = outputTail(res.Stdout, res.Stderr, 8<<10)
	}
	var ce *command.CanceledError
	var xe *command.ExitError
	switch {
	case err == nil, errors.As(err, &xe) && xe.Signal == "":
	case errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		r.Verdict, r.ExitCode = VerdictCancelled, -1
		return r, err
	case res == nil:
		return nil, toolError(t, "check", err)
	default: // killed by a signal nobody sent
		r.Verdict = VerdictFailed
		return r, err
	}
	switch {
	case t.IsExt():
		r.Verdict = extVerdict(r.ExitCode, r.Output)
	case t == XFS:
		r.Verdict = xfsVerdict(r.ExitCode, mode, r.Output)
	case t == Btrfs:
		r.Verdict = btrfsVerdict(r.ExitCode, mode, r.Output)
	case t == VFAT:
		r.Verdict = fatVerdict(r.ExitCode, mode, r.Output)
	}
	if r.Verdict == VerdictFailed {
		if err == nil {
			err = fmt.Errorf("fsys: %s exited %d, which its manual does not define", c, r.ExitCode)
		}
		return r, err
	}
	if r.Verdict == VerdictCancelled {
		return r, fmt.Errorf("fsys: %s: %w (the tool reports it was interrupted)", c, context.Canceled)
	}
	return r, nil
}

// outputTail is the last max bytes of stdout followed by stderr.
func outputTail(stdout, stderr []byte, max int) string {
	s := string(stdout) + string(stderr)
	if len(s) > max {
		s = s[len(s)-max:]
	}
	return s
}

// progressParser returns the line parser for t's progress stream.
func progressParser(t Type) func(string) (CheckProgress, bool) {
	switch {
	case t.IsExt():
		return parseE2fsckProgress
	case t == XFS:
		return parseXFSRepairPhase
	case t == Btrfs:
		return parseBtrfsCheckStep
	}
	return func(string) (CheckProgress, bool) { return CheckProgress{}, false }
}

// e2fsckWeights are the shares of the run e2fsck itself gives its passes
// 1-5 when it draws its own bar (e2fsck/unix.c), in percent.
var e2fsckWeights = [6]float64{0, 70, 20, 2, 5, 3}

// parseE2fsckProgress parses one line of e2fsck -C FD: "pass current max
// device". ok is false for anything else (a damaged line is skipped, never
// a panic).
func parseE2fsckProgress(line string) (CheckProgress, bool) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return CheckProgress{}, false
	}
	pass, err1 := strconv.Atoi(f[0])
	cur, err2 := strconv.ParseUint(f[1], 10, 64)
	max, err3 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pass < 1 || pass > 5 || cur > max {
		return CheckProgress{}, false
	}
	p := CheckProgress{Pass: pass, Current: cur, Max: max}
	for i := 1; i < pass; i++ {
		p.Percent += e2fsckWeights[i]
	}
	if max > 0 {
		p.Percent += e2fsckWeights[pass] * float64(cur) / float64(max)
	}
	return p, true
}

// parseXFSRepairPhase parses xfs_repair's "Phase N - ..." lines (7 phases).
func parseXFSRepairPhase(line string) (CheckProgress, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Phase ")
	if !ok {
		return CheckProgress{}, false
	}
	num, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 7 {
		return CheckProgress{}, false
	}
	return CheckProgress{Pass: n, Current: uint64(n - 1), Max: 7, Percent: float64(n-1) * 100 / 7}, true
}

// parseBtrfsCheckStep parses btrfs check's "[N/M] checking ..." lines.
func parseBtrfsCheckStep(line string) (CheckProgress, bool) {
	s := strings.TrimSpace(line)
	if !strings.HasPrefix(s, "[") {
		return CheckProgress{}, false
	}
	inner, _, ok := strings.Cut(s[1:], "]")
	if !ok {
		return CheckProgress{}, false
	}
	a, b, ok := strings.Cut(inner, "/")
	n, err1 := strconv.Atoi(a)
	total, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || total < 1 || n > total || total > 100 {
		return CheckProgress{}, false
	}
	return CheckProgress{Pass: n, Current: uint64(n - 1), Max: uint64(total), Percent: float64(n-1) * 100 / float64(total)}, true
}

// mountedAt lists the mount points of the block device dev, matched by its
// device number (stat's rdev) against /proc/self/mountinfo under root, so
// a device is found whatever name it was mounted by (/dev/disk/by-uuid/...,
// a /dev/mapper link). btrfs mounts carry an anonymous device number
// (0:NN), so for them the mount's source is also resolved and compared.
func mountedAt(root sysfs.Root, dev string) ([]string, error) {
	var st unix.Stat_t
	if err := unix.Stat(root.Path(dev), &st); err != nil {
		return nil, fmt.Errorf("fsys: %s: %w", dev, os.NewSyscallError("stat", err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return nil, fmt.Errorf("%w: %s is not a block device", ErrInvalid, dev)
	}
	major, minor := unix.Major(st.Rdev), unix.Minor(st.Rdev)
	data, err := readProc(root.Proc("self", "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("fsys: reading mountinfo: %w", err)
	}
	var out []string
	for len(data) > 0 {
		var line string
		line, data, _ = strings.Cut(data, "\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		// Most lines are of other devices: Peek rules them out without
		// the full parse, and a source that is no /dev node needs no stat.
		if ma, mi, src, ok := mountinfo.Peek(line); ok && !(ma == major && mi == minor) &&
			!(ma == 0 && strings.HasPrefix(src, "/dev/")) {
			continue
		}
		e, err := mountinfo.ParseLine(line)
		if err != nil {
			return nil, fmt.Errorf("fsys: %w", err)
		}
		match := e.Major == major && e.Minor == minor
		if !match && e.Major == 0 && strings.HasPrefix(e.Source, "/dev/") {
			var ss unix.Stat_t
			if unix.Stat(root.Path(e.Source), &ss) == nil && ss.Mode&unix.S_IFMT == unix.S_IFBLK {
				match = unix.Major(ss.Rdev) == major && unix.Minor(ss.Rdev) == minor
			}
		}
		if match {
			out = append(out, e.MountPoint)
		}
	}
	return out, nil
}

// readProc reads a /proc file whole with one open and as few reads as it
// takes (os.ReadFile stats it first, which /proc answers with size 0).
func readProc(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err == io.EOF || n == 0 {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
		if b.Len() > 16<<20 {
			return "", fmt.Errorf("%s: over 16 MiB", path)
		}
	}
}
