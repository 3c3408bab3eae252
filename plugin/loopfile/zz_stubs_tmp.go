package loopfile

// TEMPORARY: the constructor the loopfile backend implements; the external
// plugin work codes against it. The loopfile branch deletes this file.

import (
	"errors"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Backend keeps volumes as sparse files under a directory, attached as
// loop devices.
type Backend struct{ plugin.Backend }

// Option configures a Backend.
type Option func(*Backend) error

// New returns the backend for dir (created if missing).
func New(dir string, opts ...Option) (*Backend, error) { return nil, errors.New("loopfile: stub") }
