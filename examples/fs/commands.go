package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

type handler func(c *cli, ctx context.Context, args []string) error

// commands is initialised before any init function runs, so a command
// family kept in a file of its own (quota, btrfs) adds itself from that
// file's init.
var commands = map[string]handler{
	"info": (*cli).info, "make": (*cli).make, "check": (*cli).check, "repair": (*cli).repair,
	"resize": (*cli).resize, "min-size": (*cli).minSize, "label": (*cli).label, "uuid": (*cli).uuid,
	"freeze": (*cli).freeze, "thaw": (*cli).thaw, "mount": (*cli).mount, "umount": (*cli).umount,
	"features": (*cli).features, "recover": (*cli).recover,
}

func (c *cli) info(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("info", flag.ContinueOnError), args, 1)
	if err != nil {
		return err
	}
	if err := c.manager(ctx, false); err != nil {
		return err
	}
	info, err := c.m.Inspect(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(info, func(w io.Writer) {
		fmt.Fprintf(w, "device:      %s (%d bytes)\n", info.Device, info.DeviceBytes)
		fmt.Fprintf(w, "type:        %s %s\n", info.Type, info.Version)
		fmt.Fprintf(w, "uuid:        %s\n", info.UUID)
		fmt.Fprintf(w, "label:       %s\n", info.Label)
		fmt.Fprintf(w, "block size:  %d\n", info.BlockSize)
		fmt.Fprintf(w, "size:        %d bytes\n", info.SizeBytes)
		fmt.Fprintf(w, "free:        %d bytes (%s)\n", info.FreeBytes, info.FreeFrom)
		if info.Inodes > 0 {
			fmt.Fprintf(w, "inodes:      %d (%d free)\n", info.Inodes, info.FreeInodes)
		}
		fmt.Fprintf(w, "state:       %s\n", info.State)
		if len(info.Features) > 0 {
			fmt.Fprintf(w, "features:    %s\n", strings.Join(info.Features, " "))
		}
		for _, d := range info.Devices {
			fmt.Fprintf(w, "device %d:    %s total %d used %d\n", d.ID, d.Path, d.TotalBytes, d.UsedBytes)
		}
		fmt.Fprintf(w, "mounted on:  %s\n", strings.Join(info.Mountpoints, " "))
	})
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func (c *cli) make(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("make", flag.ContinueOnError)
	var o fsys.MakeOptions
	var feats multi
	fs.StringVar(&o.Label, "label", "", "label")
	fs.StringVar(&o.UUID, "uuid", "", "UUID (vfat: the volume id, 8 hex digits)")
	fs.Int64Var(&o.BlockSize, "block-size", 0, "block size in bytes")
	fs.Int64Var(&o.SectorSize, "sector-size", 0, "sector size in bytes")
	fs.Int64Var(&o.PageSize, "page-size", 0, "swap: page size in bytes")
	fs.Var(&feats, "feature", "a filesystem feature (repeatable)")
	fs.BoolVar(&o.NoDiscard, "nodiscard", false, "do not discard the device first")
	fs.BoolVar(&o.Force, "force", false, "let mkfs overwrite (preflight still decides)")
	pos, err := c.parse(fs, args, 2)
	if err != nil {
		return err
	}
	o.Features = feats
	dev, t := pos[0], fsys.Type(pos[1])
	if !t.Valid() {
		return usagef("unknown type %q", t)
	}
	if err := o.Validate(t); err != nil {
		return err
	}
	if !c.plan("make a %s filesystem on %s", t, dev) {
		return nil
	}
	if err := c.manager(ctx, true); err != nil {
		return err
	}
	if err := c.m.Make(ctx, dev, t, o, c.overrides...); err != nil {
		return err
	}
	return c.info(ctx, []string{dev})
}

func (c *cli) checkResult(res *fsys.CheckResult) error {
	err := c.print(res, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %s (exit %d)\n", res.Tool, res.Verdict, res.ExitCode)
	})
	if err != nil {
		return err
	}
	if res.Verdict != fsys.VerdictClean && res.Verdict != fsys.VerdictFixed {
		return errProblems
	}
	return nil
}

