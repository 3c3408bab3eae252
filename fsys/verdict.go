package fsys

import (
	"fmt"
	"strings"
)

// CheckMode says how far a check may go.
type CheckMode int

const (
	// CheckReadOnly never writes: e2fsck -fn, xfs_repair -n, btrfs check
	// --readonly, fsck.fat -n.
	CheckReadOnly CheckMode = iota
	// CheckPreen fixes what is safe to fix without a question: e2fsck -fp,
	// fsck.fat -a. xfs and btrfs have no preen (their repair is all or
	// nothing): NotSupportedError.
	CheckPreen
	// CheckRepair fixes everything the tool can: e2fsck -fy, xfs_repair
	// (-L only with the override), btrfs check --repair (only with the
	// override), fsck.fat -a.
	CheckRepair
)

func (m CheckMode) String() string {
	switch m {
	case CheckReadOnly:
		return "read-only"
	case CheckPreen:
		return "preen"
	case CheckRepair:
		return "repair"
	}
	return fmt.Sprintf("CheckMode(%d)", int(m))
}

// Verdict is what a check concluded, one vocabulary for every tool.
type Verdict string

const (
	// VerdictClean: no problem found.
	VerdictClean Verdict = "clean"
	// VerdictFixed: problems were found and all were fixed.
	VerdictFixed Verdict = "fixed"
	// VerdictErrorsLeft: problems remain (found by a read-only check, or
	// left by a repair).
	VerdictErrorsLeft Verdict = "errors_left"
	// VerdictRebootNeeded: fixed, but the fixed filesystem was mounted
	// (e2fsck exit 2, the root filesystem); the system must reboot.
	VerdictRebootNeeded Verdict = "reboot_needed"
	// VerdictDirtyLog: the journal/log holds changes not yet replayed; mount
	// and unmount to replay it (xfs_repair refuses to repair then, and a
	// read-only check's findings are unreliable).
	VerdictDirtyLog Verdict = "dirty_log"
	// VerdictCancelled: the context ended (or e2fsck was interrupted, exit
	// 32); the tool's process group was killed. Nothing is known.
	VerdictCancelled Verdict = "cancelled"
	// VerdictFailed: the tool could not check at all (an operational or
	// usage error: e2fsck 8/16/128, xfs_repair's other failures, fsck.fat
	// 2); the result's error says why.
	VerdictFailed Verdict = "failed"
)

// OK reports whether the filesystem is consistent now (clean or fixed).
func (v Verdict) OK() bool { return v == VerdictClean || v == VerdictFixed }

// CheckResult is one check run.
type CheckResult struct {
	Tool     string
	Args     []string
	ExitCode int
	Verdict  Verdict
	Output   string // the tail of the tool's output (stdout then stderr)
}

// CheckProgress is one progress report. Pass is the tool's phase (e2fsck
// passes 1-5, xfs_repair phases 1-7); Current and Max count within it when
// the tool says (e2fsck -C); Percent estimates the whole run, 0-100.
type CheckProgress struct {
	Pass         int
	Current, Max uint64
	Percent      float64
}

// e2fsck(8) exit status, a bit mask.
const (
	e2fsckFixed       = 1
	e2fsckReboot      = 2
	e2fsckLeft        = 4
	e2fsckOperational = 8
	e2fsckUsage       = 16
	e2fsckCancelled   = 32
	e2fsckLibrary     = 128
	e2fsckUndefined   = 64 // no meaning in e2fsck(8): a tool we do not understand
)

// e2fsckSkippedJournal is how e2fsck -n says the journal needs recovery.
const e2fsckSkippedJournal = "skipping journal recovery"

