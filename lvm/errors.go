package lvm

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. An *Error matches the one its messages classify as.
var (
	ErrNotFound = errors.New("lvm: not found")
	ErrExists   = errors.New("lvm: already exists")
	ErrNoSpace  = errors.New("lvm: not enough free space")
	ErrBusy     = errors.New("lvm: device open or mounted")
	ErrInUse    = errors.New("lvm: in use")
	// ErrUnsupported is metadata the pure-Go reader does not decode; an
	// *UnsupportedError says which feature.
	ErrUnsupported = errors.New("lvm: unsupported metadata")
	// ErrMalformed is a report or an on-disk structure that does not parse.
	ErrMalformed = errors.New("lvm: malformed")
)

// Error is an lvm command that failed, with lvm's own messages (from the
// JSON log and stderr) kept.
type Error struct {
	Args     []string
	Code     int
	Messages []string
	Kind     error // one of the sentinels, or nil
	Err      error // the underlying *command.ExitError or similar
}

func (e *Error) Error() string {
	msg := strings.Join(e.Messages, "; ")
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("lvm %s: exit %d: %s", strings.Join(e.Args, " "), e.Code, msg)
}

func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }
func (e *Error) Unwrap() error        { return e.Err }

// classify maps lvm's messages to a sentinel. lvm has no error codes in
// its output beyond errno -1, so the wording is what there is; the phrases
// are lvm2's own (lib/metadata, tools/toollib).
func classify(msgs []string) error {
	for _, m := range msgs {
		l := strings.ToLower(m)
		switch {
		case strings.Contains(l, "insufficient free space"), strings.Contains(l, "insufficient suitable"),
			strings.Contains(l, "insufficient allocatable"), strings.Contains(l, "no free extents"):
			return ErrNoSpace
		case strings.Contains(l, "already exists"), strings.Contains(l, "already in volume group"):
			return ErrExists
		case strings.Contains(l, "is mounted"), strings.Contains(l, "logical volume") && strings.Contains(l, "in use"),
			strings.Contains(l, "device or resource busy"), strings.Contains(l, "contains a filesystem in use"):
			return ErrBusy
		case strings.Contains(l, "still in use"), strings.Contains(l, "is used by"), strings.Contains(l, "still contains"),
			strings.Contains(l, "cannot resize to") && strings.Contains(l, "allocated"), // pvresize below allocated extents
			strings.Contains(l, "physical volume") && strings.Contains(l, "is in use"):
			return ErrInUse
		case strings.Contains(l, "not found"), strings.Contains(l, "failed to find"), strings.Contains(l, "no such"):
			return ErrNotFound
		}
	}
	return nil
}

// UnsupportedError names what the on-disk reader met and does not decode,
// so the caller knows why it fell back to running lvm.
type UnsupportedError struct {
	VG      string
	Feature string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("lvm: VG %s: metadata uses %s, which the on-disk reader does not decode", e.VG, e.Feature)
}
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// MalformedError is input that does not parse, with where.
type MalformedError struct {
	What   string
	Offset int64
	Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("lvm: malformed %s at %d: %s", e.What, e.Offset, e.Reason)
}
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(what string, off int64, format string, args ...any) error {
	return &MalformedError{What: what, Offset: off, Reason: fmt.Sprintf(format, args...)}
}