func (c *cli) progress() func(fsys.CheckProgress) {
	if c.asJSON {
		return nil
	}
	return func(p fsys.CheckProgress) { fmt.Fprintf(c.errw, "\rpass %d: %5.1f%%", p.Pass, p.Percent) }
}

func (c *cli) check(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("check", flag.ContinueOnError), args, 1)
	if err != nil {
		return err
	}
	if err := c.manager(ctx, false); err != nil {
		return err
	}
	res, err := c.m.Check(ctx, pos[0], fsys.CheckOptions{Mode: fsys.CheckReadOnly})
	if err != nil {
		return err
	}
	return c.checkResult(res)
}

func (c *cli) repair(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("repair", flag.ContinueOnError)
	yes := fs.Bool("yes", false, "answer yes to every fix (e2fsck -y), not only the safe ones (-p)")
	dangerous := fs.Bool("override-dangerous", false, "allow repairs that may lose data (xfs_repair -L, btrfs check --repair)")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	mode := fsys.CheckPreen
	if *yes {
		mode = fsys.CheckRepair
	}
	if !c.plan("repair %s", pos[0]) {
		return nil
	}
	if err := c.manager(ctx, true); err != nil {
		return err
	}
	res, err := c.m.Repair(ctx, pos[0], fsys.CheckOptions{Mode: mode, Override: *dangerous}, c.overrides...)
	if err != nil {
		return err
	}
	return c.checkResult(res)
}

func (c *cli) resize(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("resize", flag.ContinueOnError), args, 2)
	if err != nil {
		return err
	}
	if err := c.manager(ctx, true); err != nil {
		return err
	}
	dev := pos[0]
	info, err := c.m.Inspect(ctx, dev)
	if err != nil {
		return err
	}
	size, err := parseSize(pos[1], info.DeviceBytes)
	if err != nil {
		return err
	}
	plan, _, err := c.m.PlanResize(ctx, dev, size)
	if err != nil {
		return err
	}
	if plan.To == plan.From {
		return c.print(plan, func(w io.Writer) { fmt.Fprintf(w, "%s is already %d bytes\n", dev, plan.From) })
	}
	if !c.apply {
		return c.print(plan, func(w io.Writer) {
			fmt.Fprintf(w, "would %s %s from %d to %d bytes by %s (add --apply to do it)\n", plan.Capability, dev, plan.From, plan.To, plan.Way)
		})
	}
	var prog func(string)
	if !c.asJSON {
		prog = func(line string) { fmt.Fprintln(c.errw, line) }
	}
	if _, err := c.m.Resize(ctx, dev, size, prog, c.overrides...); err != nil {
		return err
	}
	return c.print(plan, func(w io.Writer) { fmt.Fprintf(w, "%s: %s to %d bytes\n", dev, plan.Capability, plan.To) })
}

func (c *cli) minSize(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("min-size", flag.ContinueOnError), args, 1)
	if err != nil {
		return err
	}
	if err := c.manager(ctx, false); err != nil {
		return err
	}
	n, err := c.m.MinSize(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(map[string]any{"device": pos[0], "min_size_bytes": n}, func(w io.Writer) { fmt.Fprintln(w, n) })
}

func (c *cli) setID(ctx context.Context, name string, args []string, uuid bool) error {
	pos, err := c.parse(flag.NewFlagSet(name, flag.ContinueOnError), args, 2)
	if err != nil {
		return err
	}
	if !c.plan("set the %s of %s to %q", name, pos[0], pos[1]) {
		return nil
	}
	if err := c.manager(ctx, true); err != nil {
		return err
	}
	if uuid {
		err = c.m.SetUUID(ctx, pos[0], pos[1], c.overrides...)
	} else {
		err = c.m.SetLabel(ctx, pos[0], pos[1], c.overrides...)
	}
	if err != nil {
		return err
	}
	return c.info(ctx, []string{pos[0]})
}

func (c *cli) label(ctx context.Context, args []string) error {
	return c.setID(ctx, "label", args, false)
}
func (c *cli) uuid(ctx context.Context, args []string) error { return c.setID(ctx, "uuid", args, true) }

