package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
	lvmplugin "github.com/CodeMonkeyCybersecurity/eos-storage/plugin/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/zfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// registry registers every backend this binary has: the in-tree ones and
// one per --plugin. A backend that cannot be constructed here (a missing
// tool, a directory it may not create, a plugin that does not start) is
// registered anyway, as an unavailable backend carrying the reason, so
// that `backends` lists it and says why: availability is a report, never
// a reason to fail at start-up.
func registry(ctx context.Context, f *flags) (*plugin.Registry, error) {
	r := plugin.NewRegistry()
	var err error
	add := func(name string, b plugin.Backend, err error) error {
		if err != nil {
			b = &unavailable{name: name, err: err}
		}
		return r.Register(b)
	}

	// loopfile.New creates its directory: only a command that may write
	// (--apply) lets it.
	var lf *loopfile.Backend
	if _, err = os.Stat(f.loopfileDir); err == nil || f.apply {
		lf, err = loopfile.New(f.loopfileDir, loopfile.WithLogger(f.log))
	} else {
		err = fmt.Errorf("directory %s: %w (--apply creates it; --loopfile-dir names another)", f.loopfileDir, err)
	}
	if err := add(loopfile.Name, backendOrNil(lf, err), err); err != nil {
		return nil, err
	}

	var bb plugin.Backend
	if f.btrfsDir == "" {
		err = errors.New("no --btrfs-dir given: the btrfs backend keeps its volumes in a directory of a mounted btrfs")
	} else if b, berr := btrfs.New(f.btrfsDir, btrfs.WithLogger(f.log)); berr != nil {
		err = berr
	} else {
		bb, err = b, nil
	}
	if err := add(btrfs.Name, bb, err); err != nil {
		return nil, err
	}

	lb, err := lvmBackend(ctx, f)
	if err := add(lvmplugin.Name, lb, err); err != nil {
		return nil, err
	}

	var zb plugin.Backend
	if x, xerr := command.New(); xerr != nil {
		err = xerr
	} else if b, zerr := zfs.New(x, zfs.WithLogger(f.log)); zerr != nil {
		err = zerr
	} else {
		zb, err = b, nil
	}
	if err := add("zfs", zb, err); err != nil {
		return nil, err
	}

	for _, p := range f.plugins {
		opts := []external.Option{external.WithArgs(f.pluginArgs...), external.WithLogger(f.log)}
		if f.callTimeout > 0 {
			opts = append(opts, external.WithCallTimeout(f.callTimeout))
		}
		eb, err := external.Open(ctx, p, opts...)
		if err != nil {
			if err := add("plugin:"+filepath.Base(p), nil, err); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.Register(eb); err != nil {
			eb.Close()
			closeAll(r)
			return nil, fmt.Errorf("--plugin %s: %w", p, err)
		}
	}
	return r, nil
}

// lvmJournaled is the lvm backend with the journal its Manager writes to,
// closed with it.
type lvmJournaled struct {
	*lvmplugin.Backend
	j       *safety.Journal
	tempDir string
}

func (b *lvmJournaled) Close() error {
	err := b.j.Close()
	if b.tempDir != "" {
		os.RemoveAll(b.tempDir)
	}
	return err
}

// lvmBackend opens the journal (the --state directory with --apply, a
// temporary one otherwise: nothing runs then), settles what a crash
// interrupted, and returns the lvm backend of --lvm-vg.
func lvmBackend(ctx context.Context, f *flags) (plugin.Backend, error) {
	if f.lvmVG == "" {
		return nil, errors.New("no --lvm-vg given: the lvm backend keeps its volumes as LVs of one volume group")
	}
	x, err := command.New(command.WithLogger(f.log))
	if err != nil {
		return nil, err
	}
	tool, err := lvm.NewTool(x)
	if err != nil {
		return nil, err
	}
	dir, tmp := f.stateDir, ""
	if !f.apply {
		if tmp, err = os.MkdirTemp("", "volumes-journal-"); err != nil {
			return nil, err
		}
		dir = tmp
	}
	j, err := safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(dir), safety.WithLogger(f.log)}, append(lvm.RollForward(tool), fsys.RollForward()...)...)...)
	if err != nil {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return nil, err
	}
	lb := &lvmJournaled{j: j, tempDir: tmp}
	fail := func(err error) (plugin.Backend, error) { lb.Close(); return nil, err }
	if f.apply {
		if _, err := j.Recover(ctx); err != nil {
			return fail(err)
		}
	}
	fm, err := fsys.New(fsys.WithJournal(j), fsys.WithLogger(f.log))
	if err != nil {
		return fail(err)
	}
	m, err := lvm.NewManager(tool, lvm.WithJournal(j), lvm.WithFsys(fm), lvm.WithLogger(f.log))
	if err != nil {
		return fail(err)
	}
	opts := []lvmplugin.Option{lvmplugin.WithLogger(f.log)}
	if f.lvmThinPool != "" {
		opts = append(opts, lvmplugin.WithThinPool(f.lvmThinPool))
	}
	if lb.Backend, err = lvmplugin.New(m, f.lvmVG, opts...); err != nil {
		return fail(err)
	}
	return lb, nil
}

// backendOrNil keeps a typed nil pointer out of the interface.
func backendOrNil(b *loopfile.Backend, err error) plugin.Backend {
	if err != nil || b == nil {
		return nil
	}
	return b
}

// closeAll stops the backends that hold resources (external plugins).
func closeAll(r *plugin.Registry) {
	for _, n := range r.Names() {
		if b, err := r.Lookup(n); err == nil {
			if c, ok := b.(io.Closer); ok {
				c.Close()
			}
		}
	}
}

// unavailable stands for a backend that could not be constructed.
type unavailable struct {
	name string
	err  error
}

func (u *unavailable) fail() error {
	return fmt.Errorf("backend %s is unavailable here: %w", u.name, u.err)
}

func (u *unavailable) Name() string { return u.name }
func (u *unavailable) Capabilities(context.Context) (plugin.Capabilities, error) {
	return nil, u.err
}
func (u *unavailable) Limits() plugin.Limits                                  { return plugin.Limits{} }
func (u *unavailable) Pools(context.Context) ([]plugin.Pool, error)           { return nil, u.fail() }
func (u *unavailable) Volume(context.Context, string) (*plugin.Volume, error) { return nil, u.fail() }
func (u *unavailable) Volumes(context.Context, string) ([]plugin.Volume, error) {
	return nil, u.fail()
}
func (u *unavailable) Snapshots(context.Context, string) ([]plugin.Snapshot, error) {
	return nil, u.fail()
}
func (u *unavailable) CreateVolume(context.Context, plugin.CreateRequest) ([]sched.Operation, error) {
	return nil, u.fail()
}
func (u *unavailable) ResizeVolume(context.Context, string, int64) ([]sched.Operation, error) {
	return nil, u.fail()
}
func (u *unavailable) DeleteVolume(context.Context, string) ([]sched.Operation, error) {
	return nil, u.fail()
}
func (u *unavailable) CreateSnapshot(context.Context, string, string) ([]sched.Operation, error) {
	return nil, u.fail()
}
func (u *unavailable) DeleteSnapshot(context.Context, string) ([]sched.Operation, error) {
	return nil, u.fail()
}