// extVerdict reads e2fsck's exit mask. The most serious bit wins:
// a failure to check at all, then a cancel, errors left, reboot, fixed.
// A read-only check that skipped a journal needing recovery reports its
// findings as dirty_log: they may be the unreplayed journal's, not damage.
func extVerdict(code int, output string) Verdict {
	switch {
	case code < 0 || code > 255 || code&(e2fsckOperational|e2fsckUsage|e2fsckLibrary|e2fsckUndefined) != 0:
		return VerdictFailed
	case code&e2fsckCancelled != 0:
		return VerdictCancelled
	case strings.Contains(output, e2fsckSkippedJournal):
		// e2fsck -n exits 0 here even though the counts it found wrong
		// are the journal's to fix: "clean" would be a lie.
		return VerdictDirtyLog
	case code&e2fsckLeft != 0:
		return VerdictErrorsLeft
	case code&e2fsckReboot != 0:
		return VerdictRebootNeeded
	case code&e2fsckFixed != 0:
		return VerdictFixed
	}
	return VerdictClean
}

// Messages by which xfs_repair says its log was not replayed (xfsprogs 6.1):
// with -n an ALERT ("... in a log which is being\nignored because the -n
// option was used") and exit 1, without -n an ERROR and exit 2. With -L the
// same ALERT ends "destroyed because the -L option was used": that is not
// a dirty log any more, so only these endings count.
const (
	xfsDirtyLogReadOnly = "ignored because the -n option was used"
	xfsDirtyLogRepair   = "Mount the filesystem to replay the log"
)

// xfsVerdict reads xfs_repair's exit status (xfs_repair(8)): with -n, 0 is
// clean and 1 corruption found; without -n and with -e, 0 is clean, 4
// "corruption was found and fixed", 2 the dirty log refusal, 1 anything
// else went wrong.
func xfsVerdict(code int, mode CheckMode, output string) Verdict {
	if code != 0 && (strings.Contains(output, xfsDirtyLogReadOnly) || strings.Contains(output, xfsDirtyLogRepair)) {
		return VerdictDirtyLog
	}
	switch {
	case code == 0:
		return VerdictClean
	case mode == CheckReadOnly && code == 1:
		return VerdictErrorsLeft
	case mode != CheckReadOnly && code == 4:
		return VerdictFixed
	case mode != CheckReadOnly && code == 2:
		return VerdictDirtyLog
	}
	return VerdictFailed
}

// btrfsVerdict reads btrfs check: 0 no error found, anything else errors
// (btrfs check does not tell "found" from "could not check"; with
// --repair, 0 means it ended with no error left). The output decides
// between errors and an unreadable device.
func btrfsVerdict(code int, mode CheckMode, output string) Verdict {
	switch {
	case code == 0 && mode == CheckRepair && btrfsRepaired(output):
		return VerdictFixed
	case code == 0:
		return VerdictClean
	case code == 1 && (strings.Contains(output, "found ") && strings.Contains(output, "error") ||
		strings.Contains(output, "errors found")):
		return VerdictErrorsLeft
	case code == 1 && (strings.Contains(output, "checksum verify failed") || strings.Contains(output, "bad tree block")):
		// A tree block too damaged to open the filesystem ("ERROR: cannot
		// open file system" follows): damage found, not a failure to look.
		return VerdictErrorsLeft
	}
	return VerdictFailed
}

// fatVerdict reads fsck.fat(8): 0 no errors, 1 errors detected (with -n)
// or detected and corrected (with -a: "*** Filesystem was changed ***"),
// 2 usage error or the filesystem was not accessed.
func fatVerdict(code int, mode CheckMode, output string) Verdict {
	switch {
	case code == 0:
		return VerdictClean
	case code == 1 && mode != CheckReadOnly && strings.Contains(output, "Filesystem was changed"):
		return VerdictFixed
	case code == 1:
		return VerdictErrorsLeft
	}
	return VerdictFailed
}

// btrfsRepaired reports whether btrfs check --repair said it changed
// something: a "Fixed the nlink of inode 260"-style line, or "repaired"
// (its extent and csum fixes). It always prints "Fixed 0 roots.", which
// does not count.
func btrfsRepaired(output string) bool {
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Fixed ") && !strings.HasPrefix(line, "Fixed 0 ") {
			return true
		}
		if strings.Contains(strings.ToLower(line), "repaired") {
			return true
		}
	}
	return false
}
