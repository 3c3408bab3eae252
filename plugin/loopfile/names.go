package loopfile

import (
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

const (
	// maxNameLen bounds volume and snapshot names: "<vol>@<snap>.snap.json"
	// stays far below NAME_MAX (255) at the limit.
	maxNameLen = 96
	// nameChars are the characters allowed besides ASCII letters and digits.
	nameChars = "_-"
	// maxTagLen and maxTags bound a volume's tags.
	maxTagLen = 253
	maxTags   = 64
)

// checkName accepts only [A-Za-z0-9][A-Za-z0-9_-]{0,95}: such a name is
// always a single local path element, so joining it to the directory can
// never escape it, name a hidden file or collide with the sidecar suffixes.
func checkName(field, s string) error {
	if s == "" {
		return &plugin.InvalidError{Field: field, Value: s, Reason: "empty"}
	}
	if len(s) > maxNameLen {
		return &plugin.InvalidError{Field: field, Value: s, Reason: fmt.Sprintf("longer than %d bytes", maxNameLen)}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || (i > 0 && strings.IndexByte(nameChars, c) >= 0) {
			continue
		}
		return &plugin.InvalidError{Field: field, Value: s, Reason: fmt.Sprintf("byte %d (%q) is not a letter, digit, '_' or '-' (or a leading '_'/'-')", i, c)}
	}
	return nil
}

func checkTags(tags []string) error {
	if len(tags) > maxTags {
		return &plugin.InvalidError{Field: "tags", Value: fmt.Sprint(len(tags)), Reason: fmt.Sprintf("more than %d tags", maxTags)}
	}
	for _, t := range tags {
		if t == "" || len(t) > maxTagLen {
			return &plugin.InvalidError{Field: "tag", Value: t, Reason: fmt.Sprintf("empty or longer than %d bytes", maxTagLen)}
		}
		for _, r := range t {
			if r < 0x20 || r == 0x7f {
				return &plugin.InvalidError{Field: "tag", Value: t, Reason: "control character"}
			}
		}
	}
	return nil
}

// splitVolumeID parses "pool/name" for this backend's pool.
func (b *Backend) splitVolumeID(id string) (string, error) {
	pool, name, ok := strings.Cut(id, "/")
	if !ok || pool != b.pool {
		return "", &plugin.InvalidError{Field: "volume id", Value: id, Reason: fmt.Sprintf("not %q followed by a volume name", b.pool+"/")}
	}
	if err := checkName("volume name", name); err != nil {
		return "", err
	}
	return name, nil
}

// splitSnapshotID parses "pool/volume@snapshot".
func (b *Backend) splitSnapshotID(id string) (vol, snap string, err error) {
	v, s, ok := strings.Cut(id, "@")
	if !ok {
		return "", "", &plugin.InvalidError{Field: "snapshot id", Value: id, Reason: "no '@'"}
	}
	if vol, err = b.splitVolumeID(v); err != nil {
		return "", "", err
	}
	if err = checkName("snapshot name", s); err != nil {
		return "", "", err
	}
	return vol, s, nil
}
