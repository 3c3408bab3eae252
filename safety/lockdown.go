package safety

import (
	"context"
	"fmt"
	"time"
)

// Lockdown is a target that no mutation may touch until an operator clears
// it: an undo failed and its state is unknown.
type Lockdown struct {
	Target     Identity  `json:"target"`
	Reason     string    `json:"reason"`
	MutationID string    `json:"mutation_id,omitempty"`
	Time       time.Time `json:"time"`
}

// lockDown journals a lock-down, then runs after (under the same journal
// lock) so the outcome that caused it lands right behind it.
func (j *Journal) lockDown(t Identity, reason, mutID string, after func() error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := Lockdown{Target: t, Reason: reason, MutationID: mutID, Time: j.now().UTC()}
	if err := j.appendLocked(&record{Kind: kindLockdown, ID: mutID, Lockdown: &l}); err != nil {
		return err
	}
	j.log.Error("safety: target locked down", "target", t.String(), "reason", reason, "mutation", mutID)
	if after != nil {
		return after()
	}
	return nil
}

// LockDown locks a target by hand (an operator who distrusts a disk).
func (j *Journal) LockDown(ctx context.Context, t Identity, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if reason == "" {
		return fmt.Errorf("%w: a lock-down needs a reason", ErrInvalid)
	}
	return j.lockDown(t, reason, "", nil)
}

// LockedDown reports the lock-down covering t, if any.
func (j *Journal) LockedDown(t Identity) (Lockdown, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, l := range j.locks {
		if l.Target.sameTarget(t) {
			return l, true
		}
	}
	return Lockdown{}, false
}

// Lockdowns lists every active lock-down, oldest first.
func (j *Journal) Lockdowns() []Lockdown {
	j.mu.Lock()
	defer j.mu.Unlock()
	return sortedLocks(j.locks)
}

// Clear lifts the lock-down of t. It is the only way to lift one, takes the
// operator's reason, and is journaled. ErrNotFound when t is not locked down.
func (j *Journal) Clear(ctx context.Context, t Identity, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if reason == "" {
		return fmt.Errorf("%w: clearing a lock-down needs a reason", ErrInvalid)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	found := false
	for _, l := range j.locks {
		if l.Target.sameTarget(t) {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: %s is not locked down", ErrNotFound, t)
	}
	tt := t
	if err := j.appendLocked(&record{Kind: kindClear, Target: &tt, Detail: reason}); err != nil {
		return err
	}
	j.log.Warn("safety: lock-down cleared", "target", t.String(), "reason", reason)
	return nil
}

// RecordOverride journals that an operator overrode preflight refusals on a
// target, each by its own code and reason. Check with WithJournal calls it.
func (j *Journal) RecordOverride(ctx context.Context, t Identity, ov []Override) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ov) == 0 {
		return fmt.Errorf("%w: no overrides to record", ErrInvalid)
	}
	for _, o := range ov {
		if err := o.validate(); err != nil {
			return err
		}
	}
	tt := t
	return j.append(&record{Kind: kindOverride, Target: &tt, Override: ov})
}

// Abandon ends an interrupted mutation without recovering it (its disk was
// replaced, or an operator repaired it by hand). The outcome is "abandoned",
// the state unknown; the reason is journaled.
func (j *Journal) Abandon(ctx context.Context, id, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if reason == "" {
		return fmt.Errorf("%w: abandoning a mutation needs a reason", ErrInvalid)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.entries[id]
	if e == nil {
		return fmt.Errorf("%w: mutation %q", ErrNotFound, id)
	}
	if _, running := j.inflight[id]; running || e.Outcome != "" {
		return fmt.Errorf("%w: mutation %s is not interrupted", ErrInvalid, id)
	}
	return j.appendLocked(&record{Kind: kindOutcome, ID: id, Outcome: OutcomeAbandoned, Error: reason})
}
