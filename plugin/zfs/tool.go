package zfs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// flavor is what the installed ZFS can do, found by asking it.
type flavor struct {
	// exact: zpool list has -p (OpenZFS); without it (zfs-fuse) pool sizes
	// are human units.
	exact bool
	// zvols: zfs create -V works. zfs-fuse has none: its create -V aborts,
	// so it is never tried; a ZFS without zpool list -p is taken to be
	// zfs-fuse, the only such ZFS on Linux.
	zvols bool
}

// tool runs zpool and zfs through a command.Runner.
type tool struct {
	r command.Runner

	mu     sync.Mutex
	known  bool
	flavor flavor
}

// lookPather is the part of *command.Exec that finds a tool without
// running it.
type lookPather interface {
	LookPath(tool string) (string, error)
}

func (t *tool) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	res, err := t.r.Run(ctx, command.Cmd{Tool: name, Args: args})
	if err != nil {
		return nil, classify(err)
	}
	return res.Stdout, nil
}

// classify maps what zfs and zpool say on failure to the plugin errors,
// keeping the tool's error (and its stderr) in the chain.
func classify(err error) error {
	var ee *command.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	s := string(ee.Stderr)
	var kind error
	switch {
	case strings.Contains(s, "does not exist"), strings.Contains(s, "no such pool"), strings.Contains(s, "could not find any snapshots"):
		kind = plugin.ErrNotFound
	case strings.Contains(s, "already exists"):
		kind = plugin.ErrExists
	case strings.Contains(s, "out of space"), strings.Contains(s, "greater than available space"):
		kind = plugin.ErrNoSpace
	case strings.Contains(s, "is busy"):
		return fmt.Errorf("%w: %w: %w", plugin.ErrInUse, errBusy, err)
	case strings.Contains(s, "has children"), strings.Contains(s, "dependent clones"),
		strings.Contains(s, "less than current used or reserved space"):
		kind = plugin.ErrInUse
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// errBusy marks "dataset is busy". zfs-fuse says it right after it has
// unmounted a dataset, while the FUSE mount is still being released, so a
// destroy is retried on it a few times before it counts as in use.
var errBusy = errors.New("zfs: dataset is busy")

// busyWaits are the pauses between attempts of a command that failed busy.
var busyWaits = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}

// runRetryBusy runs a zfs command again while it fails with errBusy.
func (t *tool) runRetryBusy(ctx context.Context, args ...string) error {
	for i := 0; ; i++ {
		_, err := t.run(ctx, "zfs", args...)
		if err == nil || !errors.Is(err, errBusy) || i == len(busyWaits) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(busyWaits[i]):
		}
	}
}

// missing says which of zpool and zfs cannot be found, when the runner
// can tell without running them.
func (t *tool) missing() (tool string, err error) {
	lp, ok := t.r.(lookPather)
	if !ok {
		return "", nil
	}
	for _, n := range []string{"zpool", "zfs"} {
		if _, err := lp.LookPath(n); err != nil {
			return n, err
		}
	}
	return "", nil
}

// detect finds the flavor once it can be found: a failure (a missing tool,
// no daemon) is not remembered, so the next call asks again.
func (t *tool) detect(ctx context.Context) (flavor, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.known {
		return t.flavor, nil
	}
	_, err := t.run(ctx, "zpool", "list", "-H", "-p", "-o", "name")
	var f flavor
	switch {
	case err == nil:
		f = flavor{exact: true, zvols: true}
	case isBadOption(err, 'p'):
		f = flavor{}
	default:
		return flavor{}, err
	}
	t.known, t.flavor = true, f
	return f, nil
}

// isBadOption reports whether a tool refused option c ("invalid option 'p'").
func isBadOption(err error, c byte) bool {
	var ee *command.ExitError
	return errors.As(err, &ee) && strings.Contains(string(ee.Stderr), "invalid option '"+string(c)+"'")
}

// pools runs zpool list with -p where the tool has it.
func (t *tool) pools(ctx context.Context) ([]PoolRow, error) {
	f, err := t.detect(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"list", "-H", "-o", "name,size,allocated,free,health"}
	if f.exact {
		args = []string{"list", "-H", "-p", "-o", "name,size,allocated,free,health"}
	}
	out, err := t.run(ctx, "zpool", args...)
	if err != nil {
		return nil, err
	}
	return ParsePoolList(out)
}

// get runs zfs get -H -p for props of the datasets (extra flags first).
func (t *tool) get(ctx context.Context, flags []string, props []string, datasets ...string) (*Props, error) {
	args := append([]string{"get", "-H", "-p"}, flags...)
	args = append(args, "-o", "name,property,value", strings.Join(props, ","))
	out, err := t.run(ctx, "zfs", append(args, datasets...)...)
	if err != nil {
		return nil, err
	}
	return ParseProps(out)
}
