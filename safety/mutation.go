package safety

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Outcome is how a mutation ended.
type Outcome string

const (
	OutcomeDone          Outcome = "done"           // finished: the target is in its new state
	OutcomeCancelled     Outcome = "cancelled"      // nothing was written: old state
	OutcomeCompensated   Outcome = "compensated"    // undone by the operation's own Rollback: old state
	OutcomeRolledBack    Outcome = "rolled_back"    // before-images restored: old state
	OutcomeRolledForward Outcome = "rolled_forward" // finished by recovery: new state
	OutcomeLockedDown    Outcome = "locked_down"    // undo failed: unknown state, target locked down
	OutcomeAbandoned     Outcome = "abandoned"      // an operator gave up on it: unknown state
)

// State says which state an outcome leaves the target in: "new", "old" or
// "unknown" ("" while the mutation has no outcome).
func (o Outcome) State() string {
	switch o {
	case OutcomeDone, OutcomeRolledForward:
		return "new"
	case OutcomeCancelled, OutcomeCompensated, OutcomeRolledBack:
		return "old"
	case "":
		return ""
	}
	return "unknown"
}

// Intent is what a mutation is about to do, journaled before it starts.
type Intent struct {
	// Op is the operation kind ("partition.write", "fsys.mkfs"...); it
	// selects the roll-forward func at recovery.
	Op string `json:"op"`
	// Description is one human sentence for operators reading the journal.
	Description string `json:"description,omitempty"`
	// Params are the operation's parameters, whatever a roll-forward needs.
	Params json.RawMessage `json:"params,omitempty"`
	// Target names the device or file the mutation writes.
	Target Identity `json:"target"`
	// Ranges are the byte ranges of Target.Path the mutation may overwrite;
	// each is saved as a before-image before the intent is journaled.
	Ranges []Range `json:"ranges,omitempty"`
	// NewPTUUIDs lists partition-table UUIDs the target may legitimately
	// carry mid-mutation (the table being written), for identity checks.
	NewPTUUIDs []string `json:"new_ptuuids,omitempty"`
	// Overrides are the preflight refusals an operator overrode for this
	// mutation, one reason at a time.
	Overrides []Override `json:"overrides,omitempty"`
}

func (in *Intent) validate() error {
	if in.Op == "" {
		return fmt.Errorf("%w: intent without an op", ErrInvalid)
	}
	if in.Target.Path == "" {
		return fmt.Errorf("%w: intent without a target path", ErrInvalid)
	}
	if len(in.Params) > 0 && !json.Valid(in.Params) {
		return fmt.Errorf("%w: intent params are not JSON", ErrInvalid)
	}
	for _, o := range in.Overrides {
		if err := o.validate(); err != nil {
			return err
		}
	}
	return validateRanges(in.Ranges)
}

// StepRecord is one progress mark of a mutation (or of its recovery).
type StepRecord struct {
	Name     string    `json:"name"`
	Detail   string    `json:"detail,omitempty"`
	Error    string    `json:"error,omitempty"`
	Time     time.Time `json:"time"`
	Recovery bool      `json:"recovery,omitempty"`
}

// Entry is everything the journal knows about one mutation.
type Entry struct {
	ID         string
	Intent     Intent
	Images     []Image
	Steps      []StepRecord
	Outcome    Outcome // "" while running or interrupted
	Error      string  // why it ended as it did, when it failed
	Started    time.Time
	Ended      time.Time
	Recoveries int // how many recovery attempts started
	endSeq     uint64
}

// LastStep is the name of the last step the mutation itself (not recovery)
// recorded: how far it got. "" when it recorded none.
func (e Entry) LastStep() string {
	for i := len(e.Steps) - 1; i >= 0; i-- {
		if !e.Steps[i].Recovery {
			return e.Steps[i].Name
		}
	}
	return ""
}

// StepsDone lists the names of the steps the mutation itself recorded.
func (e Entry) StepsDone() []string {
	var out []string
	for _, s := range e.Steps {
		if !s.Recovery {
			out = append(out, s.Name)
		}
	}
	return out
}

func (e *Entry) clone() Entry {
	c := *e
	c.Images = append([]Image(nil), e.Images...)
	c.Steps = append([]StepRecord(nil), e.Steps...)
	c.Intent.Ranges = append([]Range(nil), e.Intent.Ranges...)
	return c
}

// Mutation is a journaled change in progress. End it with exactly one of
// Done, Cancel or Undo; until then a crash leaves it interrupted.
type Mutation struct {
	j      *Journal
	id     string
	intent Intent
	images []Image
	ended  bool
}

// ID is the mutation's journal id (also its before-image directory name).
func (m *Mutation) ID() string { return m.id }

// Images are the before-images saved for the mutation.
func (m *Mutation) Images() []Image { return append([]Image(nil), m.images...) }

// Begin journals a mutation before it starts: it refuses a locked-down or
// busy target and one with an interrupted mutation awaiting recovery, saves
// the before-images of intent.Ranges (fsynced), then appends the intent
// (fsynced). When Begin returns an error nothing may be written to the target.
func (j *Journal) Begin(ctx context.Context, intent Intent) (*Mutation, error) {
	if err := intent.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	if err := j.admitLocked(intent.Target); err != nil {
		j.mu.Unlock()
		return nil, err
	}
	id := newID(j.now())
	m := &Mutation{j: j, id: id, intent: intent}
	j.inflight[id] = m // reserves the target and keeps pruning off the images
	j.mu.Unlock()

	imgs, err := j.saveImages(ctx, intent.Target.Path, imageDir(id), intent.Ranges)
	if err == nil {
		m.images = imgs
		err = j.append(&record{Kind: kindIntent, ID: id, Intent: &intent, Images: imgs})
	}
	if err != nil {
		j.mu.Lock()
		delete(j.inflight, id)
		j.mu.Unlock()
		return nil, err
	}
	j.log.Info("safety: mutation begins", "id", id, "op", intent.Op, "target", intent.Target.String(), "images", len(imgs))
	return m, nil
}

