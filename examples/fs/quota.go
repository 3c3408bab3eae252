package main

// The quota command family: user, group and project quotas of ext4 and
// xfs (quotactl), btrfs subvolume qgroups, and project ids of
// directories, through fsys/quota.
//
//	quota enable DEV|MNT
//	quota set MNT --user|--group|--project|--subvolume ID [--bsoft SIZE] [--bhard SIZE] [--isoft N] [--ihard N]
//	quota get MNT --user|--group|--project|--subvolume ID
//	quota report MNT [--kind user|group|project|subvolume]
//	quota project DIR [ID] [--no-inherit]
//
// Changes need --apply. A filesystem without quotas answers with the
// reason (not supported, or not enabled), never an empty report.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/quota"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func init() {
	commands["quota"] = (*cli).quota
}

// idFlags are --user, --group, --project and --subvolume; exactly one.
type idFlags struct {
	ids [4]string
}

func (f *idFlags) register(fs *flag.FlagSet) {
	for _, k := range []quota.Kind{quota.User, quota.Group, quota.Project, quota.Subvolume} {
		fs.StringVar(&f.ids[k], k.String(), "", k.String()+" id")
	}
}

func (f *idFlags) get() (quota.Kind, uint64, error) {
	var kind quota.Kind
	var val string
	n := 0
	for k, v := range f.ids {
		if v != "" {
			kind, val, n = quota.Kind(k), v, n+1
		}
	}
	if n != 1 {
		return 0, 0, usagef("want exactly one of --user, --group, --project, --subvolume ID")
	}
	id, err := strconv.ParseUint(val, 10, 64)
	if err != nil {
		return 0, 0, usagef("--%s %q: not a number", kind, val)
	}
	return kind, id, nil
}

