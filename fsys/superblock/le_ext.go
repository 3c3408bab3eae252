package superblock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Little helpers shared by the ext, FAT and swap readers. Named with an
// le/ext prefix so they cannot collide with the xfs and btrfs readers'
// helpers in the same package.

var extLE = binary.LittleEndian

// extReadAt reads exactly n bytes at off, bounded by the device size: a
// short device is a *CorruptError for typ (the magic was already found, or
// the caller says what is missing), never a panic or a huge allocation.
func extReadAt(r io.ReaderAt, size, off int64, n int, typ, field string) ([]byte, error) {
	if off < 0 || n < 0 || n > 16<<20 {
		return nil, corrupt(typ, field, "read of %d bytes at %d out of bounds", n, off)
	}
	if size >= 0 && off+int64(n) > size {
		return nil, corrupt(typ, field, "device of %d bytes too short for %d bytes at %d", size, n, off)
	}
	b := make([]byte, n)
	got, err := r.ReadAt(b, off)
	if got == n {
		return b, nil // io.ReaderAt may report io.EOF with a full read
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, corrupt(typ, field, "short read at %d: %d of %d bytes", off, got, n)
	}
	return nil, fmt.Errorf("superblock: %s: read %s at %d: %w", typ, field, off, err)
}

// extUUID formats 16 bytes as the canonical 8-4-4-4-12 lower-case form.
func extUUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// extZero reports whether every byte is zero.
func extZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// extCString returns b up to its first NUL.
func extCString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
