package lvm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// vgParams are journaled with every VG metadata mutation: what recovery
// needs to settle it.
type vgParams struct {
	VG     string   `json:"vg"`
	NewVG  string   `json:"new_vg,omitempty"` // the VG's name after the change, when it changes
	Seqno  int64    `json:"seqno"`            // the seqno before (0: the VG did not exist)
	Backup string   `json:"backup,omitempty"` // vgcfgbackup file of the old metadata
	Argv   []string `json:"argv"`
	Thin   bool     `json:"thin,omitempty"`
}

// vgChange describes one VG metadata mutation.
type vgChange struct {
	kind, vg, newVG, desc string
	res                   []sched.Resource
	argv                  []string // the lvm command that makes the change
	create                bool     // the VG does not exist before
	// preflight runs on the inventory before each attempt.
	preflight func(ctx context.Context, rep *Report) error
	// before runs before argv (a filesystem shrink), after after it (a grow).
	before, after func(ctx context.Context) error
	// inverse undoes a completed change by lvm's own means; nil: vgcfgrestore.
	inverse []string
}

// seqnoOf is the VG's seqno now (0 when it does not exist).
func (m *Manager) seqnoOf(ctx context.Context, vg string) (int64, *Report, error) {
	rep, err := m.tool.Inventory(ctx)
	if err != nil && rep == nil {
		return 0, nil, err
	}
	if v := rep.VG(vg); v != nil {
		return v.Seqno, rep, nil
	}
	return 0, rep, nil
}

func hasThin(v *VG) bool {
	for _, l := range v.LVs {
		if l.Attr.ThinPool() || l.Attr.Thin() {
			return true
		}
	}
	return false
}

// restore runs vgcfgrestore -f backup vg, refused for VGs with thin pools
// unless overridden.
func (m *Manager) restore(ctx context.Context, c *opConfig, p vgParams) error {
	if p.Backup == "" {
		return errors.New("lvm: no metadata backup to restore")
	}
	args := []string{"-f", p.Backup}
	if p.Thin {
		if err := c.refuse(CodeThinRestore, "VG %s has thin pools; lvm's manual warns vgcfgrestore may lose data", p.VG); err != nil {
			return err
		}
		args = append(args, "--force")
	}
	return m.tool.Run(ctx, "vgcfgrestore", append(args, p.VG)...)
}

// vgOp builds the guarded operation of one VG metadata change.
func (m *Manager) vgOp(ctx context.Context, c *opConfig, ch vgChange) (sched.Operation, error) {
	target, err := m.anchor(ch.vg)
	if err != nil {
		return sched.Operation{}, err
	}
	if extra := c.preflight; extra != nil {
		own := ch.preflight
		ch.preflight = func(ctx context.Context, rep *Report) error {
			if own != nil {
				if err := own(ctx, rep); err != nil {
					return err
				}
			}
			return extra(ctx, rep)
		}
	}
	// The preflight runs when the operation is built (a refusal then
	// journals nothing) and again before each attempt.
	if ch.preflight != nil {
		rep, err := m.tool.Inventory(ctx)
		if err != nil && rep == nil {
			return sched.Operation{}, err
		}
		if err := ch.preflight(ctx, rep); err != nil {
			return sched.Operation{}, err
		}
	}
	res := append([]sched.Resource{sched.VG(ch.vg).Exclusive()}, ch.res...)
	var p vgParams // the last attempt's
	settle := func(ctx context.Context) error {
		// Exactly old already (lvm commits a VG atomically: seqno unchanged
		// means nothing was written)? Else undo by the inverse or restore.
		name := ch.vg
		now, _, err := m.seqnoOf(ctx, name)
		if err != nil {
			return err
		}
		if ch.newVG != "" {
			if n2, _, err := m.seqnoOf(ctx, ch.newVG); err == nil && n2 != 0 {
				now, name = n2, ch.newVG
			}
		}
		if now == p.Seqno && name == ch.vg {
			return nil
		}
		if ch.create {
			return m.tool.Run(ctx, "vgremove", "-f", "-y", name)
		}
		if ch.inverse != nil {
			err := m.tool.Run(ctx, ch.inverse[0], ch.inverse[1:]...)
			if err != nil && ch.inverse[0] == "lvremove" && errors.Is(err, ErrNotFound) {
				// The LV the change would have made is not there: lvm
				// wrote it and took it back itself (a failed activation
				// commits twice), so the VG is exactly old.
				return nil
			}
			return err
		}
		return m.restore(ctx, c, p)
	}
	g := safety.Guarded{
		Op: sched.Operation{
			ID: idOr(c, ch.kind+" "+ch.vg), Kind: ch.kind, Dependencies: c.deps, Resources: res,
		},
		Target: target,
		Intent: safety.Intent{Description: ch.desc, Overrides: c.overrides},
		Execute: func(ctx context.Context, mut *safety.Mutation, _ *safety.DeviceLock, _ sched.Progress) error {
			seq, rep, err := m.seqnoOf(ctx, ch.vg)
			if err != nil {
				return err
			}
			// Known before the preflight, so a refusal settles as "old".
			p = vgParams{VG: ch.vg, NewVG: ch.newVG, Seqno: seq, Argv: ch.argv}
			if ch.preflight != nil {
				if err := ch.preflight(ctx, rep); err != nil {
					return err
				}
			}
			if v := rep.VG(ch.vg); v != nil {
				p.Thin = hasThin(v)
				p.Backup = filepath.Join(m.journal.Dir(), "images", mut.ID(), "vg.backup")
				if err := os.MkdirAll(filepath.Dir(p.Backup), 0o700); err != nil {
					return fmt.Errorf("lvm: %w", err)
				}
				if err := m.tool.Run(ctx, "vgcfgbackup", "-f", p.Backup, ch.vg); err != nil {
					return err
				}
			} else if !ch.create {
				return fmt.Errorf("%w: VG %s", ErrNotFound, ch.vg)
			}
			b, _ := json.Marshal(p)
			if err := m.step(ctx, mut, ch.kind, "backup", string(b)); err != nil {
				return err
			}
			if ch.before != nil {
				if err := ch.before(ctx); err != nil {
					return err
				}
				if err := m.step(ctx, mut, ch.kind, "before", ""); err != nil {
					return err
				}
			}
			if err := m.tool.Run(ctx, ch.argv[0], ch.argv[1:]...); err != nil {
				return err
			}
			name := ch.vg
			if ch.newVG != "" {
				name = ch.newVG
			}
			now, _, _ := m.seqnoOf(ctx, name)
			if err := m.step(ctx, mut, ch.kind, "changed", fmt.Sprint(now)); err != nil {
				return err
			}
			if ch.after != nil {
				if err := ch.after(ctx); err != nil {
					return err
				}
			}
			return nil
		},
		OnFailure:  func(ctx context.Context, _ *safety.DeviceLock, _ error) error { return settle(ctx) },
		Compensate: func(ctx context.Context, _ *safety.DeviceLock) error { return settle(ctx) },
	}
	return safety.Guard(m.journal, g)
}

