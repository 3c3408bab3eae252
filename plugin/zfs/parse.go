package zfs

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// ErrMalformed is matched by a *ParseError: zpool or zfs printed something
// this package does not understand.
var ErrMalformed = errors.New("zfs: malformed tool output")

// ParseError says which output, line and text could not be parsed.
type ParseError struct {
	What   string // "zpool list", "zfs get", "size"
	Line   int    // 1-based; 0 when not line-oriented
	Text   string
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("zfs: %s line %d %q: %s", e.What, e.Line, e.Text, e.Reason)
	}
	return fmt.Sprintf("zfs: %s %q: %s", e.What, e.Text, e.Reason)
}

// Is matches ErrMalformed and plugin.ErrBackend: the tool answered nonsense.
func (e *ParseError) Is(target error) bool {
	return target == ErrMalformed || target == plugin.ErrBackend
}

// ParseSize reads a size as zfs and zpool print it: exact bytes ("10485760",
// what -p prints) or human units with a one-letter binary suffix and up to
// three significant digits ("250M", "1.50G", "9.89M", "512B", "0"), which is
// all zfs-fuse's zpool list prints. exact is false for human units: the
// value is the printed number times the unit, which may be off by up to
// half of the last printed digit. "-" and "none" are 0, exact.
func ParseSize(s string) (n int64, exact bool, err error) {
	bad := func(why string) (int64, bool, error) {
		return 0, false, &ParseError{What: "size", Text: s, Reason: why}
	}
	switch s {
	case "-", "none":
		return 0, true, nil
	case "":
		return bad("empty")
	}
	if s[0] >= '0' && s[0] <= '9' && strings.TrimLeft(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return bad("out of range")
		}
		return n, true, nil
	}
	num, unit := s[:len(s)-1], s[len(s)-1]
	shift := strings.IndexByte("BKMGTPE", unit)
	if shift < 0 {
		return bad("unknown unit")
	}
	if num == "" || num[0] < '0' || num[0] > '9' || strings.Count(num, ".") > 1 || strings.TrimLeft(num, "0123456789.") != "" {
		return bad("not a number")
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return bad("not a number")
	}
	v := math.Round(f * math.Pow(2, float64(10*shift)))
	if v >= math.MaxInt64 {
		return bad("out of range")
	}
	// "512B" and "512" are exact; "1.50K" is not.
	return int64(v), shift == 0, nil
}

// fields splits tab-separated -H output into lines of exactly n fields.
func fields(what string, out []byte, n int) ([][]string, error) {
	var rows [][]string
	for i, line := range bytes.Split(out, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		f := strings.Split(string(line), "\t")
		if len(f) != n {
			return nil, &ParseError{What: what, Line: i + 1, Text: string(line), Reason: fmt.Sprintf("%d fields, want %d", len(f), n)}
		}
		if f[0] == "" {
			return nil, &ParseError{What: what, Line: i + 1, Text: string(line), Reason: "empty name"}
		}
		rows = append(rows, f)
	}
	return rows, nil
}

// PoolRow is one line of `zpool list -H [-p] -o name,size,allocated,free,health`.
type PoolRow struct {
	Name                  string
	Size, Allocated, Free int64
	// Exact is false when the sizes were human units (no -p).
	Exact  bool
	Health string
}

// ParsePoolList parses `zpool list -H [-p] -o name,size,allocated,free,health`.
func ParsePoolList(out []byte) ([]PoolRow, error) {
	rows, err := fields("zpool list", out, 5)
	if err != nil {
		return nil, err
	}
	var ps []PoolRow
	for i, f := range rows {
		p := PoolRow{Name: f[0], Health: f[4], Exact: true}
		for j, dst := range []*int64{&p.Size, &p.Allocated, &p.Free} {
			n, exact, err := ParseSize(f[1+j])
			if err != nil {
				return nil, &ParseError{What: "zpool list", Line: i + 1, Text: strings.Join(f, "\t"), Reason: err.Error()}
			}
			*dst = n
			p.Exact = p.Exact && exact
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Props is `zfs get -H -p -o name,property,value` output: the datasets in
// the order printed, each with its properties.
type Props struct {
	Names []string
	By    map[string]map[string]string
}

// ParseProps parses `zfs get -H [-p] -o name,property,value`. A dataset
// printed twice with one property is malformed.
func ParseProps(out []byte) (*Props, error) {
	rows, err := fields("zfs get", out, 3)
	if err != nil {
		return nil, err
	}
	p := &Props{By: map[string]map[string]string{}}
	for i, f := range rows {
		m := p.By[f[0]]
		if m == nil {
			m = map[string]string{}
			p.By[f[0]] = m
			p.Names = append(p.Names, f[0])
		}
		if f[1] == "" {
			return nil, &ParseError{What: "zfs get", Line: i + 1, Text: strings.Join(f, "\t"), Reason: "empty property"}
		}
		if _, dup := m[f[1]]; dup {
			return nil, &ParseError{What: "zfs get", Line: i + 1, Text: strings.Join(f, "\t"), Reason: "property printed twice"}
		}
		m[f[1]] = f[2]
	}
	return p, nil
}

// size reads an exact size property of one dataset (with -p, zfs-fuse's
// zfs get prints bytes as OpenZFS does).
func (p *Props) size(name, prop string) (int64, error) {
	v, ok := p.By[name][prop]
	if !ok {
		return 0, &ParseError{What: "zfs get", Text: name, Reason: "no " + prop}
	}
	n, exact, err := ParseSize(v)
	if err != nil {
		return 0, &ParseError{What: "zfs get", Text: name + " " + prop + "=" + v, Reason: err.Error()}
	}
	if !exact {
		return 0, &ParseError{What: "zfs get", Text: name + " " + prop + "=" + v, Reason: "human units where -p asked for bytes"}
	}
	return n, nil
}

// ParseNames parses `zfs list -H -o name`.
func ParseNames(out []byte) ([]string, error) {
	rows, err := fields("zfs list", out, 1)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r[0]
	}
	return names, nil
}
