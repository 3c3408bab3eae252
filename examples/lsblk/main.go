// Command lsblk lists block devices like util-linux lsblk, from
// blockdev.Discover instead of a scan by a C tool: a tree by default, -J for
// JSON with lsblk 2.38's keys and value types, -b for sizes in bytes, -o and
// -O to choose columns, --sysroot DIR to read a fake or foreign tree.
//
//	go run ./examples/lsblk
//	go run ./examples/lsblk -J -b -o NAME,SIZE,TYPE,MOUNTPOINTS
//	go run ./examples/lsblk --sysroot /path/to/tree -O
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	json, bytes, all, noHeadings, noDeps bool
	ascii                                bool // tree drawn with |- and `- (not a UTF-8 locale)
	probe                                *bool
	sysroot                              string
	columns                              []column
	devices                              []string
}

var errUsage = errors.New("usage")

func parseArgs(args []string) (*options, error) {
	o := &options{}
	var cols []string
	outputAll := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%w: %s needs a value", errUsage, a)
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "--json":
			o.json = true
		case a == "--bytes":
			o.bytes = true
		case a == "--all":
			o.all = true
		case a == "--output-all":
			outputAll = true
		case a == "--noheadings":
			o.noHeadings = true
		case a == "--nodeps":
			o.noDeps = true
		case a == "--probe" || a == "--no-probe":
			on := a == "--probe"
			o.probe = &on
		case a == "--output" || a == "--sysroot":
			v, err := value()
			if err != nil {
				return nil, err
			}
			if a == "--output" {
				cols = append(cols, strings.Split(v, ",")...)
			} else {
				o.sysroot = v
			}
		case strings.HasPrefix(a, "--output="):
			cols = append(cols, strings.Split(strings.TrimPrefix(a, "--output="), ",")...)
		case strings.HasPrefix(a, "--sysroot="):
			o.sysroot = strings.TrimPrefix(a, "--sysroot=")
		case strings.HasPrefix(a, "--"):
			return nil, fmt.Errorf("%w: unknown option %s", errUsage, a)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				switch a[j] {
				case 'J':
					o.json = true
				case 'b':
					o.bytes = true
				case 'a':
					o.all = true
				case 'O':
					outputAll = true
				case 'n':
					o.noHeadings = true
				case 'd':
					o.noDeps = true
				case 'o':
					v := a[j+1:]
					if v == "" {
						var err error
						if v, err = value(); err != nil {
							return nil, err
						}
					}
					cols = append(cols, strings.Split(v, ",")...)
					j = len(a)
				default:
					return nil, fmt.Errorf("%w: unknown option -%c", errUsage, a[j])
				}
			}
		default:
			o.devices = append(o.devices, a)
		}
	}
	switch {
	case outputAll:
		o.columns = columns
	case len(cols) > 0:
		for _, name := range cols {
			if strings.HasPrefix(name, "+") { // -o +COL adds to the defaults
				name = name[1:]
				if len(o.columns) == 0 {
					for _, dn := range defaultColumns {
						c, _ := findColumn(dn)
						o.columns = append(o.columns, c)
					}
				}
			}
			c, ok := findColumn(name)
			if !ok {
				return nil, fmt.Errorf("%w: unknown column: %s", errUsage, name)
			}
			o.columns = append(o.columns, c)
		}
	default:
		for _, name := range defaultColumns {
			c, _ := findColumn(name)
			o.columns = append(o.columns, c)
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "lsblk: %v\n", err)
		return 1
	}
	o.ascii = !utf8Locale()
	opts := []blockdev.Option{blockdev.WithRoot(o.sysroot), blockdev.WithAttributes(attrGroups(o.columns))}
	if o.probe != nil {
		opts = append(opts, blockdev.WithProbe(*o.probe))
	} else if !needsProbe(o.columns) {
		opts = append(opts, blockdev.WithProbe(false))
	}
	if len(o.devices) > 0 {
		// Probe only the devices asked for and what is stacked on them:
		// an open partition, even read-only, blocks its deletion by others.
		opts = append(opts, blockdev.WithProbeFilter(func(g *blockdev.Graph, d *blockdev.Device) bool {
			for _, p := range o.devices {
				sel, ok := g.ByPath(p)
				if !ok {
					sel, ok = g.ByName(p)
				}
				if ok && (sel == d || slices.Contains(g.Descendants(sel), d)) {
					return true
				}
			}
			return false
		}))
	}
	g, err := blockdev.Discover(ctx, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "lsblk: %v\n", err)
		return 32
	}
	roots, err := selectRoots(g, o)
	if err != nil {
		fmt.Fprintf(stderr, "lsblk: %v\n", err)
		return 32
	}
	if o.json {
		err = writeJSON(stdout, g, roots, o)
	} else {
		err = writeText(stdout, g, roots, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lsblk: %v\n", err)
		return 1
	}
	return 0
}

