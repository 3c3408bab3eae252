package plugin

import (
	"fmt"
	"strings"
)

// CheckName returns an *InvalidError unless name is a valid volume or
// snapshot name under l: not empty, at most MaxNameLen bytes, not "." or
// "..", not starting with '-', and made only of ASCII letters, digits and
// NameChars. field names the argument in the error ("name", "snapshot").
// Backends call it before deciding anything, so a bad name never reaches a
// tool.
func CheckName(l Limits, field, name string) error {
	bad := func(why string) error { return &InvalidError{Field: field, Value: name, Reason: why} }
	switch {
	case name == "":
		return bad("empty")
	case l.MaxNameLen > 0 && len(name) > l.MaxNameLen:
		return bad(fmt.Sprintf("%d bytes, longer than %d", len(name), l.MaxNameLen))
	case name == "." || name == "..":
		return bad("a path component")
	case name[0] == '-':
		return bad("starts with '-'")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if c != 0 && c != '/' && strings.IndexByte(l.NameChars, c) >= 0 {
			continue
		}
		return bad(fmt.Sprintf("character %q at byte %d is not allowed (letters, digits and %q)", c, i, l.NameChars))
	}
	return nil
}

// RoundSize checks a requested size under l and rounds it up to the
// granularity: zero or negative, or past what an int64 can round to, is an
// *InvalidError; a size below MinSize is raised to MinSize first.
func RoundSize(l Limits, field string, n int64) (int64, error) {
	if n <= 0 {
		return 0, &InvalidError{Field: field, Value: fmt.Sprint(n), Reason: "not positive"}
	}
	if n < l.MinSize {
		n = l.MinSize
	}
	g := l.Granularity
	if g <= 1 {
		return n, nil
	}
	r := n % g
	if r == 0 {
		return n, nil
	}
	if n > (1<<63-1)-(g-r) {
		return 0, &InvalidError{Field: field, Value: fmt.Sprint(n), Reason: "too large"}
	}
	return n + g - r, nil
}
