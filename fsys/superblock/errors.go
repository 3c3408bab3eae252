package superblock

import (
	"errors"
	"fmt"
)

// ErrNotFound: the filesystem's magic is not where it must be.
var ErrNotFound = errors.New("superblock: not found")

// ErrCorrupt: the magic is there but the superblock around it is damaged
// (a checksum, an impossible geometry, a short device).
var ErrCorrupt = errors.New("superblock: corrupt")

// CorruptError says which type, which field and why.
type CorruptError struct {
	Type   string // ext4, xfs, btrfs, vfat, swap
	Field  string // the superblock field (s_log_block_size, sb_agcount, csum, ...)
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("superblock: %s: corrupt %s: %s", e.Type, e.Field, e.Reason)
}

// Is matches ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func corrupt(typ, field, format string, args ...any) error {
	return &CorruptError{Type: typ, Field: field, Reason: fmt.Sprintf(format, args...)}
}