func (c *cli) quota(ctx context.Context, args []string) error {
	verb, rest, err := sub(args, "quota", "enable", "set", "get", "report", "project")
	if err != nil {
		return err
	}
	m, err := quota.New()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("quota "+verb, flag.ContinueOnError)
	switch verb {
	case "enable":
		pos, err := c.parse(fs, rest, 1)
		if err != nil {
			return err
		}
		if !c.plan("enable quotas on %s", pos[0]) {
			return nil
		}
		var e *quota.Enablement
		err = c.journaledQuota(ctx, func(j quota.OpOption) (sched.Operation, error) {
			return m.EnableOp(pos[0], j, quota.WithEnablement(func(x *quota.Enablement) { e = x }))
		})
		if err != nil {
			return err
		}
		return c.print(e, func(w io.Writer) {
			fmt.Fprintf(w, "%s %s: %s\n", e.FSType, e.Target, e.Note)
		})
	case "set":
		var ids idFlags
		ids.register(fs)
		bsoft := fs.String("bsoft", "0", "block soft limit (SIZE, or 0 or none)")
		bhard := fs.String("bhard", "0", "block hard limit (SIZE, or 0 or none)")
		isoft := fs.Uint64("isoft", 0, "inode soft limit")
		ihard := fs.Uint64("ihard", 0, "inode hard limit")
		pos, err := c.parse(fs, rest, 1)
		if err != nil {
			return err
		}
		kind, id, err := ids.get()
		if err != nil {
			return err
		}
		var l quota.Limits
		for _, s := range []struct {
			v   string
			dst *uint64
		}{{*bsoft, &l.BlockSoft}, {*bhard, &l.BlockHard}} {
			if s.v == "0" || s.v == "none" {
				continue
			}
			n, err := parseSize(s.v, 0)
			if err != nil || n < 0 {
				return usagef("size %q: %v", s.v, err)
			}
			*s.dst = uint64(n)
		}
		l.InodeSoft, l.InodeHard = *isoft, *ihard
		if !c.plan("set %s %d limits on %s to blocks %d/%d bytes, inodes %d/%d (soft/hard)", kind, id, pos[0], l.BlockSoft, l.BlockHard, l.InodeSoft, l.InodeHard) {
			return nil
		}
		return c.journaledQuota(ctx, func(j quota.OpOption) (sched.Operation, error) {
			return m.SetLimitsOp(pos[0], kind, id, l, j)
		})
	case "get":
		var ids idFlags
		ids.register(fs)
		pos, err := c.parse(fs, rest, 1)
		if err != nil {
			return err
		}
		kind, id, err := ids.get()
		if err != nil {
			return err
		}
		u, err := m.Get(ctx, pos[0], kind, id)
		if err != nil {
			return err
		}
		return c.print(u, func(w io.Writer) { usageHeader(w); usageRow(w, *u) })
	case "report":
		kindName := fs.String("kind", "", "only this kind (user, group, project, subvolume)")
		pos, err := c.parse(fs, rest, 1)
		if err != nil {
			return err
		}
		kinds, err := reportKinds(pos[0], *kindName)
		if err != nil {
			return err
		}
		var all []quota.Usage
		var firstErr error
		for _, k := range kinds {
			us, err := m.List(ctx, pos[0], k)
			if err != nil {
				if len(kinds) == 1 {
					return err
				}
				fmt.Fprintf(c.errw, "fs: %v\n", err)
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			all = append(all, us...)
		}
		if all == nil && firstErr != nil {
			return firstErr // nothing could be read: the reason, not an empty report
		}
		if all == nil {
			all = []quota.Usage{}
		}
		return c.print(all, func(w io.Writer) {
			usageHeader(w)
			for _, u := range all {
				usageRow(w, u)
			}
		})
	}
	// project DIR [ID]
	noInherit := fs.Bool("no-inherit", false, "do not let new entries inherit the project id")
	c.globalFlags(fs)
	var pos []string
	for {
		if err := fs.Parse(rest); err != nil {
			return usagef("%v", err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	switch len(pos) {
	case 1:
		p, err := m.GetProject(ctx, pos[0])
		if err != nil {
			return err
		}
		return c.print(p, func(w io.Writer) { fmt.Fprintf(w, "%s: project %d inherit %v\n", pos[0], p.ID, p.Inherit) })
	case 2:
		id, err := strconv.ParseUint(pos[1], 10, 32)
		if err != nil {
			return usagef("project id %q: %v", pos[1], err)
		}
		if !c.plan("give %s project id %d (inherit %v)", pos[0], id, !*noInherit) {
			return nil
		}
		return c.journaledQuota(ctx, func(j quota.OpOption) (sched.Operation, error) {
			return m.SetProjectOp(pos[0], uint32(id), !*noInherit, j)
		})
	}
	return usagef("quota project wants DIR [ID]")
}

// reportKinds: the kinds a report covers by default: subvolume on btrfs,
// user, group and project elsewhere.
func reportKinds(mnt, name string) ([]quota.Kind, error) {
	if name != "" {
		k, err := quota.ParseKind(name)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return []quota.Kind{k}, nil
	}
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		return nil, &os.PathError{Op: "statfs", Path: mnt, Err: err}
	}
	if uint32(st.Type) == unix.BTRFS_SUPER_MAGIC {
		return []quota.Kind{quota.Subvolume}, nil
	}
	return []quota.Kind{quota.User, quota.Group, quota.Project}, nil
}

func usageHeader(w io.Writer) {
	fmt.Fprintf(w, "%-9s %10s %14s %14s %14s %10s %10s %10s %s\n", "kind", "id", "bytes", "bsoft", "bhard", "inodes", "isoft", "ihard", "over")
}

func usageRow(w io.Writer, u quota.Usage) {
	over := ""
	for _, o := range []struct {
		b bool
		s string
	}{{u.OverSoftBlocks, "soft-blocks"}, {u.OverHardBlocks, "hard-blocks"}, {u.OverSoftInodes, "soft-inodes"}, {u.OverHardInodes, "hard-inodes"}} {
		if o.b {
			if over != "" {
				over += ","
			}
			over += o.s
		}
	}
	if over == "" {
		over = "-"
	}
	fmt.Fprintf(w, "%-9s %10d %14d %14d %14d %10d %10d %10d %s\n", u.Kind, u.ID, u.Bytes, u.Limits.BlockSoft, u.Limits.BlockHard, u.Inodes, u.Limits.InodeSoft, u.Limits.InodeHard, over)
}

// journaledQuota runs a quota change built with the run's journal (opened
// as for every mutating command), so `fs recover` can finish it after a
// crash: the old state is journaled before the change.
func (c *cli) journaledQuota(ctx context.Context, build func(j quota.OpOption) (sched.Operation, error)) error {
	if err := c.manager(ctx, true); err != nil {
		return err
	}
	op, err := build(quota.WithJournal(c.journal))
	if err != nil {
		return err
	}
	return op.Execute(ctx, nil)
}
