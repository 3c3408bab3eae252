package partition

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a requested partition size: bytes, a percentage of the usable
// area, or "rest" (everything up to the next partition or the end).
type Size struct {
	Bytes   uint64
	Percent float64 // 0 < Percent <= 100 when set
	Rest    bool
}

var sizeUnits = map[string]uint64{
	"": 1, "b": 1,
	"s": 0, // sectors: resolved against the sector size
	"k": 1 << 10, "kib": 1 << 10, "kb": 1000,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1000 * 1000,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1000 * 1000 * 1000,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1000 * 1000 * 1000 * 1000,
}

// ParseSize reads "512MiB", "2G", "1.5GiB", "4096" (bytes), "100s"
// (sectors, sectorSize needed), "25%" or "rest". Binary units are the
// default for single letters, as in sgdisk and sfdisk.
func ParseSize(s string, sectorSize int) (Size, error) {
	s = strings.TrimSpace(s)
	ls := strings.ToLower(s)
	if ls == "rest" || ls == "+" || ls == "-" {
		return Size{Rest: true}, nil
	}
	if strings.HasSuffix(ls, "%") {
		v, err := strconv.ParseFloat(strings.TrimSuffix(ls, "%"), 64)
		if err != nil || !(v > 0 && v <= 100) {
			return Size{}, fmt.Errorf("%w: size %q: percent must be in (0, 100]", ErrInvalidArgument, s)
		}
		return Size{Percent: v}, nil
	}
	i := strings.IndexFunc(ls, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := ls, ""
	if i >= 0 {
		num, unit = ls[:i], strings.TrimSpace(ls[i:])
	}
	mult, ok := sizeUnits[unit]
	if !ok || num == "" {
		return Size{}, fmt.Errorf("%w: size %q", ErrInvalidArgument, s)
	}
	if unit == "s" {
		if sectorSize <= 0 {
			return Size{}, fmt.Errorf("%w: size %q in sectors needs a sector size", ErrInvalidArgument, s)
		}
		mult = uint64(sectorSize)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*float64(mult) >= 1<<63 {
		return Size{}, fmt.Errorf("%w: size %q", ErrInvalidArgument, s)
	}
	b := uint64(v * float64(mult))
	if b == 0 {
		return Size{}, fmt.Errorf("%w: size %q rounds to zero", ErrInvalidArgument, s)
	}
	return Size{Bytes: b}, nil
}

// Bytes returns a fixed size of n bytes.
func Bytes(n uint64) Size { return Size{Bytes: n} }

func (s Size) String() string {
	switch {
	case s.Rest:
		return "rest"
	case s.Percent > 0:
		return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
	}
	return strconv.FormatUint(s.Bytes, 10)
}
