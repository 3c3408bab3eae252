package fsys

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// errParse matches (errors.Is) output of a tool that fsys could not read.
var errParse = errors.New("fsys: unreadable tool output")

// resizeExtOffline resizes an unmounted ext2/3/4 on dev to newBytes:
// e2fsck -f -p first (resize2fs insists on a freshly checked filesystem,
// and resizing a damaged one spreads the damage), which must end clean or
// fixed, then resize2fs -p DEV NK. step reports "checked" and "resized" as
// each is done so the journal records how far it got. newBytes must be a
// whole number of KiB; resize2fs rounds it down to a whole block. Whether
// newBytes is at least the minimum is the caller's check (extMinBlocks):
// resize2fs also refuses, but only after it started.
func (m *Manager) resizeExtOffline(ctx context.Context, dev string, newBytes int64, step func(name string), progress func(string)) error {
	if dev == "" {
		return fmt.Errorf("%w: no device", ErrInvalid)
	}
	if newBytes <= 0 || newBytes%1024 != 0 {
		return fmt.Errorf("%w: new size %d: want a positive multiple of 1024 bytes", ErrInvalid, newBytes)
	}
	if step == nil {
		step = func(string) {}
	}
	r, err := m.check(ctx, dev, Ext4, CheckPreen, false, nil)
	if err != nil {
		return err
	}
	if !r.Verdict.OK() {
		return &RefusedError{Code: "check_" + string(r.Verdict),
			Reason: fmt.Sprintf("e2fsck -f -p on %s ended %s (exit %d); resize needs a clean filesystem", dev, r.Verdict, r.ExitCode)}
	}
	step("checked")
	c := resizeExtCmd(dev, newBytes)
	if progress != nil {
		c.Progress = func(line string) {
			if l := strings.TrimSpace(line); l != "" {
				progress(l)
			}
		}
	}
	if _, err := m.run.Run(ctx, c); err != nil {
		return toolError(Ext4, "offline resize", err)
	}
	step("resized")
	return nil
}

// resizeExtCmd is resize2fs -p DEV NK: K is 1024 bytes in resize2fs's
// units (s is 512-byte sectors, a bare number is filesystem blocks).
func resizeExtCmd(dev string, newBytes int64) command.Cmd {
	return command.Cmd{Tool: "resize2fs", Args: []string{"-p", dev, strconv.FormatInt(newBytes/1024, 10) + "K"}}
}

// extMinBlocks is resize2fs -P: the estimated minimum size of the
// filesystem, in its blocks.
func (m *Manager) extMinBlocks(ctx context.Context, dev string) (uint64, error) {
	if dev == "" {
		return 0, fmt.Errorf("%w: no device", ErrInvalid)
	}
	res, err := m.run.Run(ctx, command.Cmd{Tool: "resize2fs", Args: []string{"-P", dev}})
	if err != nil {
		return 0, toolError(Ext4, "minimum size", err)
	}
	return parseResize2fsMin(res.Stdout)
}

const resize2fsMinPrefix = "Estimated minimum size of the filesystem:"

// parseResize2fsMin reads "Estimated minimum size of the filesystem: N"
// from resize2fs -P output (other lines, such as its advice to run e2fsck
// first, are ignored).
func parseResize2fsMin(out []byte) (uint64, error) {
	for _, line := range strings.Split(string(out), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), resize2fsMinPrefix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("%w: resize2fs -P: %q", errParse, line)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: resize2fs -P printed no minimum size", errParse)
}
