package lvm

import (
	"sort"
	"strconv"
)

// The LVM2 text metadata format is a small config language (lvm2
// lib/config): sections `name { ... }` holding sections and assignments
// `key = value`, where a value is a "string" (with \" and \\ escapes), an
// integer, a float, or a [list, of, values]; '#' starts a comment to the
// end of the line. Section names are VG and LV names, which may hold '+',
// '_', '.' and '-'.

// mValue is one value: a string, a number (kept as its literal) or a list.
type mValue struct {
	str    string
	num    string
	isNum  bool
	list   []mValue
	isList bool
}

// mSection is a section: its assignments and subsections in file order.
type mSection struct {
	name  string
	keys  map[string]mValue
	subs  []*mSection
	index map[string]*mSection
}

func (s *mSection) sub(name string) *mSection { return s.index[name] }

func (s *mSection) str(k string) string { return s.keys[k].str }

func (s *mSection) int(k string) (int64, bool) {
	v, ok := s.keys[k]
	if !ok || !v.isNum {
		return 0, false
	}
	n, err := strconv.ParseInt(v.num, 10, 64)
	return n, err == nil
}

func (s *mSection) strs(k string) []string {
	var out []string
	for _, v := range s.keys[k].list {
		if !v.isNum && !v.isList {
			out = append(out, v.str)
		}
	}
	return out
}

// tags is a tag list sorted as lvm's reports print it.
func (s *mSection) tags() []string {
	t := s.strs("tags")
	sort.Strings(t)
	return t
}

func (s *mSection) has(k, flag string) bool {
	for _, f := range s.strs(k) {
		if f == flag {
			return true
		}
	}
	return false
}

const maxMetaDepth = 32

type metaParser struct {
	b     []byte
	p     int
	depth int
}

// parseMetadata parses a whole metadata text into its root section.
func parseMetadata(b []byte) (*mSection, error) {
	mp := &metaParser{b: b}
	root := newSection("")
	if err := mp.body(root, false); err != nil {
		return nil, err
	}
	return root, nil
}

func newSection(name string) *mSection {
	return &mSection{name: name, keys: map[string]mValue{}, index: map[string]*mSection{}}
}

func (mp *metaParser) err(format string, args ...any) error {
	return malformed("metadata text", int64(mp.p), format, args...)
}

// skip passes whitespace and comments.
func (mp *metaParser) skip() {
	for mp.p < len(mp.b) {
		switch c := mp.b[mp.p]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0:
			mp.p++
		case c == '#':
			for mp.p < len(mp.b) && mp.b[mp.p] != '\n' {
				mp.p++
			}
		default:
			return
		}
	}
}

func isIdentByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', 0, '=', '{', '}', '[', ']', ',', '"', '#':
		return false
	}
	return true
}

// body reads items until '}' (inner) or the end of input (root).
func (mp *metaParser) body(s *mSection, inner bool) error {
	for {
		mp.skip()
		if mp.p >= len(mp.b) {
			if inner {
				return mp.err("section %q is not closed", s.name)
			}
			return nil
		}
		if mp.b[mp.p] == '}' {
			if !inner {
				return mp.err("unexpected '}'")
			}
			mp.p++
			return nil
		}
		start := mp.p
		for mp.p < len(mp.b) && isIdentByte(mp.b[mp.p]) {
			mp.p++
		}
		if mp.p == start {
			return mp.err("expected a name, found %q", mp.b[mp.p])
		}
		name := string(mp.b[start:mp.p])
		mp.skip()
		if mp.p >= len(mp.b) {
			return mp.err("%q has no value", name)
		}
		switch mp.b[mp.p] {
		case '{':
			mp.p++
			if mp.depth++; mp.depth > maxMetaDepth {
				return mp.err("sections nested deeper than %d", maxMetaDepth)
			}
			sub := newSection(name)
			if err := mp.body(sub, true); err != nil {
				return err
			}
			mp.depth--
			if s.index[name] != nil {
				return mp.err("section %q twice", name)
			}
			s.subs = append(s.subs, sub)
			s.index[name] = sub
		case '=':
			mp.p++
			v, err := mp.value(0)
			if err != nil {
				return err
			}
			s.keys[name] = v
		default:
			return mp.err("expected '=' or '{' after %q", name)
		}
	}
}

func (mp *metaParser) value(depth int) (mValue, error) {
	mp.skip()
	if mp.p >= len(mp.b) {
		return mValue{}, mp.err("missing value")
	}
	switch c := mp.b[mp.p]; {
	case c == '"':
		s, err := mp.quoted()
		return mValue{str: s}, err
	case c == '[':
		if depth >= maxMetaDepth {
			return mValue{}, mp.err("lists nested deeper than %d", maxMetaDepth)
		}
		mp.p++
		v := mValue{isList: true}
		for {
			mp.skip()
			if mp.p < len(mp.b) && mp.b[mp.p] == ']' {
				mp.p++
				return v, nil
			}
			if len(v.list) > 0 {
				if mp.p >= len(mp.b) || mp.b[mp.p] != ',' {
					return v, mp.err("expected ',' or ']' in a list")
				}
				mp.p++
			}
			e, err := mp.value(depth + 1)
			if err != nil {
				return v, err
			}
			v.list = append(v.list, e)
		}
	case c == '-' || c >= '0' && c <= '9':
		start := mp.p
		mp.p++
		for mp.p < len(mp.b) && (mp.b[mp.p] >= '0' && mp.b[mp.p] <= '9' || mp.b[mp.p] == '.') {
			mp.p++
		}
		lit := string(mp.b[start:mp.p])
		if _, err := strconv.ParseFloat(lit, 64); err != nil {
			return mValue{}, mp.err("bad number %q", lit)
		}
		return mValue{num: lit, isNum: true}, nil
	default:
		return mValue{}, mp.err("unexpected %q in a value", c)
	}
}

func (mp *metaParser) quoted() (string, error) {
	mp.p++ // opening quote
	var out []byte
	for mp.p < len(mp.b) {
		c := mp.b[mp.p]
		mp.p++
		switch c {
		case '"':
			return string(out), nil
		case '\\':
			if mp.p >= len(mp.b) {
				return "", mp.err("string ends in a backslash")
			}
			out = append(out, mp.b[mp.p])
			mp.p++
		default:
			out = append(out, c)
		}
	}
	return "", mp.err("string is not closed")
}
