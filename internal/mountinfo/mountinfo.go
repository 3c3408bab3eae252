package mountinfo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every error ParseLine returns.
var ErrSyntax = errors.New("malformed mountinfo line")

// Entry is one mountinfo line:
// id parent MAJ:MIN root mountpoint options [optional...] - fstype source superoptions
type Entry struct {
	ID, ParentID int
	Major, Minor uint32
	Root         string
	MountPoint   string
	Options      string
	Optional     []string // shared:N, master:N, propagate_from:N, unbindable
	FSType       string
	Source       string
	SuperOptions string // absent on some old kernels
}

// ParseLine parses one mountinfo line (a trailing newline is allowed). Paths,
// the filesystem type and the source are unescaped.
func ParseLine(line string) (Entry, error) {
	var e Entry
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 7 || sep < 0 || len(f) < sep+3 {
		return e, fmt.Errorf("%w: %q: too few fields or no separator", ErrSyntax, line)
	}
	var err error
	if e.ID, err = strconv.Atoi(f[0]); err != nil {
		return e, fmt.Errorf("%w: mount id in %q", ErrSyntax, line)
	}
	if e.ParentID, err = strconv.Atoi(f[1]); err != nil {
		return e, fmt.Errorf("%w: parent id in %q", ErrSyntax, line)
	}
	ma, mi, ok := strings.Cut(f[2], ":")
	major, err1 := strconv.ParseUint(ma, 10, 32)
	minor, err2 := strconv.ParseUint(mi, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return e, fmt.Errorf("%w: %q is not major:minor", ErrSyntax, f[2])
	}
	e.Major, e.Minor = uint32(major), uint32(minor)
	e.Root = Unescape(f[3])
	e.MountPoint = Unescape(f[4])
	e.Options = f[5]
	if sep > 6 {
		e.Optional = f[6:sep]
	}
	e.FSType = Unescape(f[sep+1])
	e.Source = Unescape(f[sep+2])
	if len(f) > sep+3 {
		e.SuperOptions = f[sep+3]
	}
	return e, nil
}

// Unescape decodes the kernel's \ooo escapes (\040 space, \011 tab, \012
// newline, \134 backslash). A backslash not followed by three octal digits of
// a byte value is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			if v := int(s[i+1]-'0')<<6 | int(s[i+2]-'0')<<3 | int(s[i+3]-'0'); v < 256 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// Peek reads, without allocating, what decides whether a line can concern a
// block device: its device number and its source. ok is false when the line
// is not in the kernel's plain form (ASCII fields separated by single
// spaces, no escape in the source) or would not parse; ParseLine then
// decides. When ok is true, ParseLine(line) succeeds with the same Major,
// Minor and Source: a caller may skip the full parse of a line Peek rules
// out without losing a line or an error.
func Peek(line string) (major, minor uint32, source string, ok bool) {
	line = strings.TrimSuffix(line, "\n")
	if line == "" || line[0] == ' ' || line[len(line)-1] == ' ' || strings.Contains(line, "  ") {
		return 0, 0, "", false
	}
	for i := 0; i < len(line); i++ {
		// Bytes that strings.Fields (ParseLine) would also split at, and
		// any non-ASCII byte (a Unicode space among them).
		if c := line[i]; c >= 0x80 || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' {
			return 0, 0, "", false
		}
	}
	id, rest, found := strings.Cut(line, " ")
	if !found {
		return 0, 0, "", false
	}
	parent, rest, found := strings.Cut(rest, " ")
	if !found {
		return 0, 0, "", false
	}
	majMin, rest, found := strings.Cut(rest, " ")
	if !found {
		return 0, 0, "", false
	}
	if _, err := strconv.Atoi(id); err != nil {
		return 0, 0, "", false
	}
	if _, err := strconv.Atoi(parent); err != nil {
		return 0, 0, "", false
	}
	ma, mi, found := strings.Cut(majMin, ":")
	maj, err1 := strconv.ParseUint(ma, 10, 32)
	mnr, err2 := strconv.ParseUint(mi, 10, 32)
	if !found || err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	// Root, mount point and options, then the separator: the first field
	// "-" from the seventh on.
	for range 3 {
		if _, rest, found = strings.Cut(rest, " "); !found {
			return 0, 0, "", false
		}
	}
	for {
		var w string
		w, rest, found = strings.Cut(rest, " ")
		if w == "-" && found {
			break
		}
		if !found {
			return 0, 0, "", false
		}
	}
	if _, rest, found = strings.Cut(rest, " "); !found { // the filesystem type
		return 0, 0, "", false
	}
	source, _, _ = strings.Cut(rest, " ")
	if strings.Contains(source, `\`) {
		return 0, 0, "", false
	}
	return uint32(maj), uint32(mnr), source, true
}
