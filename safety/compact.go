package safety

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultCompactAt is the journal size above which OpenJournal compacts it.
const DefaultCompactAt = 4 << 20

// archiveKeep is how many archived journals compaction keeps.
const archiveKeep = 4

// WithCompactAt compacts the journal at open when it is larger than n bytes
// (default DefaultCompactAt); 0 never compacts automatically.
func WithCompactAt(n int64) Option {
	return func(c *journalConfig) error {
		if n < 0 {
			return fmt.Errorf("%w: negative compaction size", ErrInvalid)
		}
		c.compactAt = n
		return nil
	}
}

// CompactStats says what a compaction kept.
type CompactStats struct {
	Before, After int64  // journal bytes
	Entries       int    // mutations kept
	Archive       string // where the whole old journal went
}

// Compact rewrites the journal with only what recovery and lock-down need
// (every unfinished mutation, the newest finished ones within retention,
// active lock-downs) and keeps the complete old journal as an archive for
// the audit trail (overrides, cleared lock-downs), the newest few of them.
// The new journal replaces the old with an atomic rename; a crash at any
// point leaves either the old or the new one in place.
func (j *Journal) Compact(ctx context.Context) (CompactStats, error) {
	if err := ctx.Err(); err != nil {
		return CompactStats{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.compactLocked()
}

func (j *Journal) compactLocked() (CompactStats, error) {
	var st CompactStats
	if j.closed {
		return st, ErrClosed
	}
	if j.broken != nil {
		return st, fmt.Errorf("%w: %v", ErrJournalBroken, j.broken)
	}
	keep, _ := j.keptLocked()
	var recs []*record
	for _, id := range keep {
		recs = append(recs, entryRecords(j.entries[id])...)
	}
	for i := range j.locks {
		l := j.locks[i]
		recs = append(recs, &record{Kind: kindLockdown, ID: l.MutationID, Time: l.Time, Lockdown: &l})
	}
	var buf []byte
	for i, r := range recs {
		r.Seq = uint64(i + 1)
		b, err := encodeRecord(r)
		if err != nil {
			return st, err
		}
		buf = append(buf, b...)
	}
	if _, err := j.f.Seek(0, io.SeekStart); err != nil {
		return st, fmt.Errorf("safety: compact: %w", err)
	}
	old, err := io.ReadAll(j.f)
	if _, serr := j.f.Seek(0, io.SeekEnd); err == nil {
		err = serr
	}
	if err != nil {
		return st, fmt.Errorf("safety: compact: read journal: %w", err)
	}
	st.Before, st.After, st.Entries = int64(len(old)), int64(len(buf)), len(keep)
	st.Archive = filepath.Join(j.dir, "journal-"+j.now().UTC().Format("20060102T150405.000000000Z")+".wal.old")
	if err := j.writeDurable(st.Archive, old); err != nil {
		return st, err
	}
	tmp := filepath.Join(j.dir, JournalFile+".tmp")
	if err := j.writeDurable(tmp, buf); err != nil {
		j.fs.RemoveAll(tmp)
		return st, err
	}
	path := filepath.Join(j.dir, JournalFile)
	if err := j.fs.Rename(tmp, path); err != nil {
		j.fs.RemoveAll(tmp)
		return st, fmt.Errorf("safety: compact: %w", err)
	}
	// From here the old descriptor names an unlinked file: any failure
	// leaves the journal unusable until reopened.
	if err := j.fs.SyncDir(j.dir); err != nil {
		j.broken = err
		return st, fmt.Errorf("%w: compact: sync dir: %v", ErrJournalBroken, err)
	}
	nf, err := j.fs.OpenFile(path, os.O_RDWR, 0o600)
	if err == nil {
		_, err = nf.Seek(0, io.SeekEnd)
	}
	if err != nil {
		j.broken = err
		return st, fmt.Errorf("%w: compact: reopen: %v", ErrJournalBroken, err)
	}
	j.f.Close()
	j.f = nf
	// Rebuild the state from the records now on disk: they are renumbered,
	// and retention orders finished mutations by their outcome's sequence.
	j.entries, j.order, j.locks, j.seq = map[string]*Entry{}, nil, nil, 0
	for _, r := range recs {
		j.apply(r)
	}
	j.pruneArchivesLocked()
	j.log.Info("safety: journal compacted", "before", st.Before, "after", st.After, "entries", st.Entries, "archive", st.Archive)
	return st, nil
}

// keptLocked lists the mutations a compacted journal keeps, in order, and
// those it drops.
func (j *Journal) keptLocked() ([]string, map[string]bool) {
	var finished []string
	for _, id := range j.order {
		if j.entries[id].Outcome != "" {
			finished = append(finished, id)
		}
	}
	pinned := j.pinnedLocked()
	drop := map[string]bool{}
	if n := len(finished) - j.retain; n > 0 {
		for _, id := range finished[:n] {
			if !pinned[id] {
				drop[id] = true
			}
		}
	}
	var keep []string
	for _, id := range j.order {
		if !drop[id] {
			keep = append(keep, id)
		}
	}
	return keep, drop
}

// pinnedLocked lists the mutations retention must keep whatever their age:
// those of a locked-down target (the lock-down's own and every other on
// that target). Their before-images are the operator's way back until the
// lock-down is cleared.
func (j *Journal) pinnedLocked() map[string]bool {
	pinned := map[string]bool{}
	for _, l := range j.locks {
		if l.MutationID != "" {
			pinned[l.MutationID] = true
		}
		for id, e := range j.entries {
			if e.Intent.Target.sameTarget(l.Target) {
				pinned[id] = true
			}
		}
	}
	return pinned
}

// entryRecords regenerates the records that rebuild e.
func entryRecords(e *Entry) []*record {
	in := e.Intent
	out := []*record{{Kind: kindIntent, ID: e.ID, Time: e.Started, Intent: &in, Images: e.Images}}
	for _, s := range e.Steps {
		k := kindStep
		if s.Recovery {
			k = kindRecovery
		}
		out = append(out, &record{Kind: k, ID: e.ID, Time: s.Time, Step: s.Name, Detail: s.Detail, Error: s.Error})
	}
	if e.Outcome != "" {
		out = append(out, &record{Kind: kindOutcome, ID: e.ID, Time: e.Ended, Outcome: e.Outcome, Error: e.Error})
	}
	return out
}

func (j *Journal) writeDurable(path string, data []byte) error {
	f, err := j.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("safety: compact: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("safety: compact: write %s: %w", path, err)
	}
	return nil
}

func (j *Journal) pruneArchivesLocked() {
	ents, err := j.fs.ReadDir(j.dir)
	if err != nil {
		return
	}
	var arch []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "journal-") && strings.HasSuffix(e.Name(), ".wal.old") {
			arch = append(arch, e.Name())
		}
	}
	sort.Strings(arch) // names sort by time
	for i := 0; i+archiveKeep < len(arch); i++ {
		j.fs.RemoveAll(filepath.Join(j.dir, arch[i]))
	}
}
