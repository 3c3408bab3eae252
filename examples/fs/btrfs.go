package main

// The btrfs command family: subvolumes, snapshots, scrub, balance, devices
// and qgroups of a mounted btrfs, through fsys/btrfs (ioctls only).
//
//	subvolume create PATH | delete PATH [--override-refusal CODE] | delete MNT --id N
//	          | list MNT | get-default MNT | set-default MNT ID
//	          | get-readonly PATH | set-readonly PATH true|false
//	snapshot SRC DST [--readonly]
//	scrub start MNT [--readonly] | status MNT | cancel MNT | resume MNT
//	balance start MNT [--usage N] [--devid N] [--convert P] [--force]
//	        | status MNT | pause MNT | resume MNT | cancel MNT
//	device add DEV MNT | remove DEVID MNT | usage MNT | resize MNT DEVID|all SIZE|max
//	qgroup show MNT | limit MNT QGROUP SIZE|none [--exclusive SIZE|none]
//	       | enable MNT | disable MNT
//
// Changes (and repairing scrubs) need --apply; a scrub started here saves
// where each device got to in the state directory (--journal), so
// `scrub resume` goes on from there after a cancel or an interrupt.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func init() {
	commands["subvolume"] = (*cli).subvolume
	commands["snapshot"] = (*cli).snapshot
	commands["scrub"] = (*cli).scrub
	commands["balance"] = (*cli).balance
	commands["device"] = (*cli).device
	commands["qgroup"] = (*cli).qgroup
}

// refusedBtrfs makes a btrfs refusal exit as a refusal (3).
func refusedBtrfs(err error) error {
	if errors.Is(err, btrfs.ErrRefused) && !errors.Is(err, fsys.ErrRefused) {
		return fmt.Errorf("%w: %w", fsys.ErrRefused, err)
	}
	return err
}

func sub(args []string, what string, verbs ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usagef("%s wants one of %s", what, strings.Join(verbs, "|"))
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, usagef("%s %s: unknown (want %s)", what, args[0], strings.Join(verbs, "|"))
}

func openBtrfs(path string) (*btrfs.FS, error) { return btrfs.Open(path) }

// journaled runs a btrfs operation built with the run's journal (opened
// as for every mutating command), so `fs recover` can finish it after a
// crash.
func (c *cli) journaled(ctx context.Context, build func(j btrfs.OpOption) (sched.Operation, error)) error {
	if err := c.manager(ctx, true); err != nil {
		return err
	}
	op, err := build(btrfs.WithJournal(c.journal))
	if err != nil {
		return refusedBtrfs(err)
	}
	return refusedBtrfs(op.Execute(ctx, nil))
}

// isTerminal reports whether w is a terminal (TCGETS answers).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// bar is a progress bar on a terminal, nothing otherwise.
func (c *cli) bar(total int64, what string) *progressbar.ProgressBar {
	if c.asJSON || !isTerminal(c.out) {
		return nil
	}
	out := c.out
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(what == "scrub"), progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }))
}

