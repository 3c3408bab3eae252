package csi

import (
	"context"
	"log/slog"
	"os"

	storage "github.com/CodeMonkeyCybersecurity/eos-storage"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// EngineStack is the storage Engine the driver and the Nomad plugin run
// on, with the journal it owns.
type EngineStack struct {
	*storage.Engine
	journal *safety.Journal
}

// OpenEngine opens (creating it) the journal in stateDir with every
// recovery handler the Engine's operations need, recovers what a crash
// interrupted, and returns an Engine writing to it. Close closes both.
func OpenEngine(ctx context.Context, stateDir string, log *slog.Logger) (*EngineStack, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	j, err := safety.OpenJournal(ctx, append(storage.JournalOptions(), safety.WithStateDir(stateDir), safety.WithLogger(log))...)
	if err != nil {
		return nil, err
	}
	e, err := storage.New(storage.WithJournal(j), storage.WithLogger(log))
	if err != nil {
		j.Close()
		return nil, err
	}
	if _, err := j.Recover(ctx); err != nil {
		e.Close()
		j.Close()
		return nil, err
	}
	return &EngineStack{Engine: e, journal: j}, nil
}

// Journal is the journal the Engine writes to: the one a backend's own
// manager (the lvm plugin's lvm.Manager) should journal into, so one
// Recover settles everything.
func (s *EngineStack) Journal() *safety.Journal { return s.journal }

// Close closes the Engine and its journal.
func (s *EngineStack) Close() error {
	err := s.Engine.Close()
	if jerr := s.journal.Close(); err == nil {
		err = jerr
	}
	return err
}

var _ Stack = (*EngineStack)(nil)
