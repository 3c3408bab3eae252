package quota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Steps a journaled quota mutation records, in order: "before" (its detail
// is the old state as JSON, read just before the change), "requested"
// (the change is about to be asked of the kernel or tune2fs), "done".
const (
	StepBefore    = "before"
	StepRequested = "requested"
	StepDone      = "done"
)

// OpOption configures one quota operation.
type OpOption func(*opConfig) error

type opConfig struct {
	journal  *safety.Journal
	onStep   func(kind, step string) error
	onEnable func(*Enablement)
}

// WithEnablement gives fn what an EnableOp's Enable reported (what it did,
// the mount options the filesystem needs) when the operation succeeds.
func WithEnablement(fn func(*Enablement)) OpOption {
	return func(c *opConfig) error {
		if fn == nil {
			return fmt.Errorf("%w: nil enablement func", ErrInvalid)
		}
		c.onEnable = fn
		return nil
	}
}

// WithJournal makes the operation a safety.Guard mutation journaled in j:
// the intent (the new state) before anything changes, the old state
// (step "before"), "requested" before the change and "done" after it, and
// the outcome. A process killed in between leaves the mutation
// interrupted, and j's Recover (with RollForward's options) finishes it:
// the new state stands, and the journal says rolled_forward. When that is
// not possible (the filesystem is gone from the mountpoint, quotas were
// turned off) recovery puts the journaled old state back and the journal
// says rolled_back.
func WithJournal(j *safety.Journal) OpOption {
	return func(c *opConfig) error {
		if j == nil {
			return fmt.Errorf("%w: nil journal", ErrInvalid)
		}
		c.journal = j
		return nil
	}
}

// HookUndo is the step name WithStepHook's fn sees when a plan's rollback
// is about to undo the mutation (journaled as a mutation of its own).
const HookUndo = "undo"

// WithStepHook calls fn after each step is journaled (or reached, without
// a journal), and with HookUndo before a journaled undo; a non-nil error
// fails the operation there (tests: a fault or a crash at each step).
func WithStepHook(fn func(kind, step string) error) OpOption {
	return func(c *opConfig) error {
		if fn == nil {
			return fmt.Errorf("%w: nil step hook", ErrInvalid)
		}
		c.onStep = fn
		return nil
	}
}

func newOpConfig(opts []OpOption) (*opConfig, error) {
	c := &opConfig{}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// opParams is what the journal keeps of a quota mutation: the new state,
// and which filesystem it is of (FS: fsKey at the time), so recovery never
// applies it to another filesystem mounted at the same place.
type opParams struct {
	Mountpoint string  `json:"mountpoint,omitempty"`
	Device     string  `json:"device,omitempty"` // ext4 Enable
	Dir        string  `json:"dir,omitempty"`    // SetProject
	FS         string  `json:"fs"`
	Kind       Kind    `json:"kind"`
	ID         uint64  `json:"id,omitempty"`
	Limits     *Limits `json:"limits,omitempty"`
	Grace      *Grace  `json:"grace,omitempty"`
	ProjID     uint32  `json:"projid,omitempty"`
	Inherit    bool    `json:"inherit,omitempty"`
}

// decodeParams reads a journaled mutation's params and checks that they
// are whole for kind: malformed ones are an error wrapping ErrInvalid.
func decodeParams(kind string, b []byte) (opParams, error) {
	var p opParams
	if err := json.Unmarshal(b, &p); err != nil {
		return opParams{}, fmt.Errorf("%w: journal params: %v", ErrInvalid, err)
	}
	bad := p.FS == ""
	switch kind {
	case OpSetLimits:
		bad = bad || p.Limits == nil || p.Mountpoint == "" || !p.Kind.valid()
	case OpSetGrace:
		bad = bad || p.Grace == nil || p.Mountpoint == "" || !p.Kind.valid()
	case OpSetProject:
		bad = bad || p.Dir == ""
	case OpEnable:
		bad = bad || (p.Mountpoint == "") == (p.Device == "")
	default:
		return opParams{}, fmt.Errorf("%w: no journaled quota operation %q", ErrInvalid, kind)
	}
	if bad {
		return opParams{}, fmt.Errorf("%w: journal params of %s incomplete: %s", ErrInvalid, kind, b)
	}
	return p, nil
}

// path is what the mutation names: its mountpoint, directory or device.
func (p opParams) path() string {
	switch {
	case p.Dir != "":
		return p.Dir
	case p.Device != "":
		return p.Device
	}
	return p.Mountpoint
}

// sameFS refuses when the path now holds another filesystem than the one
// the mutation was made for.
func (p opParams) sameFS() error {
	now, err := fsKey(p.path())
	if err != nil {
		return err
	}
	if now != p.FS {
		return fmt.Errorf("%w: %s is now on filesystem %s, the change was for %s", ErrInvalid, p.path(), now, p.FS)
	}
	return nil
}

// mutation is one quota change: read the state it replaces, make it, tell
// whether it is made, and put an old state back (nil: it cannot be undone).
type mutation struct {
	kind    string
	params  opParams
	read    func(ctx context.Context) (json.RawMessage, error)
	do      func(ctx context.Context) error
	isNew   func(ctx context.Context) (bool, error)
	restore func(ctx context.Context, before json.RawMessage) error
	// enabled is what the last do of an enable reported.
	enabled *Enablement
}

// ext4 s_feature_ro_compat bits Enable sets.
const (
	ext4ROCompatQuota   = 0x100
	ext4ROCompatProject = 0x2000
)

// ext4Features reads s_feature_ro_compat of the ext4 on dev.
func ext4Features(dev string) (uint32, error) {
	f, err := os.Open(dev)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	b := make([]byte, 4)
	if _, err := f.ReadAt(b, 1024+0x64); err != nil {
		return 0, &os.PathError{Op: "read superblock", Path: dev, Err: err}
	}
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24, nil
}

// mutationOf builds kind's mutation from its journaled params.
func (m *Manager) mutationOf(kind string, p opParams) (*mutation, error) {
	mu := &mutation{kind: kind, params: p}
	switch kind {
	case OpSetLimits:
		if p.Limits == nil {
			return nil, fmt.Errorf("%w: %s without limits", ErrInvalid, kind)
		}
		get := func(ctx context.Context) (Limits, error) {
			u, err := m.Get(ctx, p.Mountpoint, p.Kind, p.ID)
			if err != nil {
				return Limits{}, err
			}
			return u.Limits, nil
		}
		mu.read = func(ctx context.Context) (json.RawMessage, error) {
			l, err := get(ctx)
			return mustJSON(l), err
		}
		mu.do = func(ctx context.Context) error { return m.SetLimits(ctx, p.Mountpoint, p.Kind, p.ID, *p.Limits) }
		mu.isNew = func(ctx context.Context) (bool, error) {
			l, err := get(ctx)
			want := *p.Limits
			if p.Kind != Subvolume {
				want = kernelLimits(want) // ext4 and xfs keep whole KiB; a btrfs limit is bytes
			}
			return l == want, err
		}
		mu.restore = func(ctx context.Context, b json.RawMessage) error {
			var l Limits
			if err := json.Unmarshal(b, &l); err != nil {
				return fmt.Errorf("%w: journaled limits: %v", ErrInvalid, err)
			}
			return m.SetLimits(ctx, p.Mountpoint, p.Kind, p.ID, l)
		}
	case OpSetGrace:
		if p.Grace == nil {
			return nil, fmt.Errorf("%w: %s without grace times", ErrInvalid, kind)
		}
		mu.read = func(ctx context.Context) (json.RawMessage, error) {
			g, err := m.GetGrace(ctx, p.Mountpoint, p.Kind)
			return mustJSON(g), err
		}
		mu.do = func(ctx context.Context) error { return m.SetGrace(ctx, p.Mountpoint, p.Kind, *p.Grace) }
		mu.isNew = func(ctx context.Context) (bool, error) {
			g, err := m.GetGrace(ctx, p.Mountpoint, p.Kind)
			return g == kernelGrace(*p.Grace), err
		}
		mu.restore = func(ctx context.Context, b json.RawMessage) error {
			var g Grace
			if err := json.Unmarshal(b, &g); err != nil {
				return fmt.Errorf("%w: journaled grace: %v", ErrInvalid, err)
			}
			return m.SetGrace(ctx, p.Mountpoint, p.Kind, g)
		}
	case OpSetProject:
		mu.read = func(ctx context.Context) (json.RawMessage, error) {
			a, err := m.GetProject(ctx, p.Dir)
			return mustJSON(a), err
		}
		mu.do = func(ctx context.Context) error { return m.SetProject(ctx, p.Dir, p.ProjID, p.Inherit) }
		mu.isNew = func(ctx context.Context) (bool, error) {
			a, err := m.GetProject(ctx, p.Dir)
			return a == ProjectAttr{ID: p.ProjID, Inherit: p.Inherit}, err
		}
		mu.restore = func(ctx context.Context, b json.RawMessage) error {
			var a ProjectAttr
			if err := json.Unmarshal(b, &a); err != nil {
				return fmt.Errorf("%w: journaled project id: %v", ErrInvalid, err)
			}
			return m.SetProject(ctx, p.Dir, a.ID, a.Inherit)
		}
	case OpEnable:
		if p.Device != "" {
			m.ext4Enable(mu, p.Device)
			break
		}
		on := func(ctx context.Context) (bool, error) {
			f, err := m.btrfsOpen(&mount{path: p.Mountpoint})
			if err != nil {
				return false, err
			}
			defer f.Close()
			return f.QuotaEnabled(ctx)
		}
		mu.read = func(ctx context.Context) (json.RawMessage, error) {
			b, err := on(ctx)
			return mustJSON(b), err
		}
		mu.do = func(ctx context.Context) error {
			e := &Enablement{FSType: fsBtrfs, Target: p.Mountpoint}
			if err := m.enableBtrfs(ctx, p.Mountpoint, e); err != nil {
				return err
			}
			mu.enabled = e
			return nil
		}
		mu.isNew = on
		mu.restore = func(ctx context.Context, b json.RawMessage) error {
			var was bool
			if err := json.Unmarshal(b, &was); err != nil {
				return fmt.Errorf("%w: journaled quota state: %v", ErrInvalid, err)
			}
			if was {
				return nil // Enable of quotas that were on changed nothing
			}
			f, err := m.btrfsOpen(&mount{path: p.Mountpoint})
			if err != nil {
				return err
			}
			defer f.Close()
			if now, err := f.QuotaEnabled(ctx); err != nil || !now {
				return err
			}
			m.log.Info("quota disable btrfs (undo of enable)", "mountpoint", p.Mountpoint)
			return f.DisableQuota(ctx)
		}
	default:
		return nil, fmt.Errorf("%w: no journaled quota operation %q", ErrInvalid, kind)
	}
	return mu, nil
}

// ext4Enable is Enable of an unmounted ext4: tune2fs, checked by the
// superblock's features. It has no undo (tune2fs cannot clear the project
// feature). Done again after a crash, it first repairs the filesystem
// (e2fsck -fy: tune2fs may have been killed between writing the quota
// inodes and the superblock).
func (m *Manager) ext4Enable(mu *mutation, dev string) {
	mu.read = func(context.Context) (json.RawMessage, error) {
		f, err := ext4Features(dev)
		return mustJSON(map[string]uint32{"ro_compat": f}), err
	}
	mu.isNew = func(context.Context) (bool, error) {
		f, err := ext4Features(dev)
		const want = ext4ROCompatQuota | ext4ROCompatProject
		return f&want == want, err
	}
	mu.do = func(ctx context.Context) error {
		e, err := m.Enable(ctx, dev)
		if err == nil {
			mu.enabled = e
		}
		return err
	}
}

// repairExt4 runs e2fsck -fy on dev; exit codes 0 and 1 (errors fixed) are
// success.
func (m *Manager) repairExt4(ctx context.Context, dev string) error {
	_, err := m.runner.Run(ctx, command.Cmd{Tool: "e2fsck", Args: []string{"-fy", dev}})
	var ee *command.ExitError
	if errors.As(err, &ee) && ee.Code == 1 {
		return nil
	}
	return err
}

// kernelLimits is l as ext4 and xfs keep it: block limits in whole KiB.
func kernelLimits(l Limits) Limits {
	k := toKernel(l)
	return Limits{BlockSoft: k.BSoftLimit * 1024, BlockHard: k.BHardLimit * 1024, InodeSoft: l.InodeSoft, InodeHard: l.InodeHard}
}

// kernelGrace is g in whole seconds, as the kernel keeps it.
func kernelGrace(g Grace) Grace {
	return Grace{Block: g.Block.Truncate(1e9), Inode: g.Inode.Truncate(1e9)}
}

// journaled builds the operation of mutation kind: journaled by
// safety.Guard with a journal, a plain operation with an in-memory
// rollback otherwise.
func (m *Manager) journaled(kind, what string, key sched.Key, p opParams, opts []OpOption, description string) (sched.Operation, error) {
	c, err := newOpConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	if p.FS, err = fsKey(p.path()); err != nil {
		return sched.Operation{}, err
	}
	mu, err := m.mutationOf(kind, p)
	if err != nil {
		return sched.Operation{}, err
	}
	op := sched.Operation{ID: kind + what, Kind: kind, Resources: []sched.Resource{key.Exclusive()}}
	var lock sync.Mutex
	var before json.RawMessage // the old state, read by the last Execute
	step := func(ctx context.Context, mut *safety.Mutation, name, detail string) error {
		if mut != nil {
			if err := mut.Step(context.WithoutCancel(ctx), name, detail); err != nil {
				return err
			}
		}
		if c.onStep != nil {
			return c.onStep(kind, name)
		}
		return nil
	}
	run := func(ctx context.Context, mut *safety.Mutation) error {
		lock.Lock()
		before = nil
		lock.Unlock()
		b, err := mu.read(ctx)
		if err != nil {
			return err
		}
		lock.Lock()
		before = b
		lock.Unlock()
		if err := step(ctx, mut, StepBefore, string(b)); err != nil {
			return err
		}
		if err := step(ctx, mut, StepRequested, ""); err != nil {
			return err
		}
		if err := mu.do(ctx); err != nil {
			return err
		}
		if err := step(ctx, mut, StepDone, ""); err != nil {
			return err
		}
		if c.onEnable != nil && mu.enabled != nil {
			c.onEnable(mu.enabled)
		}
		return nil
	}
	undo := func(ctx context.Context) error {
		lock.Lock()
		b := before
		lock.Unlock()
		if b == nil {
			return nil // it never got as far as reading, so changed nothing
		}
		if mu.restore == nil {
			if done, err := mu.isNew(ctx); err != nil || done {
				return errors.Join(err, fmt.Errorf("quota: %s happened and cannot be undone", kind))
			}
			return nil
		}
		return mu.restore(ctx, b)
	}
	if c.journal == nil {
		op.Execute = func(ctx context.Context, _ sched.Progress) error { return run(ctx, nil) }
		if mu.restore != nil {
			op.Rollback = undo
		}
		return op, nil
	}
	target, err := m.targetDevice(context.Background(), p)
	if err != nil {
		return sched.Operation{}, err
	}
	g := safety.Guarded{
		Op:     op,
		Target: target,
		Intent: safety.Intent{Description: description, Params: mustJSON(p)},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, _ sched.Progress) error {
			return run(ctx, mut)
		},
		// A quota change is one kernel call: a failure leaves the old
		// state, or the journaled old state is put back (a fault after
		// the call).
		OnFailure: func(ctx context.Context, _ *safety.DeviceLock, _ error) error { return undo(ctx) },
	}
	if mu.restore != nil {
		g.Compensate = func(ctx context.Context, _ *safety.DeviceLock) error {
			if c.onStep != nil {
				if err := c.onStep(kind, HookUndo); err != nil {
					return err
				}
			}
			return undo(ctx)
		}
	}
	out, err := safety.Guard(c.journal, g)
	if err != nil {
		return sched.Operation{}, err
	}
	if mu.restore == nil {
		out.Rollback = nil // irreversible: a later failure of the plan leaves it done
	}
	return out, nil
}

// targetDevice is the block device the journal names for the mutation:
// the filesystem's (the first member of a btrfs).
func (m *Manager) targetDevice(ctx context.Context, p opParams) (string, error) {
	if p.Device != "" {
		return p.Device, nil
	}
	mo, err := m.open(p.path())
	if err != nil {
		return "", err
	}
	defer mo.close()
	if mo.fstype == fsBtrfs {
		f, err := m.btrfsOpen(mo)
		if err != nil {
			return "", err
		}
		defer f.Close()
		devs, err := f.Devices(ctx)
		if err != nil {
			return "", err
		}
		if len(devs) == 0 {
			return "", fmt.Errorf("quota: the btrfs at %s lists no device", p.path())
		}
		return devs[0].Path, nil
	}
	return m.device(mo)
}

// RollForward is the journal options that let safety's Recover settle an
// interrupted quota mutation: pass them to safety.OpenJournal. opts
// configure the Manager that does it (a runner, a logger).
//
// A set-limits, set-grace, set-project or enable is finished: after
// checking the path still holds the same filesystem, the change is made
// again unless it is already made, then checked (the journal says
// rolled_forward: the new state). When that fails, the old state journaled
// at step "before" is put back (rolled_back: the old state; a mutation
// interrupted before that step changed nothing). An interrupted undo (the
// ".rollback" of a plan that failed later) is taken back to the forward
// mutation's new state, which is the state it started from (rolled_back).
// An ext4 enable is finished after e2fsck -fy repaired what a killed
// tune2fs may have left.
func RollForward(opts ...Option) []safety.Option {
	var once sync.Once
	var mgr *Manager
	var merr error
	load := func(e safety.Entry, kind string) (*Manager, *mutation, error) {
		once.Do(func() { mgr, merr = New(opts...) })
		if merr != nil {
			return nil, nil, merr
		}
		p, err := decodeParams(kind, e.Intent.Params)
		if err != nil {
			return nil, nil, err
		}
		if err := p.sameFS(); err != nil {
			return nil, nil, err
		}
		mu, err := mgr.mutationOf(kind, p)
		return mgr, mu, err
	}
	var out []safety.Option
	for _, kind := range []string{OpSetLimits, OpSetGrace, OpSetProject, OpEnable} {
		forward := func(ctx context.Context, e safety.Entry) error {
			m, mu, err := load(e, kind)
			if err != nil {
				return err
			}
			done, err := mu.isNew(ctx)
			if err != nil {
				return err
			}
			if !done {
				if mu.params.Device != "" {
					if err := m.repairExt4(ctx, mu.params.Device); err != nil {
						return fmt.Errorf("quota: repair before finishing the enable: %w", err)
					}
				}
				if err := mu.do(ctx); err != nil {
					return err
				}
			}
			if done, err = mu.isNew(ctx); err == nil && !done {
				err = fmt.Errorf("quota: %s still not made after the roll-forward", kind)
			}
			return err
		}
		back := func(ctx context.Context, e safety.Entry) error {
			_, mu, err := load(e, kind)
			if err != nil {
				return err
			}
			var before json.RawMessage
			for _, st := range e.Steps {
				if st.Name == StepBefore {
					before = json.RawMessage(st.Detail)
				}
			}
			if before == nil {
				return nil // interrupted before it read the old state: nothing changed
			}
			if mu.restore == nil {
				if done, err := mu.isNew(ctx); err != nil || done {
					return errors.Join(err, fmt.Errorf("quota: %s happened and cannot be undone", kind))
				}
				return nil
			}
			return mu.restore(ctx, before)
		}
		// The undo of a finished mutation started from its new state:
		// recovery takes an interrupted undo back there.
		undoBack := func(ctx context.Context, e safety.Entry) error {
			_, mu, err := load(e, kind)
			if err != nil {
				return err
			}
			return mu.do(ctx)
		}
		out = append(out,
			safety.WithRollForward(kind, forward),
			safety.WithRollBack(kind, back),
			safety.WithRollBack(kind+".rollback", undoBack))
	}
	return out
}
