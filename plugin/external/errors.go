package external

import (
	"context"
	"errors"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Causes of a *PluginError. Each PluginError also matches plugin.ErrBackend.
var (
	// ErrCrashed: the plugin process exited, or the connection to it was
	// lost, during the call. The next call starts a new process.
	ErrCrashed = errors.New("external: plugin process exited")
	// ErrTimeout: the call outlived its deadline (WithCallTimeout,
	// WithExecuteTimeout); the process was killed.
	ErrTimeout = errors.New("external: plugin call timed out")
	// ErrMalformed: the plugin answered something the protocol does not
	// allow (bad JSON, a negative size, an unknown technology, a bad
	// resource key). The answer is discarded; the process keeps running.
	ErrMalformed = errors.New("external: malformed answer from plugin")
	// ErrVersion: the host and the plugin share no protocol version.
	ErrVersion = errors.New("external: no common protocol version")
	// ErrStart: the plugin process could not be started or did not
	// complete the handshake.
	ErrStart = errors.New("external: plugin did not start")
	// ErrStaleOperation: the operation was handed out by a plugin process
	// that has since exited; its token means nothing to the new one.
	ErrStaleOperation = errors.New("external: operation belongs to an exited plugin process")
	// ErrClosed: the Backend was closed.
	ErrClosed = errors.New("external: backend closed")
)

// PluginError is a failure of the plugin itself, not an answer from its
// backend. Op is the protocol method ("Volumes", "Execute", "start").
type PluginError struct {
	Plugin string
	Op     string
	Cause  error
}

func (e *PluginError) Error() string {
	return fmt.Sprintf("external plugin %s: %s: %v", e.Plugin, e.Op, e.Cause)
}

func (e *PluginError) Unwrap() error { return e.Cause }

// Is makes every PluginError a plugin.ErrBackend.
func (e *PluginError) Is(target error) bool { return target == plugin.ErrBackend }

// MalformedError says which part of an answer broke the protocol.
type MalformedError struct {
	Field, Value, Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("external: malformed %s %q: %s", e.Field, e.Value, e.Reason)
}

func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

func malformed(field, value, reason string) error {
	return &MalformedError{Field: field, Value: value, Reason: reason}
}

// VersionError is a failed protocol negotiation.
type VersionError struct {
	// Detail is go-plugin's account of the mismatch (it names the
	// versions each side offered).
	Detail string
}

func (e *VersionError) Error() string { return "external: protocol version mismatch: " + e.Detail }

func (e *VersionError) Is(target error) bool { return target == ErrVersion }

// RemoteError is an error the plugin's backend returned, other than the
// invalid-argument and unavailable errors, which arrive as
// *plugin.InvalidError and *plugin.UnavailableError. It matches the
// plugin sentinel its code names (plugin.ErrNotFound, ...).
type RemoteError struct {
	Backend, Code, Message string
}

func (e *RemoteError) Error() string { return "plugin " + e.Backend + ": " + e.Message }

func (e *RemoteError) Is(target error) bool {
	s, ok := sentinelOf(e.Code)
	if !ok {
		// An unknown code is still a failure of the backend.
		return target == plugin.ErrBackend
	}
	return target == s
}

var wireCodes = []struct {
	code string
	err  error
}{
	{codeNotFound, plugin.ErrNotFound},
	{codeExists, plugin.ErrExists},
	{codeNoSpace, plugin.ErrNoSpace},
	{codeInvalid, plugin.ErrInvalid},
	{codeNotSupported, plugin.ErrNotSupported},
	{codeInUse, plugin.ErrInUse},
	{codeBackend, plugin.ErrBackend},
	{codeCanceled, context.Canceled},
	{codeDeadline, context.DeadlineExceeded},
}

func sentinelOf(code string) (error, bool) {
	for _, c := range wireCodes {
		if c.code == code {
			return c.err, true
		}
	}
	return nil, false
}

// toWire flattens a backend error for the wire (plugin side).
func toWire(err error) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Code: codeBackend, Message: err.Error()}
	var inv *plugin.InvalidError
	var un *plugin.UnavailableError
	switch {
	case errors.As(err, &inv):
		w.Code = codeInvalid
		w.Invalid = &wireInvalid{Field: inv.Field, Value: inv.Value, Reason: inv.Reason}
		return w
	case errors.As(err, &un):
		w.Code = codeNotSupported
		w.Unavailable = &wireUnavailable{Backend: un.Backend, Technology: string(un.Technology),
			Mode: string(un.Mode), Reason: un.Reason, MissingTool: un.MissingTool}
		return w
	case errors.Is(err, errUnknownToken):
		w.Code = codeUnknownToken
		return w
	}
	for _, c := range wireCodes {
		if errors.Is(err, c.err) {
			w.Code = c.code
			break
		}
	}
	return w
}

// fromWire rebuilds a backend error (host side); nil for nil.
func fromWire(w *wireError, backend string) error {
	if w == nil {
		return nil
	}
	switch {
	case w.Code == codeInvalid && w.Invalid != nil:
		return &plugin.InvalidError{Field: w.Invalid.Field, Value: w.Invalid.Value, Reason: w.Invalid.Reason}
	case w.Code == codeNotSupported && w.Unavailable != nil:
		u := w.Unavailable
		return &plugin.UnavailableError{Backend: u.Backend, Technology: plugin.Technology(u.Technology),
			Mode: plugin.Mode(u.Mode), Reason: u.Reason, MissingTool: u.MissingTool}
	}
	return &RemoteError{Backend: backend, Code: w.Code, Message: w.Message}
}