func (c *cli) freeze(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("freeze", flag.ContinueOnError), args, 1)
	if err != nil {
		return err
	}
	if !c.plan("freeze %s until thaw", pos[0]) {
		return nil
	}
	// As fsfreeze -f: the filesystem stays frozen after this process exits.
	// The context that would thaw it never ends before the process does.
	_, err = fsys.Freeze(context.Background(), pos[0])
	return err
}

func (c *cli) thaw(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("thaw", flag.ContinueOnError), args, 1)
	if err != nil {
		return err
	}
	if !c.plan("thaw %s", pos[0]) {
		return nil
	}
	return fsys.Thaw(ctx, pos[0])
}

func (c *cli) mount(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mount", flag.ContinueOnError)
	typ := fs.String("type", "", "filesystem type (default: what the device holds)")
	ro := fs.Bool("ro", false, "read-only")
	data := fs.String("options", "", "filesystem options, comma-separated")
	pos, err := c.parse(fs, args, 2)
	if err != nil {
		return err
	}
	if err := c.manager(ctx, false); err != nil {
		return err
	}
	t := fsys.Type(*typ)
	if t == "" {
		info, err := c.m.Inspect(ctx, pos[0])
		if err != nil {
			return err
		}
		t = fsys.Type(info.Type)
	}
	o := fsys.MountOptions{ReadOnly: *ro}
	if *data != "" {
		o.Data = strings.Split(*data, ",")
	}
	if !c.plan("mount %s (%s) on %s", pos[0], t, pos[1]) {
		return nil
	}
	return c.m.Mount(ctx, pos[0], pos[1], t, o)
}

func (c *cli) umount(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("umount", flag.ContinueOnError)
	lazy := fs.Bool("lazy", false, "detach now, clean up when no longer busy (MNT_DETACH)")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	if !c.plan("unmount %s", pos[0]) {
		return nil
	}
	if err := c.manager(ctx, false); err != nil {
		return err
	}
	return c.m.Unmount(ctx, pos[0], fsys.UnmountOptions{Lazy: *lazy})
}

func (c *cli) features(ctx context.Context, args []string) error {
	pos, err := c.parse(flag.NewFlagSet("features", flag.ContinueOnError), args, 1)
	if err != nil {
		return err
	}
	if err := c.manager(ctx, false); err != nil {
		return err
	}
	f, err := c.m.Features(ctx, fsys.Type(pos[0]))
	if err != nil {
		return err
	}
	return c.print(f, func(w io.Writer) {
		for _, cp := range fsys.Capabilities {
			s := f.Caps[cp]
			state := "no"
			switch {
			case s.Available:
				state = "yes"
			case s.Supported:
				state = "missing " + strings.Join(s.Missing, ", ")
			}
			fmt.Fprintf(w, "%-15s %-22s %s\n", cp, state, s.Note)
		}
	})
}

func (c *cli) recover(ctx context.Context, args []string) error {
	if _, err := c.parse(flag.NewFlagSet("recover", flag.ContinueOnError), args, 0); err != nil {
		return err
	}
	dir := c.journalDir
	if dir == "" {
		dir = safety.DefaultStateDir
	}
	if !c.apply {
		// A dry run only reads: no lock taken (the process that is
		// changing things keeps it), no torn record truncated.
		snap, err := safety.ReadJournal(ctx, dir)
		if err != nil {
			return err
		}
		pending := snap.Interrupted()
		return c.print(pending, func(w io.Writer) {
			for _, e := range pending {
				fmt.Fprintf(w, "interrupted %s: %s on %s after step %q\n", e.ID, e.Intent.Op, e.Intent.Target.Path, e.LastStep())
			}
			fmt.Fprintf(w, "%d interrupted (add --apply to settle them)\n", len(pending))
		})
	}
	j, err := safety.OpenJournal(ctx, append(fsys.RollForward(), safety.WithStateDir(dir))...)
	if err != nil {
		return err
	}
	defer j.Close()
	rec, err := j.Recover(ctx)
	if perr := c.print(rec, func(w io.Writer) {
		for _, r := range rec {
			fmt.Fprintf(w, "%+v\n", r)
		}
	}); perr != nil {
		return perr
	}
	return err
}