func (c *cli) subvolume(ctx context.Context, args []string) error {
	verb, rest, err := sub(args, "subvolume", "create", "delete", "list", "get-default", "set-default", "get-readonly", "set-readonly")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("subvolume "+verb, flag.ContinueOnError)
	var overrides []string
	fs.Func("override-refusal", "let a refusal through: mounted_elsewhere, default_subvolume, has_children", func(v string) error {
		overrides = append(overrides, v)
		return nil
	})
	byID := fs.Uint64("id", 0, "delete subvolume N of the filesystem at MNT")
	n := map[string]int{"create": 1, "delete": 1, "list": 1, "get-default": 1, "set-default": 2, "get-readonly": 1, "set-readonly": 2}[verb]
	pos, err := c.parse(fs, rest, n)
	if err != nil {
		return err
	}
	at := pos[0]
	if verb == "create" || (verb == "delete" && *byID == 0) {
		at = filepath.Dir(pos[0])
	}
	f, err := openBtrfs(at)
	if err != nil {
		return err
	}
	defer f.Close()
	switch verb {
	case "create":
		if !c.plan("create subvolume %s", pos[0]) {
			return nil
		}
		return c.journaled(ctx, func(j btrfs.OpOption) (sched.Operation, error) {
			return btrfs.SubvolumeCreateOp(at, pos[0], j)
		})
	case "get-readonly":
		ro, err := f.ReadOnly(ctx, pos[0])
		if err != nil {
			return err
		}
		return c.print(map[string]bool{"read_only": ro}, func(w io.Writer) { fmt.Fprintln(w, ro) })
	case "set-readonly":
		ro, err := strconv.ParseBool(pos[1])
		if err != nil {
			return usagef("set-readonly wants true or false, not %q", pos[1])
		}
		if !c.plan("make subvolume %s read-only=%v", pos[0], ro) {
			return nil
		}
		return f.SetReadOnly(ctx, pos[0], ro)
	case "delete":
		id := *byID
		if id == 0 {
			if id, err = f.SubvolumeID(ctx, pos[0]); err != nil {
				return err
			}
		}
		p, err := f.PlanDelete(ctx, id)
		if err != nil {
			return refusedBtrfs(err)
		}
		if !c.apply {
			for _, r := range p.Refusals {
				fmt.Fprintf(c.out, "refused unless overridden: %v\n", r)
			}
		}
		if !c.plan("delete subvolume %d (%s)", id, p.Subvolume.Path) {
			return nil
		}
		if *byID != 0 {
			return refusedBtrfs(f.DeleteSubvolumeID(ctx, id, btrfs.WithOverride(overrides...)))
		}
		return c.journaled(ctx, func(j btrfs.OpOption) (sched.Operation, error) {
			return btrfs.SubvolumeDeleteOp(at, pos[0], j, btrfs.WithOptions(btrfs.WithOverride(overrides...)))
		})
	case "list":
		subs, err := f.Subvolumes(ctx)
		if err != nil {
			return err
		}
		return c.print(subs, func(w io.Writer) {
			for _, s := range subs {
				kind := "subvolume"
				if s.Snapshot {
					kind = "snapshot"
				}
				ro := ""
				if s.ReadOnly {
					ro = " ro"
				}
				fmt.Fprintf(w, "ID %d gen %d parent %d %s%s uuid %s path %s\n", s.ID, s.Generation, s.ParentID, kind, ro, s.UUID, s.Path)
			}
		})
	case "get-default":
		id, err := f.DefaultSubvolume(ctx)
		if err != nil {
			return err
		}
		return c.print(map[string]uint64{"default": id}, func(w io.Writer) { fmt.Fprintln(w, id) })
	default: // set-default
		id, err := strconv.ParseUint(pos[1], 10, 64)
		if err != nil {
			return usagef("subvolume id %q", pos[1])
		}
		if !c.plan("make subvolume %d the default of %s", id, pos[0]) {
			return nil
		}
		return f.SetDefaultSubvolume(ctx, id)
	}
}

func (c *cli) snapshot(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	ro := fs.Bool("readonly", false, "make a read-only snapshot")
	pos, err := c.parse(fs, args, 2)
	if err != nil {
		return err
	}
	f, err := openBtrfs(filepath.Dir(pos[1]))
	if err != nil {
		return err
	}
	defer f.Close()
	kind := "writable"
	if *ro {
		kind = "read-only"
	}
	if !c.plan("snapshot %s to %s (%s)", pos[0], pos[1], kind) {
		return nil
	}
	return c.journaled(ctx, func(j btrfs.OpOption) (sched.Operation, error) {
		return btrfs.SnapshotOp(filepath.Dir(pos[1]), pos[0], pos[1], *ro, j)
	})
}

// scrubState is what `scrub start` leaves for `scrub status` and `scrub
// resume`: the last counters and where each device got to.
type scrubState struct {
	FSID     string            `json:"fsid"`
	ReadOnly bool              `json:"read_only"`
	Status   btrfs.ScrubStatus `json:"status"`
	Resume   map[uint64]uint64 `json:"resume,omitempty"`
	Ended    time.Time         `json:"ended"`
	Error    string            `json:"error,omitempty"`
}

func (c *cli) stateDir() string {
	if c.journalDir != "" {
		return c.journalDir
	}
	return safety.DefaultStateDir
}

func (c *cli) scrubStatePath(f *btrfs.FS) string {
	return filepath.Join(c.stateDir(), "btrfs-scrub-"+f.FSID().String()+".json")
}

