package plugin

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: no such backend, pool, volume or snapshot.
	ErrNotFound = errors.New("plugin: not found")
	// ErrExists: a volume or snapshot of that name exists and differs.
	ErrExists = errors.New("plugin: already exists")
	// ErrNoSpace: the pool cannot hold the request.
	ErrNoSpace = errors.New("plugin: not enough space")
	// ErrInvalid: a bad name, size or request.
	ErrInvalid = errors.New("plugin: invalid request")
	// ErrNotSupported: the technology × mode is not available here.
	ErrNotSupported = errors.New("plugin: not supported")
	// ErrInUse: the volume is open, mounted or has snapshots or clones
	// that keep it.
	ErrInUse = errors.New("plugin: in use")
	// ErrBackend: the backend itself failed (an external plugin crashed,
	// hung or answered nonsense).
	ErrBackend = errors.New("plugin: backend failed")
)

// InvalidError says which argument is bad and why.
type InvalidError struct {
	Field, Value, Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("plugin: invalid %s %q: %s", e.Field, e.Value, e.Reason)
}

func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// UnavailableError says a technology × mode cannot be done here.
type UnavailableError struct {
	Backend     string
	Technology  Technology
	Mode        Mode
	Reason      string
	MissingTool string
}

func (e *UnavailableError) Error() string {
	s := fmt.Sprintf("plugin %s: %s %s not available: %s", e.Backend, e.Technology, e.Mode, e.Reason)
	if e.MissingTool != "" {
		s += " (missing " + e.MissingTool + ")"
	}
	return s
}

func (e *UnavailableError) Is(target error) bool { return target == ErrNotSupported }

// Require returns an *UnavailableError when caps does not offer t × m.
func Require(backend string, caps Capabilities, t Technology, m Mode) error {
	c, ok := caps.Lookup(t, m)
	if ok && c.Available {
		return nil
	}
	if !ok {
		c.Reason = "the backend does not offer it"
	}
	return &UnavailableError{Backend: backend, Technology: t, Mode: m, Reason: c.Reason, MissingTool: c.MissingTool}
}
