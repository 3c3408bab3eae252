package lvm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// ErrNoJournal: a mutation was asked of a Manager made without WithJournal.
var ErrNoJournal = errors.New("lvm: mutations need a journal (WithJournal)")

// ErrRefused is what every *RefusedError matches.
var ErrRefused = errors.New("lvm: refused")

// Refusal codes of the lvm preflight (stable strings).
const (
	CodeOpen         safety.Code = "lv_open"          // the LV (or one of the VG's) is open
	CodeHasSnapshots safety.Code = "has_snapshots"    // a reduce of an origin with snapshots
	CodeFsUnknown    safety.Code = "fs_unknown"       // a reduce of an LV whose filesystem cannot be read (inactive)
	CodeFsShrink     safety.Code = "fs_cannot_shrink" // the filesystem cannot shrink to the size (xfs, below MinSize)
	CodeThinRestore  safety.Code = "thin_restore"     // vgcfgrestore of a VG with thin pools (lvm's manual: may lose data)
	CodeNotOrphan    safety.Code = "pv_in_vg"         // pvremove of a PV that belongs to a VG
	// CodePVShrink: a pvresize below the end of the PV's last allocated
	// extent (lvm would refuse too; this says which LV is in the way).
	CodePVShrink safety.Code = "pv_shrink_allocated"
	// CodePVBeyondDevice: a pvresize larger than the device (lvm, with -y,
	// would override the real size and the VG could allocate extents that
	// do not exist).
	CodePVBeyondDevice safety.Code = "pv_beyond_device"
)

// RefusedError is an lvm preflight refusal with its reason.
type RefusedError struct {
	Code   safety.Code
	Reason string
}

func (e *RefusedError) Error() string        { return fmt.Sprintf("lvm: refused (%s): %s", e.Code, e.Reason) }
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Manager runs LVM lifecycle changes as guarded sched.Operations: each VG
// metadata change is preceded by vgcfgbackup into the journal, its seqno is
// journaled, and its undo is the operation's inverse or vgcfgrestore.
type Manager struct {
	tool    *Tool
	journal *safety.Journal
	fs      *fsys.Manager
	log     *slog.Logger
	root    string
	hook    func(kind, step string) error
}

// ManagerOption configures a Manager.
type ManagerOption func(*Manager) error