func (c *cli) printScrub(st btrfs.ScrubStatus, state string) error {
	return c.print(struct {
		State string            `json:"state"`
		Scrub btrfs.ScrubStatus `json:"scrub"`
		Total btrfs.ScrubStats  `json:"totals"`
	}{state, st, st.Totals()}, func(w io.Writer) {
		fmt.Fprintf(w, "scrub %s\n", state)
		for _, d := range st.Devices {
			s := d.Stats
			fmt.Fprintf(w, "device %d (%s): %d data + %d tree bytes, csum errors %d, read errors %d, corrected %d, uncorrectable %d, last_physical %d\n",
				d.Devid, d.Path, s.DataBytesScrubbed, s.TreeBytesScrubbed, s.CsumErrors, s.ReadErrors, s.CorrectedErrors, s.UncorrectableErrors, s.LastPhysical)
		}
	})
}

func (c *cli) scrub(ctx context.Context, args []string) error {
	verb, rest, err := sub(args, "scrub", "start", "status", "cancel", "resume")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("scrub "+verb, flag.ContinueOnError)
	ro := fs.Bool("readonly", false, "only count errors, repair nothing")
	pos, err := c.parse(fs, rest, 1)
	if err != nil {
		return err
	}
	f, err := openBtrfs(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	switch verb {
	case "status":
		if st, err := f.ScrubProgress(ctx); err == nil {
			return c.printScrub(st, "running")
		} else if !errors.Is(err, btrfs.ErrNotRunning) {
			return err
		}
		b, err := os.ReadFile(c.scrubStatePath(f))
		if errors.Is(err, os.ErrNotExist) {
			return c.print(map[string]string{"state": "none"}, func(w io.Writer) { fmt.Fprintln(w, "no scrub running or recorded") })
		}
		if err != nil {
			return err
		}
		var s scrubState
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("scrub state %s: %w", c.scrubStatePath(f), err)
		}
		state := "finished"
		if s.Status.Canceled() {
			state = "canceled (resumable)"
		}
		return c.printScrub(s.Status, state)
	case "cancel":
		if !c.plan("cancel the scrub of %s", pos[0]) {
			return nil
		}
		return f.CancelScrub(ctx)
	}
	o := btrfs.ScrubOptions{ReadOnly: *ro}
	if verb == "resume" {
		b, err := os.ReadFile(c.scrubStatePath(f))
		if err != nil {
			return fmt.Errorf("nothing to resume: %w", err)
		}
		var s scrubState
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if len(s.Resume) == 0 {
			return fmt.Errorf("%w: the last scrub of %s finished; nothing to resume", fsys.ErrInvalid, pos[0])
		}
		o.Start, o.ReadOnly = s.Resume, s.ReadOnly
	}
	if !o.ReadOnly && !c.plan("%s a repairing scrub of %s", verb, pos[0]) {
		return nil
	}
	var bar *progressbar.ProgressBar
	st, serr := f.Scrub(ctx, o, func(s btrfs.ScrubStatus) {
		if bar == nil {
			bar = c.bar(s.Total(), "scrub")
		}
		if bar != nil {
			_ = bar.Set64(min(s.Done(), s.Total()))
		}
	})
	if bar != nil {
		if serr == nil {
			_ = bar.Finish() // done: the whole allocation was read, whatever the data filled
		} else {
			fmt.Fprintln(c.out)
		}
	}
	if len(st.Devices) > 0 {
		save := scrubState{FSID: f.FSID().String(), ReadOnly: o.ReadOnly, Status: st, Resume: st.Resume(), Ended: time.Now().UTC()}
		if serr != nil {
			save.Error = serr.Error()
		}
		if err := os.MkdirAll(c.stateDir(), 0o700); err == nil {
			b, _ := json.MarshalIndent(save, "", "  ")
			if err := os.WriteFile(c.scrubStatePath(f), b, 0o600); err != nil {
				fmt.Fprintf(c.errw, "fs: saving scrub state: %v\n", err)
			}
		}
	}
	if serr != nil && !st.Canceled() {
		return serr
	}
	state := "finished"
	if st.Canceled() {
		state = "canceled (resumable)"
	}
	if err := c.printScrub(st, state); err != nil {
		return err
	}
	if st.Totals().UncorrectableErrors > 0 || (o.ReadOnly && st.Totals().Errors() > 0) {
		return errProblems
	}
	return nil
}

