package loopfile

import (
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

const (
	maxNameLen  = 128
	nameChars   = "._-"
	granularity = 1 << 20 // sizes are rounded up to whole MiB
)

// validName accepts ASCII letters, digits and "._-", starting with a letter
// or digit, at most maxNameLen bytes: never a path separator, never "..",
// never the "@" that separates a snapshot's name.
func validName(s string) error {
	bad := func(why string) error { return &plugin.InvalidError{Field: "name", Value: s, Reason: why} }
	if s == "" {
		return bad("empty")
	}
	if len(s) > maxNameLen {
		return bad("longer than 128 bytes")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return bad("must start with a letter or digit")
		}
		if !alnum && !strings.ContainsRune(nameChars, rune(c)) {
			return bad("only letters, digits and . _ - are allowed")
		}
	}
	return nil
}

// splitSnapshotID splits "pool/volume@snap".
func splitSnapshotID(pool, id string) (vol, snap string, err error) {
	rest, ok := strings.CutPrefix(id, pool+"/")
	if !ok {
		return "", "", &plugin.InvalidError{Field: "snapshot id", Value: id, Reason: "not of pool " + pool}
	}
	vol, snap, ok = strings.Cut(rest, "@")
	if !ok {
		return "", "", &plugin.InvalidError{Field: "snapshot id", Value: id, Reason: "want pool/volume@snapshot"}
	}
	if err := validName(vol); err != nil {
		return "", "", err
	}
	if err := validName(snap); err != nil {
		return "", "", err
	}
	return vol, snap, nil
}

// splitVolumeID splits "pool/volume".
func splitVolumeID(pool, id string) (string, error) {
	vol, ok := strings.CutPrefix(id, pool+"/")
	if !ok {
		return "", &plugin.InvalidError{Field: "volume id", Value: id, Reason: "not of pool " + pool}
	}
	if err := validName(vol); err != nil {
		return "", err
	}
	return vol, nil
}
