package fsys

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// mkfsCmd builds the mkfs command for t. o must have passed Validate. It
// is separate from mkfs so the argv of every type is unit-tested.
func mkfsCmd(dev string, t Type, o MakeOptions) (command.Cmd, error) {
	feats, err := o.features(t)
	if err != nil {
		return command.Cmd{}, err
	}
	var args []string
	add := func(a ...string) { args = append(args, a...) }
	switch {
	case t.IsExt():
		// mke2fs -t picks the type's defaults from mke2fs.conf. Standard
		// input is /dev/null (command), so mke2fs never waits on a question.
		add("-t", string(t))
		if o.Force {
			add("-F") // once: twice would allow a mounted device
		}
		if o.BlockSize != 0 {
			add("-b", strconv.FormatInt(o.BlockSize, 10))
		}
		if o.Label != "" {
			add("-L", o.Label)
		}
		if o.UUID != "" {
			add("-U", o.UUID)
		}
		if len(feats) > 0 {
			add("-O", joinFeatures(feats))
		}
		// A discard cannot be undone: with an undo file there is none.
		if o.NoDiscard || o.ExtUndoFile != "" {
			add("-E", "nodiscard")
		}
		if o.ExtUndoFile != "" {
			add("-z", o.ExtUndoFile)
		}
		add(dev)
		return command.Cmd{Tool: "mke2fs", Args: args}, nil
	case t == XFS:
		if o.Force {
			add("-f")
		}
		if o.NoDiscard {
			add("-K")
		}
		if o.BlockSize != 0 {
			add("-b", "size="+strconv.FormatInt(o.BlockSize, 10))
		}
		if o.SectorSize != 0 {
			add("-s", "size="+strconv.FormatInt(o.SectorSize, 10))
		}
		if o.Label != "" {
			add("-L", o.Label)
		}
		// One -m/-i/-n per group, uuid in -m with the metadata options.
		groups := map[string][]string{}
		if o.UUID != "" {
			groups["m"] = append(groups["m"], "uuid="+strings.ToLower(o.UUID))
		}
		for _, f := range feats {
			v := "0"
			if f.Enable {
				v = "1"
			}
			groups[f.Section] = append(groups[f.Section], f.Name+"="+v)
		}
		for _, g := range []string{"m", "i", "n"} {
			if len(groups[g]) > 0 {
				add("-"+g, strings.Join(groups[g], ","))
			}
		}
		add(dev)
		return command.Cmd{Tool: "mkfs.xfs", Args: args}, nil
	case t == Btrfs:
		if o.Force {
			add("-f")
		}
		if o.NoDiscard {
			add("-K")
		}
		if o.Label != "" {
			add("-L", o.Label)
		}
		if o.UUID != "" {
			add("-U", strings.ToLower(o.UUID))
		}
		if o.SectorSize != 0 {
			add("-s", strconv.FormatInt(o.SectorSize, 10))
		}
		if o.BlockSize != 0 {
			add("-n", strconv.FormatInt(o.BlockSize, 10))
		}
		if len(feats) > 0 {
			add("-O", joinFeatures(feats))
		}
		add(dev)
		return command.Cmd{Tool: "mkfs.btrfs", Args: args}, nil
	case t == VFAT:
		if o.Force {
			add("-I") // a whole disk with a partition table: the caller's preflight decided
		}
		for _, f := range feats { // at most one: the FAT size
			add("-F", strings.TrimPrefix(f.Name, "fat"))
		}
		ss := o.SectorSize
		if ss != 0 {
			add("-S", strconv.FormatInt(ss, 10))
		} else {
			ss = 512
		}
		if o.BlockSize != 0 {
			add("-s", strconv.FormatInt(o.BlockSize/ss, 10))
		}
		if o.Label != "" {
			add("-n", o.Label)
		}
		if o.UUID != "" {
			id, err := fatVolumeID(o.UUID)
			if err != nil {
				return command.Cmd{}, err
			}
			add("-i", id)
		}
		add(dev)
		return command.Cmd{Tool: "mkfs.fat", Args: args}, nil
	}
	return command.Cmd{}, &NotSupportedError{Type: t, What: "mkfs by a tool"}
}

func joinFeatures(fs []Feature) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.String()
	}
	return strings.Join(s, ",")
}

// mkfs makes a filesystem of type t on dev. The caller (the driver, through
// safety's preflight) has proved dev blank and unmounted; mkfs itself only
// validates o. progress receives the tool's output lines (mke2fs's
// "Writing inode tables: 3/8" redraws arrive as separate lines). Swap is
// written in pure Go (makeSwapDevice).
func (m *Manager) mkfs(ctx context.Context, dev string, t Type, o MakeOptions, progress func(string)) error {
	if err := o.Validate(t); err != nil {
		return err
	}
	if dev == "" {
		return fmt.Errorf("%w: no device", ErrInvalid)
	}
	if t == Swap {
		return makeSwapDevice(ctx, dev, o)
	}
	c, err := mkfsCmd(dev, t, o)
	if err != nil {
		return err
	}
	if progress != nil {
		c.Progress = func(line string) {
			if l := cleanProgress(line); l != "" {
				progress(l)
			}
		}
	}
	_, err = m.run.Run(ctx, c)
	return toolError(t, "mkfs", err)
}

// cleanProgress removes the backspaces mke2fs redraws its counters with.
func cleanProgress(line string) string {
	if !strings.ContainsRune(line, '\b') {
		return strings.TrimSpace(line)
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\b' {
			return -1
		}
		return r
	}, line))
}

// e2undo replays a mke2fs/tune2fs/resize2fs/e2fsck undo file onto dev,
// restoring every block the tool overwrote.
func (m *Manager) e2undo(ctx context.Context, undoFile, dev string) error {
	if undoFile == "" || dev == "" {
		return fmt.Errorf("%w: e2undo needs an undo file and a device", ErrInvalid)
	}
	_, err := m.run.Run(ctx, command.Cmd{Tool: "e2undo", Args: []string{undoFile, dev}})
	return toolError(Ext4, "e2undo", err)
}

// toolError turns a missing tool into a NotSupportedError naming the
// program and package, and keeps every other error as it is (an
// *command.ExitError with the tool's stderr, a *command.CanceledError).
func toolError(t Type, what string, err error) error {
	if err == nil {
		return nil
	}
	var tm *command.ToolMissingError
	if errors.As(err, &tm) {
		missing := tm.Tool
		if tm.Package != "" {
			missing += " (Debian package " + tm.Package + ")"
		}
		return errors.Join(&NotSupportedError{Type: t, What: what, Missing: missing}, err)
	}
	return err
}