func (c *cli) printBalance(st btrfs.BalanceStatus) error {
	return c.print(struct {
		State string `json:"state"`
		btrfs.BalanceStatus
	}{st.State(), st}, func(w io.Writer) {
		fmt.Fprintf(w, "balance %s: %d out of about %d chunks balanced (%d considered)\n", st.State(), st.Completed, st.Expected, st.Considered)
	})
}

func (c *cli) balanceBar() (func(btrfs.BalanceStatus), func()) {
	var bar *progressbar.ProgressBar
	return func(s btrfs.BalanceStatus) {
			if bar == nil && s.Expected > 0 {
				bar = c.bar(int64(s.Expected), "balance")
			}
			if bar != nil {
				_ = bar.Set64(int64(min(s.Completed, s.Expected)))
			}
		}, func() {
			if bar != nil {
				_ = bar.Finish()
			}
		}
}

func (c *cli) balance(ctx context.Context, args []string) error {
	verb, rest, err := sub(args, "balance", "start", "status", "pause", "resume", "cancel")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("balance "+verb, flag.ContinueOnError)
	usage := fs.Int("usage", -1, "only chunks at most N percent full")
	devid := fs.Uint64("devid", 0, "only chunks on device N")
	convert := fs.String("convert", "", "convert data and metadata to profile P")
	force := fs.Bool("force", false, "allow reducing metadata redundancy")
	pos, err := c.parse(fs, rest, 1)
	if err != nil {
		return err
	}
	f, err := openBtrfs(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	switch verb {
	case "status":
		st, err := f.BalanceProgress(ctx)
		if errors.Is(err, btrfs.ErrNotRunning) {
			return c.print(map[string]string{"state": "none"}, func(w io.Writer) { fmt.Fprintln(w, "no balance running or paused") })
		}
		if err != nil {
			return err
		}
		return c.printBalance(st)
	case "pause":
		if !c.plan("pause the balance of %s", pos[0]) {
			return nil
		}
		return f.PauseBalance(ctx)
	case "cancel":
		if !c.plan("cancel the balance of %s", pos[0]) {
			return nil
		}
		return f.CancelBalance(ctx)
	case "resume":
		if !c.plan("resume the balance of %s", pos[0]) {
			return nil
		}
		prog, done := c.balanceBar()
		st, err := f.ResumeBalance(ctx, 0, prog)
		done()
		if err != nil {
			return err
		}
		return c.printBalance(st)
	}
	var o btrfs.BalanceOptions
	if *usage >= 0 || *devid != 0 || *convert != "" {
		flt := btrfs.BalanceFilter{Devid: *devid, Convert: *convert}
		if *usage >= 0 {
			flt.Usage = usage
		}
		d, m := flt, flt
		o.Data, o.Metadata = &d, &m
	}
	o.Force = *force
	desc := "a full balance"
	if o.Data != nil {
		b, _ := json.Marshal(o.Data)
		desc = "a balance of data and metadata chunks with " + string(b)
	}
	if !c.plan("start %s of %s", desc, pos[0]) {
		return nil
	}
	prog, done := c.balanceBar()
	st, err := f.Balance(ctx, o, prog)
	done()
	if err != nil {
		return err
	}
	return c.printBalance(st)
}

func (c *cli) device(ctx context.Context, args []string) error {
	verb, rest, err := sub(args, "device", "add", "remove", "usage", "resize")
	if err != nil {
		return err
	}
	n := map[string]int{"add": 2, "remove": 2, "usage": 1, "resize": 3}[verb]
	pos, err := c.parse(flag.NewFlagSet("device "+verb, flag.ContinueOnError), rest, n)
	if err != nil {
		return err
	}
	mnt := pos[len(pos)-1]
	if verb == "usage" || verb == "resize" {
		mnt = pos[0]
	}
	f, err := openBtrfs(mnt)
	if err != nil {
		return err
	}
	defer f.Close()
	switch verb {
	case "usage":
		devs, err := f.DeviceUsage(ctx)
		if err != nil {
			return err
		}
		return c.print(devs, func(w io.Writer) {
			for _, d := range devs {
				fmt.Fprintf(w, "%s, ID: %d\n   Device size: %d\n", d.Path, d.Devid, d.Size)
				for _, a := range d.Usage {
					fmt.Fprintf(w, "   %s,%s: %d\n", a.Type, strings.ToUpper(a.Profile), a.Bytes)
				}
				fmt.Fprintf(w, "   Unallocated: %d\n", d.Size-d.Used)
			}
		})
	case "add":
		// The device is written over: the same preflight as a mkfs (the
		// operation runs it again when it starts).
		r, err := safety.Check(ctx, pos[0], safety.OpFormat)
		if err != nil {
			return err
		}
		if !r.Allowed {
			return r.Err()
		}
		if !c.plan("add %s to %s", pos[0], mnt) {
			return nil
		}
		return c.journaled(ctx, func(j btrfs.OpOption) (sched.Operation, error) {
			return btrfs.DeviceAddOp(mnt, pos[0], j)
		})
	case "remove":
		id, err := strconv.ParseUint(pos[0], 10, 64)
		if err != nil {
			return usagef("devid %q", pos[0])
		}
		if err := f.PlanRemove(ctx, id); err != nil {
			return refusedBtrfs(err)
		}
		if !c.plan("remove device %d from %s (its chunks move to the others)", id, mnt) {
			return nil
		}
		return c.journaled(ctx, func(j btrfs.OpOption) (sched.Operation, error) {
			return btrfs.DeviceRemoveOp(mnt, id, j)
		})
	default: // resize MNT DEVID|all SIZE|max
		size := int64(0)
		if pos[2] != "max" {
			if size, err = parseSize(pos[2], 0); err != nil {
				return err
			}
		}
		if pos[1] == "all" {
			if !c.plan("resize every device of %s to %s", mnt, pos[2]) {
				return nil
			}
			return f.ResizeAll(ctx, size)
		}
		id, err := strconv.ParseUint(pos[1], 10, 64)
		if err != nil {
			return usagef("devid %q", pos[1])
		}
		if !c.plan("resize device %d of %s to %s", id, mnt, pos[2]) {
			return nil
		}
		return f.Resize(ctx, id, size)
	}
}

func limitArg(s string) (int64, error) {
	if s == "none" {
		return -1, nil
	}
	return parseSize(s, 0)
}

func (c *cli) qgroup(ctx context.Context, args []string) error {
	verb, rest, err := sub(args, "qgroup", "show", "limit", "enable", "disable")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("qgroup "+verb, flag.ContinueOnError)
	excl := fs.String("exclusive", "none", "exclusive limit: SIZE or none")
	n := map[string]int{"show": 1, "limit": 3, "enable": 1, "disable": 1}[verb]
	pos, err := c.parse(fs, rest, n)
	if err != nil {
		return err
	}
	f, err := openBtrfs(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	switch verb {
	case "show":
		qs, err := f.Qgroups(ctx)
		if err != nil {
			return err
		}
		type row struct {
			ID string `json:"qgroupid"`
			btrfs.Qgroup
		}
		rows := make([]row, len(qs))
		for i, q := range qs {
			rows[i] = row{q.ID.String(), q}
		}
		return c.print(rows, func(w io.Writer) {
			lim := func(v int64) string {
				if v < 0 {
					return "none"
				}
				return strconv.FormatInt(v, 10)
			}
			fmt.Fprintf(w, "%-12s %14s %14s %14s %14s\n", "qgroupid", "rfer", "excl", "max_rfer", "max_excl")
			for _, q := range qs {
				fmt.Fprintf(w, "%-12s %14d %14d %14s %14s\n", q.ID, q.Referenced, q.Exclusive, lim(q.MaxReferenced), lim(q.MaxExclusive))
			}
		})
	case "enable":
		if !c.plan("turn quotas on for %s", pos[0]) {
			return nil
		}
		return f.EnableQuota(ctx)
	case "disable":
		if !c.plan("turn quotas off for %s", pos[0]) {
			return nil
		}
		return f.DisableQuota(ctx)
	}
	id, err := btrfs.ParseQgroupID(pos[1])
	if err != nil {
		return usagef("%v", err)
	}
	rfer, err := limitArg(pos[2])
	if err != nil {
		return err
	}
	ex, err := limitArg(*excl)
	if err != nil {
		return err
	}
	if !c.plan("limit qgroup %s of %s to %s referenced, %s exclusive", id, pos[0], pos[2], *excl) {
		return nil
	}
	return f.SetQgroupLimit(ctx, id, rfer, ex)
}
