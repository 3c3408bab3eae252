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

// validName accepts what plugin.CheckName accepts under the backend's
// Limits, and only a letter or digit first: never a path separator, never
// "..", never a hidden file, never the "@" that separates a snapshot's name.
func validName(s string) error {
	if s != "" && !isAlnum(s[0]) {
		return &plugin.InvalidError{Field: "name", Value: s, Reason: "must start with a letter or digit"}
	}
	return plugin.CheckName(limits, "name", s)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var limits = plugin.Limits{MaxNameLen: maxNameLen, NameChars: nameChars, Granularity: granularity, MinSize: granularity}

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
