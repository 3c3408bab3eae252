package safety

import (
	"context"
	"errors"
	"fmt"
)

// Recovered is what recovery did with one interrupted mutation.
type Recovered struct {
	Entry   Entry   // the mutation as it was found (how far it got)
	Outcome Outcome // "" when recovery refused or failed and the mutation stays interrupted
	Err     error   // why it was refused or failed (ErrIdentityMismatch, ErrLockedDown...)
}

// Recover settles every interrupted mutation: it checks the target's
// identity (refusing on mismatch, leaving the mutation interrupted), then
// rolls forward with the op kind's RollForward when one is registered and
// succeeds, otherwise rolls back (by the kind's RollBack when one is
// registered, then by restoring the before-images), and locks the target
// down when that fails too. Each attempt is journaled before it
// acts, and both directions are idempotent, so a crash during recovery is
// recovered by the next run, and running Recover twice equals running it
// once. The error is non-nil only when the journal itself failed.
func (j *Journal) Recover(ctx context.Context) ([]Recovered, error) {
	var out []Recovered
	for _, e := range j.Interrupted() {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if !j.claim(e) {
			continue // settled or being settled by a concurrent Recover
		}
		r, err := j.recoverOne(ctx, e)
		j.release(e.ID)
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// claim marks an interrupted mutation as being recovered, so a concurrent
// Recover skips it and Begin on its target is refused as busy.
func (j *Journal) claim(e Entry) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	cur := j.entries[e.ID]
	if _, busy := j.inflight[e.ID]; busy || cur == nil || cur.Outcome != "" {
		return false
	}
	j.inflight[e.ID] = &Mutation{j: j, id: e.ID, intent: e.Intent, images: e.Images}
	return true
}

func (j *Journal) release(id string) {
	j.mu.Lock()
	delete(j.inflight, id)
	j.mu.Unlock()
}

func (j *Journal) recoverOne(ctx context.Context, e Entry) (Recovered, error) {
	res := Recovered{Entry: e}
	t := e.Intent.Target
	if l, locked := j.LockedDown(t); locked {
		res.Err = &LockedDownError{Lockdown: l}
		return res, nil
	}
	now, err := j.ident(ctx, t.Path)
	if err == nil {
		err = t.Mismatch(now, e.Intent.NewPTUUIDs...)
	} else {
		err = fmt.Errorf("%w: %s: %v", ErrIdentityMismatch, t.Path, err)
	}
	if err != nil {
		res.Err = err
		// Journal the refusal for the audit trail; the mutation stays interrupted.
		jerr := j.append(&record{Kind: kindRecovery, ID: e.ID, Step: "refused", Error: err.Error()})
		j.log.Warn("safety: recovery refused", "id", e.ID, "err", err)
		return res, jerr
	}
	if lk, err := lockForRecovery(ctx, j.root, t.Path); err != nil {
		res.Err = err
		return res, nil
	} else if lk != nil {
		defer lk.Close()
	}
	var why []error
	if rf := j.rollFwd[e.Intent.Op]; rf != nil {
		if err := j.append(&record{Kind: kindRecovery, ID: e.ID, Step: "start", Detail: "forward"}); err != nil {
			return res, err
		}
		ferr := rf(ctx, e)
		if ferr == nil {
			res.Outcome = OutcomeRolledForward
			return res, j.append(&record{Kind: kindOutcome, ID: e.ID, Outcome: OutcomeRolledForward})
		}
		why = append(why, fmt.Errorf("roll forward: %w", ferr))
		if err := j.append(&record{Kind: kindRecovery, ID: e.ID, Step: "forward-failed", Error: ferr.Error()}); err != nil {
			return res, err
		}
	} else {
		if err := j.append(&record{Kind: kindRecovery, ID: e.ID, Step: "start", Detail: "back"}); err != nil {
			return res, err
		}
	}
	ownUndo := true
	rb := j.rollBck[e.Intent.Op]
	if rb != nil {
		if err := j.append(&record{Kind: kindRecovery, ID: e.ID, Step: "own-undo"}); err != nil {
			return res, err
		}
		if berr := rb(ctx, e); berr != nil {
			ownUndo = false
			why = append(why, fmt.Errorf("the operation's own undo: %w", berr))
			if err := j.append(&record{Kind: kindRecovery, ID: e.ID, Step: "own-undo-failed", Error: berr.Error()}); err != nil {
				return res, err
			}
		}
	}
	if len(e.Images) > 0 {
		rerr := j.restoreImages(ctx, t.Path, e.Images)
		if rerr == nil && !ownUndo {
			// Restored what the images hold, but without the operation's
			// own undo that is not the old state.
			rerr = errors.New("restored, but not the writes only the operation's own undo covers")
		}
		if rerr == nil {
			res.Outcome = OutcomeRolledBack
			return res, j.append(&record{Kind: kindOutcome, ID: e.ID, Outcome: OutcomeRolledBack, Error: errString(errors.Join(why...))})
		}
		why = append(why, fmt.Errorf("restore before-images: %w", rerr))
	} else if rb != nil && ownUndo {
		res.Outcome = OutcomeRolledBack
		return res, j.append(&record{Kind: kindOutcome, ID: e.ID, Outcome: OutcomeRolledBack, Error: errString(errors.Join(why...))})
	} else if len(e.Intent.Ranges) == 0 && len(why) == 0 {
		// It declared no ranges and had no roll-forward: it never meant to
		// overwrite anything the journal could restore. Nothing to undo is
		// still "unknown", not "old": lock down rather than guess.
		why = append(why, errors.New("no roll-forward and no before-images"))
	} else {
		why = append(why, errors.New("no before-images to restore"))
	}
	whyErr := errors.Join(why...)
	res.Err = whyErr
	if ctx.Err() != nil {
		// Cancelled mid-way: leave it interrupted for the next run rather
		// than lock a disk down for a deadline.
		return res, nil
	}
	err = j.lockDown(t, "recovery failed: "+whyErr.Error(), e.ID, func() error {
		return j.appendLocked(&record{Kind: kindOutcome, ID: e.ID, Outcome: OutcomeLockedDown, Error: whyErr.Error()})
	})
	if err == nil {
		res.Outcome = OutcomeLockedDown
	}
	return res, err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