// attrGroups reads only the sysfs attribute groups the columns show.
func attrGroups(cols []column) blockdev.AttrGroup {
	var g blockdev.AttrGroup
	for _, c := range cols {
		switch c.name {
		case "ROTA", "LOG-SEC", "PHY-SEC", "MIN-IO", "OPT-IO", "DISC-GRAN", "DISC-MAX", "DISC-ZERO",
			"SCHED", "RQ-SIZE", "RA", "ZONED", "DAX":
			g |= blockdev.AttrQueue
		case "MODEL", "SERIAL", "VENDOR", "REV", "WWN", "TRAN", "HCTL", "HOTPLUG":
			g |= blockdev.AttrHardware
		case "ALIGNMENT", "DISC-ALN":
			g |= blockdev.AttrAlignment
		}
	}
	return g
}

// needsProbe: signature columns are the only ones that read the devices.
func needsProbe(cols []column) bool {
	for _, c := range cols {
		switch c.name {
		case "FSTYPE", "FSVER", "LABEL", "UUID", "PTTYPE", "PTUUID", "PARTTYPE", "PARTUUID", "PARTLABEL":
			return true
		}
	}
	return false
}

// visible is lsblk's default filter: detached loop devices and RAM disks
// (major 1) are listed only with -a.
func visible(d *blockdev.Device, o *options) bool {
	if o.all {
		return true
	}
	if d.MajMin.Major == 1 {
		return false
	}
	if d.Type == blockdev.TypeLoop && d.LoopBackingFile == "" && (d.Size == nil || *d.Size == 0) {
		return false
	}
	return true
}

func selectRoots(g *blockdev.Graph, o *options) ([]row, error) {
	var out []row
	if len(o.devices) == 0 {
		for _, d := range g.Roots() {
			if visible(d, o) {
				out = append(out, row{d: d})
			}
		}
		return out, nil
	}
	for _, p := range o.devices {
		d, ok := g.ByPath(p)
		if !ok {
			d, ok = g.ByName(p)
		}
		if !ok {
			return nil, fmt.Errorf("%s: not a block device", p)
		}
		r := row{d: d}
		if ps := g.Parents(d); len(ps) > 0 {
			r.parent = ps[0]
		}
		out = append(out, r)
	}
	// lsblk lists the devices it is given in device-number order too.
	slices.SortStableFunc(out, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.d.MajMin.Major, b.d.MajMin.Major), cmp.Compare(a.d.MajMin.Minor, b.d.MajMin.Minor))
	})
	return out, nil
}

func (o *options) children(g *blockdev.Graph, r row) []row {
	if o.noDeps {
		return nil
	}
	var out []row
	for _, c := range g.Children(r.d) {
		out = append(out, row{d: c, parent: r.d})
	}
	return out
}

func value(c column, r row, o *options) any {
	v := c.get(r)
	if c.kind == kSize && v != nil && !o.bytes {
		return humanSize(v.(uint64))
	}
	if c.kind == kArray {
		l := v.([]string)
		out := make([]any, 0, max(1, len(l)))
		for _, s := range l {
			out = append(out, s)
		}
		if len(out) == 0 {
			out = append(out, nil) // lsblk prints [null] for no mountpoint
		}
		return out
	}
	return v
}

// writeJSON prints {"blockdevices": [...]} with keys in column order, as
// lsblk does, so a diff against lsblk's output reads naturally.
func writeJSON(w io.Writer, g *blockdev.Graph, roots []row, o *options) error {
	var b strings.Builder
	b.WriteString("{\n   \"blockdevices\": [")
	for i, r := range roots {
		if i > 0 {
			b.WriteString(",")
		}
		if err := o.jsonRow(&b, g, r, 2); err != nil {
			return err
		}
	}
	b.WriteString("\n   ]\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (o *options) jsonRow(b *strings.Builder, g *blockdev.Graph, r row, depth int) error {
	ind := strings.Repeat("   ", depth)
	b.WriteString("\n" + ind + "{")
	for i, c := range o.columns {
		if i > 0 {
			b.WriteString(",")
		}
		v, err := json.Marshal(value(c, r, o))
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "\n%s   %q: %s", ind, strings.ToLower(c.name), v)
	}
	if kids := o.children(g, r); len(kids) > 0 {
		fmt.Fprintf(b, ",\n%s   \"children\": [", ind)
		for i, k := range kids {
			if i > 0 {
				b.WriteString(",")
			}
			if err := o.jsonRow(b, g, k, depth+2); err != nil {
				return err
			}
		}
		fmt.Fprintf(b, "\n%s   ]", ind)
	}
	b.WriteString("\n" + ind + "}")
	return nil
}

