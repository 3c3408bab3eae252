package loopfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// sidecar is the metadata kept beside a volume or snapshot file.
type sidecar struct {
	Version    int       `json:"version"`
	Name       string    `json:"name"`
	SizeBytes  int64     `json:"size_bytes"`
	Tags       []string  `json:"tags,omitempty"`
	SnapshotOf string    `json:"snapshot_of,omitempty"` // a clone: the snapshot ID it came from
	Source     string    `json:"source,omitempty"`      // a snapshot: the volume it was taken of
	Created    time.Time `json:"created"`
}

const sidecarVersion = 1

// ErrCorrupt: a sidecar that does not parse or says impossible things.
var ErrCorrupt = errors.New("loopfile: corrupt metadata")

// parseSidecar decodes and checks a sidecar; malformed input is ErrCorrupt.
func parseSidecar(b []byte) (*sidecar, error) {
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	switch {
	case s.Version != sidecarVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, s.Version, sidecarVersion)
	case validName(s.Name) != nil:
		return nil, fmt.Errorf("%w: name %q", ErrCorrupt, s.Name)
	case s.SizeBytes <= 0 || s.SizeBytes%granularity != 0:
		return nil, fmt.Errorf("%w: size %d", ErrCorrupt, s.SizeBytes)
	case s.Source != "" && validName(s.Source) != nil:
		return nil, fmt.Errorf("%w: source %q", ErrCorrupt, s.Source)
	}
	return &s, nil
}

// writeSidecar replaces path atomically: a crash leaves the old file or the
// new one.
func writeSidecar(path string, s *sidecar) error {
	s.Version = sidecarVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sidecar-*")
	if err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func readSidecar(path string) (*sidecar, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseSidecar(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("loopfile: fsync %s: %w", dir, err)
	}
	return nil
}
