package loopfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// sidecarVersion is the only metadata layout this package writes and reads.
const sidecarVersion = 1

// maxSidecar bounds what is read from a sidecar file.
const maxSidecar = 64 << 10

// ErrSidecar marks metadata that cannot be parsed or does not validate.
var ErrSidecar = errors.New("loopfile: bad metadata sidecar")

// SidecarError says which sidecar is bad and why.
type SidecarError struct {
	Path   string
	Reason string
	Err    error
}

func (e *SidecarError) Error() string {
	s := "loopfile: sidecar " + e.Path + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *SidecarError) Unwrap() error        { return e.Err }
func (e *SidecarError) Is(target error) bool { return target == ErrSidecar }

// Sidecar is the metadata kept beside a volume's or snapshot's image file.
type Sidecar struct {
	Version   int    `json:"version"`
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	// Source is the volume name a snapshot was taken of.
	Source string `json:"source,omitempty"`
	// SnapshotOf is the snapshot ID a volume was cloned from.
	SnapshotOf string    `json:"snapshot_of,omitempty"`
	Tags       []string  `json:"tags,omitempty"`
	Created    time.Time `json:"created"`
	// Copy is how a snapshot or clone was made: "reflink" or "sparse".
	Copy string `json:"copy,omitempty"`
}

// ParseSidecar decodes and validates sidecar bytes. Malformed input is a
// *SidecarError, never a panic.
func ParseSidecar(b []byte) (*Sidecar, error) {
	if len(b) > maxSidecar {
		return nil, &SidecarError{Reason: fmt.Sprintf("larger than %d bytes", maxSidecar)}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Sidecar
	if err := dec.Decode(&s); err != nil {
		return nil, &SidecarError{Reason: "not JSON", Err: err}
	}
	if dec.More() {
		return nil, &SidecarError{Reason: "trailing data"}
	}
	if s.Version != sidecarVersion {
		return nil, &SidecarError{Reason: fmt.Sprintf("version %d, want %d", s.Version, sidecarVersion)}
	}
	if err := checkName("name", s.Name); err != nil {
		return nil, &SidecarError{Reason: "name", Err: err}
	}
	if s.SizeBytes <= 0 {
		return nil, &SidecarError{Reason: fmt.Sprintf("size %d", s.SizeBytes)}
	}
	if s.Source != "" {
		if err := checkName("source", s.Source); err != nil {
			return nil, &SidecarError{Reason: "source", Err: err}
		}
	}
	if err := checkTags(s.Tags); err != nil {
		return nil, &SidecarError{Reason: "tags", Err: err}
	}
	switch s.Copy {
	case "", copyReflink, copySparse:
	default:
		return nil, &SidecarError{Reason: fmt.Sprintf("copy %q", s.Copy)}
	}
	return &s, nil
}

func readSidecar(path string) (*Sidecar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSidecar+1))
	if err != nil {
		return nil, &SidecarError{Path: path, Reason: "read", Err: err}
	}
	s, err := ParseSidecar(b)
	if err != nil {
		var se *SidecarError
		if errors.As(err, &se) {
			se.Path = path
		}
		return nil, err
	}
	return s, nil
}

// writeSidecar replaces path with s atomically: a temporary file beside it,
// fsync, rename, fsync of the directory. A crash leaves the old or the new
// content, and at worst a stray temporary that listing ignores.
func writeSidecar(path string, s *Sidecar) error {
	s.Version = sidecarVersion
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(path, append(b, '\n'))
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(b); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