// minWidth is lsblk's absolute width hint of a column in text output
// (libsmartcols gives a column at least this width); 0 means none.
var minWidth = map[string]int{
	"MAJ:MIN": 6, "FSAVAIL": 5, "FSSIZE": 5, "FSUSED": 5, "FSUSE%": 3, "UUID": 36, "PTUUID": 36,
	"PARTTYPE": 36, "PARTUUID": 36, "RA": 3, "RO": 1, "RM": 1, "HOTPLUG": 1, "ROTA": 1, "SIZE": 5,
	"ALIGNMENT": 6, "MIN-IO": 6, "OPT-IO": 6, "PHY-SEC": 7, "LOG-SEC": 7, "RQ-SIZE": 5, "TYPE": 4,
	"DISC-ALN": 6, "DISC-GRAN": 6, "DISC-MAX": 6, "DISC-ZERO": 1, "WWN": 18, "HCTL": 10, "TRAN": 6,
	"REV": 4, "DAX": 1, "START": 0, "PARTN": 0, "DISK-SEQ": 0,
}

// writeText prints lsblk's table: a tree in the NAME column, numbers right
// aligned, every column but the last padded to its width, and a device
// with several mountpoints on several lines.
func writeText(w io.Writer, g *blockdev.Graph, roots []row, o *options) error {
	var lines [][]string
	if !o.noHeadings {
		h := make([]string, len(o.columns))
		for i, c := range o.columns {
			h[i] = c.name
		}
		lines = append(lines, h)
	}
	var walk func(r row, prefix string, last, top bool)
	walk = func(r row, prefix string, last, top bool) {
		cells := make([]string, len(o.columns))
		extra := [][]string{}
		for i, c := range o.columns {
			cells[i] = textValue(c, r, o)
			if c.name == "MAJ:MIN" {
				cells[i] = fmt.Sprintf("%3d:%-3d", r.d.MajMin.Major, r.d.MajMin.Minor)
			}
			if c.name == "NAME" || (c.name == "KNAME" && !hasColumn(o.columns, "NAME")) {
				branch := ""
				if !top {
					branch = pick(o.ascii, "|-", "├─")
					if last {
						branch = pick(o.ascii, "`-", "└─")
					}
				}
				cells[i] = prefix + branch + cells[i]
			}
			if more := strings.Split(cells[i], "\n"); len(more) > 1 {
				cells[i] = more[0]
				for j, m := range more[1:] {
					if j >= len(extra) {
						extra = append(extra, make([]string, len(o.columns)))
					}
					extra[j][i] = m
				}
			}
		}
		lines = append(lines, cells)
		lines = append(lines, extra...)
		if !hasColumn(o.columns, "NAME") {
			return // list mode: the caller visits every row
		}
		kids := o.children(g, r)
		next := prefix
		if !top {
			if last {
				next += "  "
			} else {
				next += pick(o.ascii, "| ", "│ ")
			}
		}
		for i, k := range kids {
			walk(k, next, i == len(kids)-1, false)
		}
	}
	if hasColumn(o.columns, "NAME") {
		for _, r := range roots {
			walk(r, "", false, true)
		}
	} else {
		// Without NAME lsblk prints a list: one line per place in the tree,
		// ordered by device number, then by parent name.
		var flat []row
		var collect func(r row)
		collect = func(r row) {
			flat = append(flat, r)
			for _, k := range o.children(g, r) {
				collect(k)
			}
		}
		for _, r := range roots {
			collect(r)
		}
		slices.SortStableFunc(flat, func(a, b row) int {
			return cmp.Or(cmp.Compare(a.d.MajMin.Major, b.d.MajMin.Major), cmp.Compare(a.d.MajMin.Minor, b.d.MajMin.Minor),
				cmp.Compare(pkname(a), pkname(b)))
		})
		for _, r := range flat {
			walk(r, "", false, true)
		}
	}
	widths := make([]int, len(o.columns))
	for i, c := range o.columns {
		widths[i] = minWidth[c.name]
	}
	for _, l := range lines {
		for i, s := range l {
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	for _, l := range lines {
		for i, s := range l {
			if i > 0 {
				b.WriteByte(' ')
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s))
			switch {
			case o.columns[i].right:
				b.WriteString(pad + s)
			case i == len(l)-1:
				b.WriteString(s)
			default:
				b.WriteString(s + pad)
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// utf8Locale reports whether the locale's character set is UTF-8, from the
// variables the C library consults, in its order; lsblk draws its tree in
// ASCII otherwise.
func utf8Locale() bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if l := os.Getenv(v); l != "" {
			l = strings.ToLower(l)
			return strings.Contains(l, "utf-8") || strings.Contains(l, "utf8")
		}
	}
	return false
}

func pkname(r row) string {
	if r.parent == nil {
		return ""
	}
	return r.parent.KName
}

func pick(ascii bool, a, u string) string {
	if ascii {
		return a
	}
	return u
}

func hasColumn(cols []column, name string) bool {
	for _, c := range cols {
		if c.name == name {
			return true
		}
	}
	return false
}

func textValue(c column, r row, o *options) string {
	v := value(c, r, o)
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "1"
		}
		return "0"
	case uint64:
		return strconv.FormatUint(x, 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case []any:
		var parts []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, "\n")
	}
	return fmt.Sprint(v)
}
