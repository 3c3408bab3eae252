package safety

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Snapshot is a read-only view of a journal: what operators and tools
// (examples/preflight) look at without taking the journal's lock, which the
// process doing the changes holds.
type Snapshot struct {
	Dir       string
	Entries   []Entry
	Lockdowns []Lockdown
	// TornBytes is a torn last record that was ignored (not truncated:
	// a snapshot never writes).
	TornBytes int64
}

// Interrupted lists the snapshot's mutations without an outcome. A
// mutation still running in another process looks interrupted too.
func (s *Snapshot) Interrupted() []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if e.Outcome == "" {
			out = append(out, e)
		}
	}
	return out
}

// ReadJournal reads the journal of a state directory without locking or
// changing anything. A missing journal in an existing state directory is an
// empty snapshot; a missing state directory is ErrNotFound (a mistyped
// directory would otherwise hide every lock-down).
func ReadJournal(ctx context.Context, dir string) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: state directory %s", ErrNotFound, dir)
		}
		return nil, fmt.Errorf("safety: state directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%w: state directory %s is not a directory", ErrInvalid, dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("safety: read journal: %w", err)
	}
	recs, end, err := decodeJournal(data)
	if err != nil {
		return nil, err
	}
	j := &Journal{entries: map[string]*Entry{}, inflight: map[string]*Mutation{}}
	for i := range recs {
		j.apply(&recs[i])
	}
	s := &Snapshot{Dir: dir, TornBytes: int64(len(data) - end), Lockdowns: sortedLocks(j.locks)}
	for _, id := range j.order {
		s.Entries = append(s.Entries, j.entries[id].clone())
	}
	return s, nil
}
