package fsys

import (
	"context"
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// labelCmd is the offline relabel command for t.
func labelCmd(dev string, t Type, label string) (command.Cmd, error) {
	if err := validateLabel(t, label); err != nil {
		return command.Cmd{}, err
	}
	if (t == Btrfs || t == VFAT) && strings.HasPrefix(label, "-") {
		// btrfs and fatlabel take the label as a positional argument and
		// getopt would read "-r" as an option (fatlabel DEV -r removes the
		// label).
		return command.Cmd{}, fmt.Errorf("%w: a %s label set offline may not begin with '-': %q", ErrInvalid, t, label)
	}
	switch {
	case t.IsExt():
		return command.Cmd{Tool: "tune2fs", Args: []string{"-L", label, dev}}, nil
	case t == XFS:
		if label == "" {
			label = "--" // xfs_admin's spelling of "no label"
		}
		return command.Cmd{Tool: "xfs_admin", Args: []string{"-L", label, dev}}, nil
	case t == Btrfs:
		// Works on an unmounted device too (it writes the superblocks).
		return command.Cmd{Tool: "btrfs", Args: []string{"filesystem", "label", dev, label}}, nil
	case t == VFAT:
		// fatlabel -r removes the label; with one argument it only prints.
		if label == "" {
			return command.Cmd{Tool: "fatlabel", Args: []string{"-r", dev}}, nil
		}
		return command.Cmd{Tool: "fatlabel", Args: []string{dev, label}}, nil
	case t == Swap:
		return command.Cmd{Tool: "swaplabel", Args: []string{"-L", label, dev}}, nil
	}
	return command.Cmd{}, fmt.Errorf("%w: unknown filesystem type %q", ErrInvalid, t)
}

// uuidCmd is the offline re-UUID command for t.
func uuidCmd(dev string, t Type, uuid string) (command.Cmd, error) {
	if err := validateUUID(t, uuid); err != nil {
		return command.Cmd{}, err
	}
	switch {
	case t.IsExt():
		return command.Cmd{Tool: "tune2fs", Args: []string{"-U", strings.ToLower(uuid), dev}}, nil
	case t == XFS:
		return command.Cmd{Tool: "xfs_admin", Args: []string{"-U", strings.ToLower(uuid), dev}}, nil
	case t == Btrfs:
		// -U rewrites the fsid in every tree block (-M would only set a
		// metadata_uuid, an incompat flag kernels before 5.0 cannot
		// mount); -f answers its "are you sure" prompt, which reads EOF
		// from /dev/null and cancels otherwise.
		return command.Cmd{Tool: "btrfstune", Args: []string{"-f", "-U", strings.ToLower(uuid), dev}}, nil
	case t == VFAT:
		id, err := fatVolumeID(uuid)
		if err != nil {
			return command.Cmd{}, err
		}
		return command.Cmd{Tool: "fatlabel", Args: []string{"-i", dev, id}}, nil
	case t == Swap:
		return command.Cmd{Tool: "swaplabel", Args: []string{"-U", strings.ToLower(uuid), dev}}, nil
	}
	return command.Cmd{}, fmt.Errorf("%w: unknown filesystem type %q", ErrInvalid, t)
}

// setLabelOffline sets the label of the unmounted filesystem on dev.
func (m *Manager) setLabelOffline(ctx context.Context, dev string, t Type, label string) error {
	c, err := labelCmd(dev, t, label)
	if err != nil {
		return err
	}
	_, err = m.run.Run(ctx, c)
	return toolError(t, "set label offline", err)
}

// setUUIDOffline sets the UUID (vfat: the volume id) of the unmounted
// filesystem on dev. For ext* it runs e2fsck -f -p first and requires it
// clean or fixed: with metadata_csum (and no metadata_csum_seed) tune2fs
// -U rewrites every checksum with the new seed, which on a damaged
// filesystem makes damage permanent, and when the filesystem was not
// freshly checked tune2fs asks a question that /dev/null answers "no".
func (m *Manager) setUUIDOffline(ctx context.Context, dev string, t Type, uuid string) error {
	c, err := uuidCmd(dev, t, uuid)
	if err != nil {
		return err
	}
	if t.IsExt() {
		r, err := m.check(ctx, dev, t, CheckPreen, false, nil)
		if err != nil {
			return err
		}
		if !r.Verdict.OK() {
			return &RefusedError{Code: "check_" + string(r.Verdict),
				Reason: fmt.Sprintf("e2fsck -f -p on %s ended %s; tune2fs -U needs a consistent filesystem", dev, r.Verdict)}
		}
	}
	_, err = m.run.Run(ctx, c)
	return toolError(t, "set uuid offline", err)
}
