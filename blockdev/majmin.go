package blockdev

import (
	"fmt"
	"strconv"
	"strings"
)

// MajMin is a block device number, the key of every join in this package:
// sysfs, mountinfo, /proc/swaps and the udev database all agree on it, while
// path strings do not (DESIGN.md principle 2).
type MajMin struct {
	Major, Minor uint32
}

// String formats m as lsblk and sysfs do: "8:0".
func (m MajMin) String() string {
	return strconv.FormatUint(uint64(m.Major), 10) + ":" + strconv.FormatUint(uint64(m.Minor), 10)
}

// ParseMajMin parses "8:0" (the format of sysfs dev files and mountinfo).
func ParseMajMin(s string) (MajMin, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return MajMin{}, fmt.Errorf("%w: %q is not major:minor", ErrSyntax, s)
	}
	ma, err := strconv.ParseUint(a, 10, 32)
	if err != nil {
		return MajMin{}, fmt.Errorf("%w: major in %q: %v", ErrSyntax, s, err)
	}
	mi, err := strconv.ParseUint(b, 10, 32)
	if err != nil {
		return MajMin{}, fmt.Errorf("%w: minor in %q: %v", ErrSyntax, s, err)
	}
	return MajMin{Major: uint32(ma), Minor: uint32(mi)}, nil
}