// admitLocked refuses a target that is locked down, mutating, or awaiting recovery.
func (j *Journal) admitLocked(t Identity) error {
	if j.closed {
		return ErrClosed
	}
	if j.broken != nil {
		return fmt.Errorf("%w: %v", ErrJournalBroken, j.broken)
	}
	for _, l := range j.locks {
		if l.Target.sameTarget(t) {
			return &LockedDownError{Lockdown: l}
		}
	}
	for _, m := range j.inflight {
		if m.intent.Target.sameTarget(t) {
			return fmt.Errorf("%w: mutation %s is running on %s", ErrBusy, m.id, t)
		}
	}
	for _, id := range j.order {
		e := j.entries[id]
		if e.Outcome == "" && e.Intent.Target.sameTarget(t) {
			return fmt.Errorf("%w: mutation %s (%s) on %s was interrupted after step %q", ErrPendingRecovery,
				id, e.Intent.Op, t, e.LastStep())
		}
	}
	return nil
}

// Step journals progress (fsynced) so recovery knows how far the mutation got.
func (m *Mutation) Step(ctx context.Context, name, detail string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.ended {
		return fmt.Errorf("%w: mutation %s already ended", ErrInvalid, m.id)
	}
	if name == "" {
		return fmt.Errorf("%w: empty step name", ErrInvalid)
	}
	return m.j.append(&record{Kind: kindStep, ID: m.id, Step: name, Detail: detail})
}

// Done journals that the mutation finished: the target is in its new state.
func (m *Mutation) Done(ctx context.Context) error {
	return m.end(ctx, OutcomeDone, nil)
}

// Cancel journals that the mutation wrote nothing (it stopped before its
// first write): the target is in its old state.
func (m *Mutation) Cancel(ctx context.Context, why error) error {
	return m.end(ctx, OutcomeCancelled, why)
}

func (m *Mutation) end(_ context.Context, o Outcome, why error) error {
	if m.ended {
		return fmt.Errorf("%w: mutation %s already ended", ErrInvalid, m.id)
	}
	r := &record{Kind: kindOutcome, ID: m.id, Outcome: o}
	if why != nil {
		r.Error = why.Error()
	}
	j := m.j
	j.mu.Lock()
	defer j.mu.Unlock()
	// The outcome record is written even if ctx is cancelled: leaving a
	// finished mutation looking interrupted would roll it back needlessly.
	if err := j.appendLocked(r); err != nil {
		return err
	}
	m.ended = true
	delete(j.inflight, m.id)
	j.pruneImagesLocked()
	return nil
}

// Undo takes a failed mutation back, level by level: first compensate (the
// operation's own Rollback, may be nil); when that fails or is absent,
// restore the before-images; when that fails too (or there are none), lock
// the target down. It returns the outcome journaled, and an error wrapping
// ErrLockedDown for the last level. When ctx ends before the undo could
// finish, nothing is locked: the mutation is left interrupted, and Recover
// (now or after a restart) finishes the undo.
func (m *Mutation) Undo(ctx context.Context, cause error, compensate func(context.Context) error) (Outcome, error) {
	if m.ended {
		return "", fmt.Errorf("%w: mutation %s already ended", ErrInvalid, m.id)
	}
	j := m.j
	var errs []error
	if cause != nil {
		errs = append(errs, cause)
	}
	if compensate != nil {
		err := compensate(ctx)
		if err == nil {
			return OutcomeCompensated, m.end(ctx, OutcomeCompensated, cause)
		}
		errs = append(errs, fmt.Errorf("compensate: %w", err))
		if jerr := j.append(&record{Kind: kindStep, ID: m.id, Step: "undo:compensate", Error: err.Error()}); jerr != nil {
			errs = append(errs, jerr)
		}
	}
	if len(m.images) > 0 {
		err := j.restoreImages(ctx, m.intent.Target.Path, m.images)
		if err == nil {
			return OutcomeRolledBack, m.end(ctx, OutcomeRolledBack, errors.Join(errs...))
		}
		errs = append(errs, fmt.Errorf("restore before-images: %w", err))
	} else {
		errs = append(errs, errors.New("no before-images to restore"))
	}
	if err := ctx.Err(); err != nil {
		// A cancelled undo is not a failed one: leave the mutation
		// interrupted (no outcome) for Recover instead of locking the disk.
		j.mu.Lock()
		delete(j.inflight, m.id)
		m.ended = true
		j.mu.Unlock()
		return "", fmt.Errorf("safety: undo of %s interrupted, left for recovery: %w", m.id, errors.Join(append(errs, err)...))
	}
	return m.lockDown(errors.Join(errs...), "undo failed: ")
}

// lockDown ends the mutation as locked_down and locks its target: the last
// level, when nothing could take the target back to a known state.
func (m *Mutation) lockDown(why error, prefix string) (Outcome, error) {
	j := m.j
	msg := why.Error()
	if err := j.lockDown(m.intent.Target, prefix+msg, m.id, func() error {
		return j.appendLocked(&record{Kind: kindOutcome, ID: m.id, Outcome: OutcomeLockedDown, Error: msg})
	}); err != nil {
		return "", errors.Join(why, err)
	}
	j.mu.Lock()
	m.ended = true
	delete(j.inflight, m.id)
	j.mu.Unlock()
	l, _ := j.LockedDown(m.intent.Target)
	return OutcomeLockedDown, errors.Join(why, &LockedDownError{Lockdown: l})
}