// NewManager returns a Manager running lvm through t.
func NewManager(t *Tool, opts ...ManagerOption) (*Manager, error) {
	if t == nil {
		return nil, errors.New("lvm: nil tool")
	}
	m := &Manager{tool: t, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// WithJournal is where every mutation is journaled; without it the Manager
// only reads.
func WithJournal(j *safety.Journal) ManagerOption {
	return func(m *Manager) error {
		if j == nil {
			return errors.New("lvm: nil journal")
		}
		m.journal = j
		return nil
	}
}

// WithFsys makes LV resizes filesystem-aware through f.
func WithFsys(f *fsys.Manager) ManagerOption {
	return func(m *Manager) error {
		if f == nil {
			return errors.New("lvm: nil fsys manager")
		}
		m.fs = f
		return nil
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) ManagerOption {
	return func(m *Manager) error {
		if l == nil {
			return errors.New("lvm: nil logger")
		}
		m.log = l
		return nil
	}
}

// WithRoot says where sysfs and /dev are for the safety preflight (tests).
func WithRoot(dir string) ManagerOption {
	return func(m *Manager) error {
		if dir == "" {
			return errors.New("lvm: empty root")
		}
		m.root = dir
		return nil
	}
}

// WithStepHook calls f after each journaled step of every mutation; an
// error from it fails the mutation there (fault tests).
func WithStepHook(f func(kind, step string) error) ManagerOption {
	return func(m *Manager) error { m.hook = f; return nil }
}

// OpOption configures one operation.
type OpOption func(*opConfig) error

type opConfig struct {
	id        string
	deps      []string
	overrides []safety.Override
	preflight func(ctx context.Context, rep *Report) error
}

// WithPreflight adds a check of the caller's to the operation's preflight:
// it runs on a fresh inventory when the operation is built and again
// before each attempt, under the VG's exclusive claim and its journal
// target's lock, so a caller's admission rule (a thin-pool ratio) holds
// against concurrent changes of the same VG.
func WithPreflight(f func(ctx context.Context, rep *Report) error) OpOption {
	return func(c *opConfig) error {
		if f == nil {
			return errors.New("lvm: nil preflight")
		}
		prev := c.preflight
		c.preflight = func(ctx context.Context, rep *Report) error {
			if prev != nil {
				if err := prev(ctx, rep); err != nil {
					return err
				}
			}
			return f(ctx, rep)
		}
		return nil
	}
}

// WithOpID names the operation in its plan.
func WithOpID(id string) OpOption {
	return func(c *opConfig) error {
		if id == "" {
			return errors.New("lvm: empty operation id")
		}
		c.id = id
		return nil
	}
}

// WithDependencies makes the operation wait for others of its plan.
func WithDependencies(ids ...string) OpOption {
	return func(c *opConfig) error { c.deps = append(c.deps, ids...); return nil }
}

// WithOverride overrides one refusal (an lvm code above or a safety code),
// journaled with the reason and who decided.
func WithOverride(code safety.Code, reason, by string) OpOption {
	return func(c *opConfig) error {
		if code == "" || reason == "" {
			return errors.New("lvm: an override needs a code and a reason")
		}
		c.overrides = append(c.overrides, safety.Override{Code: code, Reason: reason, By: by})
		return nil
	}
}

func (c *opConfig) overridden(code safety.Code) bool {
	for _, o := range c.overrides {
		if o.Code == code {
			return true
		}
	}
	return false
}

// refuse returns a *RefusedError unless code is overridden.
func (c *opConfig) refuse(code safety.Code, format string, args ...any) error {
	if c.overridden(code) {
		return nil
	}
	return &RefusedError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

func (m *Manager) opConfig(opts []OpOption) (*opConfig, error) {
	c := &opConfig{}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if m.journal == nil {
		return nil, ErrNoJournal
	}
	return c, nil
}

func (m *Manager) checkOpts(c *opConfig) []safety.CheckOption {
	var out []safety.CheckOption
	if m.root != "" {
		out = append(out, safety.WithRoot(m.root))
	}
	for _, o := range c.overrides {
		out = append(out, safety.WithOverride(o.Code, o.Reason, o.By))
	}
	return out
}

// diskKeys are the scheduler keys of devices (sched.Disk(maj:min) or their
// partition), as safety derives them.
func (m *Manager) diskKeys(c *opConfig, devs []string) ([]sched.Resource, error) {
	var out []sched.Resource
	for _, d := range devs {
		k, err := safety.TargetKey(d, m.checkOpts(c)...)
		if err != nil {
			return nil, err
		}
		out = append(out, k.Exclusive())
	}
	return out, nil
}

// anchor is the journal target of a VG's metadata mutations: a file of the
// journal's own, since a VG spans devices and its metadata is what changes.
func (m *Manager) anchor(vg string) (string, error) {
	dir := filepath.Join(m.journal.Dir(), "lvm")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("lvm: %w", err)
	}
	p := filepath.Join(dir, "vg-"+strconv.Quote(vg)[1:len(strconv.Quote(vg))-1]+".anchor")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("lvm: %w", err)
	}
	return p, f.Close()
}

func (m *Manager) step(ctx context.Context, mut *safety.Mutation, kind, name, detail string) error {
	if err := mut.Step(context.WithoutCancel(ctx), name, detail); err != nil {
		return err
	}
	if m.hook != nil {
		return m.hook(kind, name)
	}
	return nil
}

func runOp(ctx context.Context, op sched.Operation) error {
	return op.Execute(ctx, func(int64, int64, string) {})
}

func bytesArg(n int64) string { return strconv.FormatInt(n, 10) + "b" }

// Tool is the lvm runner the Manager works through.
func (m *Manager) Tool() *Tool { return m.tool }