func idOr(c *opConfig, def string) string {
	if c.id != "" {
		return c.id
	}
	return def
}

// vgKinds are the journal kinds of VG metadata mutations.
var vgKinds = []string{OpVGCreate, OpVGExtend, OpVGReduce, OpVGRename, OpVGRemove, OpPVResize,
	OpLVCreate, OpLVResize, OpLVRename, OpLVRemove, OpActivate, OpSnapshot, OpMerge, OpThinExtend,
	OpCacheAttach, OpCacheDetach, OpLVTags}

// RollForward returns the journal options that let safety.Journal.Recover
// settle VG metadata changes a crash interrupted: when the journal says the
// change was made, or the VG's seqno moved past the journaled one (lvm
// commits a VG atomically), the change is done; when the seqno did not
// move, nothing was written and the VG is as it was. Open the journal with
// them: safety.OpenJournal(ctx, lvm.RollForward(tool)...).
func RollForward(t *Tool) []safety.Option {
	var out []safety.Option
	for _, k := range vgKinds {
		out = append(out, safety.WithRollForward(k, func(ctx context.Context, e safety.Entry) error {
			return settleEntry(ctx, t, e)
		}))
	}
	return out
}

// Settled says, from a journal entry and the VG now, whether the change
// is in ("new") or not ("old").
func Settled(ctx context.Context, t *Tool, e safety.Entry) (string, error) {
	var p vgParams
	found := false
	for _, s := range e.Steps {
		if s.Name == "backup" {
			if err := json.Unmarshal([]byte(s.Detail), &p); err != nil {
				return "", fmt.Errorf("lvm: journal step: %w", err)
			}
			found = true
		}
		if s.Name == "changed" {
			return "new", nil
		}
	}
	if !found {
		return "old", nil // interrupted before lvm ran
	}
	m := &Manager{tool: t}
	name := p.VG
	if p.NewVG != "" {
		if n, _, err := m.seqnoOf(ctx, p.NewVG); err == nil && n != 0 {
			return "new", nil
		}
	}
	now, _, err := m.seqnoOf(ctx, name)
	if err != nil {
		return "", err
	}
	if now != p.Seqno {
		return "new", nil
	}
	return "old", nil
}

func settleEntry(ctx context.Context, t *Tool, e safety.Entry) error {
	_, err := Settled(ctx, t, e)
	return err
}
