// Command lsblk lists block devices like util-linux lsblk 2.38, from
// blockdev.Discover instead of a C tool, for its common uses: a tree by
// default; -J/--json with lsblk's keys, value types and layout; -b/--bytes;
// -o LIST (and -o +COL) with every column of lsblk 2.38, -O/--output-all,
// -f/--fs; -l/--list, -r/--raw, -P/--pairs, -n/--noheadings, -d/--nodeps,
// -p/--paths, -a/--all, -A/--noempty, -e/--exclude; device arguments;
// --sysroot DIR.
//
//	go run ./examples/lsblk
//	go run ./examples/lsblk -J -b -o NAME,SIZE,TYPE,MOUNTPOINTS
//	go run ./examples/lsblk --sysroot /path/to/tree -O
//
// util-linux's own lsblk test suite (tests/ts/lsblk: dumps of real
// machines read with --sysroot) prints byte for byte the same with this
// program (TestUtilLinuxSuite). Where it answers differently from lsblk
// 2.38, lsblk is the one without the fact (tests in this directory check
// each case): TRAN is "virtio" for virtio disks (lsblk 2.39+ too) and
// "loop" for loop devices, and empty for partitions (lsblk 2.38 guesses
// "nvme" from the name); WWN comes from sysfs when there is no udev; and
// with --sysroot, swap is matched in the tree, and the filesystem usage and
// OWNER, GROUP and MODE are not taken from the host (lsblk statfs's and
// stats the host's paths of those names). -O also prints PARTN and
// DISK-SEQ (lsblk 2.39).
//
// Where a device has udev properties (the udev database's record, or with
// --sysroot the tree's property file, DIR/dev/NAME, which lsblk reads there
// instead), the signature columns (FSTYPE, UUID, LABEL, PT*, PART*) and
// MODEL, SERIAL and WWN are taken from them as lsblk takes them; otherwise
// the signature columns come from our own probe, matching blkid -p, where
// lsblk without udev prints nothing. A partition's PTTYPE and PTUUID are
// its table's, as lsblk prints them with udev.
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
	list, paths, raw, pairs, fs          bool
	noEmpty                              bool            // -A: devices of size zero are not listed
	exclude                              map[uint32]bool // majors not listed; default: RAM disks (1)
	excludeSet                           bool            // -e given: -a no longer brings RAM disks back
	probe                                *bool
	sysroot                              string
	columns                              []column
	devices                              []string
}

var errUsage = errors.New("usage")

func parseArgs(args []string) (*options, error) {
	o := &options{exclude: map[uint32]bool{1: true}}
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
		case a == "--noempty":
			o.noEmpty = true
		case a == "--output-all":
			outputAll = true
		case a == "--noheadings":
			o.noHeadings = true
		case a == "--nodeps":
			o.noDeps = true
		case a == "--list":
			o.list = true
		case a == "--paths":
			o.paths = true
		case a == "--raw":
			o.raw = true
		case a == "--pairs":
			o.pairs = true
		case a == "--fs":
			o.fs = true
		case a == "--exclude":
			v, err := value()
			if err != nil {
				return nil, err
			}
			if err := o.setExclude(v); err != nil {
				return nil, err
			}
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
				case 'A':
					o.noEmpty = true
				case 'O':
					outputAll = true
				case 'n':
					o.noHeadings = true
				case 'd':
					o.noDeps = true
				case 'l':
					o.list = true
				case 'p':
					o.paths = true
				case 'r':
					o.raw = true
				case 'P':
					o.pairs = true
				case 'f':
					o.fs = true
				case 'e':
					v := a[j+1:]
					if v == "" {
						var err error
						if v, err = value(); err != nil {
							return nil, err
						}
					}
					if err := o.setExclude(v); err != nil {
						return nil, err
					}
					j = len(a)
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
	if o.fs && len(cols) == 0 && !outputAll {
		cols = []string{"NAME", "FSTYPE", "FSVER", "LABEL", "UUID", "FSAVAIL", "FSUSE%", "MOUNTPOINTS"}
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

// setExclude parses -e: a comma-separated list of major numbers, which
// replaces the default exclusion of RAM disks.
func (o *options) setExclude(v string) error {
	o.exclude, o.excludeSet = map[uint32]bool{}, true
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 32)
		if err != nil {
			return fmt.Errorf("%w: bad major number %q", errUsage, f)
		}
		o.exclude[uint32(n)] = true
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "lsblk: %v\n", err)
		return 1
	}
	o.ascii = !utf8Locale()
	opts := []blockdev.Option{blockdev.WithRoot(o.sysroot), blockdev.WithAttributes(attrGroups(o.columns))}
	if o.noEmpty && !o.all {
		// Left out by discovery itself: an empty disk then costs one read.
		// -a wins over -A in lsblk 2.38, in either order: it disables every
		// filter (TestDifferentialNoEmpty).
		opts = append(opts, blockdev.WithEmpty(false))
	}
	if !o.all && len(o.devices) == 0 {
		// lsblk's default filter, applied by discovery itself so that a
		// detached loop device costs two reads, not twenty-odd; visible
		// keeps the same rule for the devices that are read. Devices named
		// on the command line are all read: selectRoots applies the rule
		// to them and counts those it leaves out for the exit status.
		opts = append(opts, blockdev.WithDetachedLoops(false))
	}
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
				// The disk of a partition asked for too: the
				// partition's PTUUID is its disk's table's.
				if ok && (sel == d || g.Disk(sel) == d || slices.Contains(g.Descendants(sel), d)) {
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
	// lsblk says nothing when it cannot read the mount or swap table and
	// shows every device as unmounted; we list the devices all the same
	// but say what is unknown.
	for _, e := range g.Errs() {
		fmt.Fprintf(stderr, "lsblk: warning: %v\n", e)
	}
	roots, failed := selectRoots(g, o, stderr)
	if o.json {
		err = writeJSON(stdout, g, roots, o)
	} else {
		err = writeText(stdout, g, roots, o)
	}
	if err != nil {
		fmt.Fprintf(stderr, "lsblk: %v\n", err)
		return 1
	}
	// lsblk's exit status for device arguments: 32 when none of them was
	// listed, 64 when some were not.
	switch {
	case failed > 0 && failed == len(o.devices):
		return 32
	case failed > 0:
		return 64
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
		case "ALIGNMENT":
			g |= blockdev.AttrAlignment
		case "DISC-ALN":
			// lsblk prints a discard alignment only for a device that
			// discards: the granularity says.
			g |= blockdev.AttrAlignment | blockdev.AttrQueue
		case "RAND", "WSAME":
			g |= blockdev.AttrQueueExtra
		case "ZONE-SZ", "ZONE-WGRAN", "ZONE-APP", "ZONE-NR", "ZONE-OMAX", "ZONE-AMAX":
			g |= blockdev.AttrZones
		case "STATE":
			g |= blockdev.AttrState
		case "SUBSYSTEMS":
			g |= blockdev.AttrSubsystems
		case "OWNER", "GROUP", "MODE":
			g |= blockdev.AttrNode
		}
	}
	return g
}

// needsProbe: signature columns are the only ones that read the devices.
func needsProbe(cols []column) bool {
	for _, c := range cols {
		switch c.name {
		case "FSTYPE", "FSVER", "LABEL", "UUID", "PTTYPE", "PTUUID", "PARTTYPE", "PARTTYPENAME", "PARTUUID",
			"PARTLABEL", "PARTFLAGS":
			return true
		}
	}
	return false
}

// visible is lsblk's default filter: detached loop devices and RAM disks
// (major 1) are listed only with -a.
func visible(d *blockdev.Device, o *options) bool {
	if o.exclude[d.MajMin.Major] && (o.excludeSet || !o.all) {
		return false
	}
	return o.all || !detachedLoop(d)
}

// detachedLoop: a loop device with no backing file.
func detachedLoop(d *blockdev.Device) bool {
	return d.Type == blockdev.TypeLoop && d.LoopBackingFile == "" && (d.Size == nil || *d.Size == 0)
}

// selectRoots picks the devices to print: the roots of the graph, or the
// devices named, each of which is counted in failed when it is not listed.
// lsblk 2.38 leaves a named detached loop device out too, unless -a is
// given, and says nothing about it; its -e does not apply to named devices.
// A name that is no device is reported on stderr and the others are still
// listed.
func selectRoots(g *blockdev.Graph, o *options, stderr io.Writer) (out []row, failed int) {
	v := &view{o: o, g: g, types: &partTypeNames{}}
	if len(o.devices) == 0 {
		for _, d := range g.Roots() {
			if visible(d, o) {
				out = append(out, row{d: d, v: v})
			}
		}
		return out, 0
	}
	for _, p := range o.devices {
		d, ok := g.ByPath(p)
		if !ok {
			d, ok = g.ByName(p)
		}
		if !ok {
			fmt.Fprintf(stderr, "lsblk: %s: not a block device\n", p)
			failed++
			continue
		}
		if !o.all && detachedLoop(d) {
			failed++
			continue
		}
		r := row{d: d, v: v}
		if ps := g.Parents(d); len(ps) > 0 {
			r.parent = ps[0]
		}
		out = append(out, r)
	}
	// lsblk lists the devices it is given in device-number order too.
	slices.SortStableFunc(out, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.d.MajMin.Major, b.d.MajMin.Major), cmp.Compare(a.d.MajMin.Minor, b.d.MajMin.Minor))
	})
	return out, failed
}

func (o *options) children(g *blockdev.Graph, r row) []row {
	if o.noDeps {
		return nil
	}
	var out []row
	for _, c := range g.Children(r.d) {
		if !o.exclude[c.MajMin.Major] {
			out = append(out, row{d: c, parent: r.d, v: r.v})
		}
	}
	return out
}

func value(c column, r row, o *options) any {
	v := c.get(r)
	if o.paths && v != nil {
		switch c.name {
		case "NAME":
			v = r.d.Path
		case "KNAME", "PKNAME":
			v = "/dev/" + v.(string)
		}
	}
	if t, ok := v.(lsblkText); ok {
		// lsblk's text for a value the kernel does not give: a number
		// or boolean in JSON where the column has that type.
		if o.json {
			switch {
			case c.kind == kNum, c.kind == kSize && o.bytes:
				return json.Number(t)
			case c.kind == kBool:
				return t == "1"
			}
		}
		return string(t)
	}
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

// flatten lists every place of every device in tree order; sorted orders
// them by device number then parent (lsblk's list), dedupe keeps one line
// per device (lsblk -l).
func (o *options) flatten(g *blockdev.Graph, roots []row, sorted, dedupe bool) []row {
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
	if sorted {
		slices.SortStableFunc(flat, func(a, b row) int {
			return cmp.Or(cmp.Compare(a.d.MajMin.Major, b.d.MajMin.Major), cmp.Compare(a.d.MajMin.Minor, b.d.MajMin.Minor),
				cmp.Compare(pkname(a), pkname(b)))
		})
	}
	if dedupe {
		seen := map[blockdev.MajMin]bool{}
		flat = slices.DeleteFunc(flat, func(r row) bool {
			dup := seen[r.d.MajMin]
			seen[r.d.MajMin] = true
			return dup
		})
	}
	return flat
}

// writeJSON prints {"blockdevices": [...]} with keys in column order, as
// lsblk does, so a diff against lsblk's output reads naturally.
func writeJSON(w io.Writer, g *blockdev.Graph, roots []row, o *options) error {
	var b strings.Builder
	b.WriteString("{\n   \"blockdevices\": [")
	if o.list {
		roots = o.flatten(g, roots, true, true)
		o.noDeps = true
	}
	for i, r := range roots {
		if err := o.jsonRow(&b, g, r, 2, i == 0); err != nil {
			return err
		}
	}
	if len(roots) == 0 {
		b.WriteString("\n") // lsblk's empty array has an empty line
	}
	b.WriteString("\n   ]\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonRow writes one device; siblings are joined as "},{" as lsblk does.
func (o *options) jsonRow(b *strings.Builder, g *blockdev.Graph, r row, depth int, first bool) error {
	ind := strings.Repeat("   ", depth)
	if first {
		b.WriteString("\n" + ind + "{")
	} else {
		b.WriteString(",{")
	}
	for i, c := range o.columns {
		if i > 0 {
			b.WriteString(",")
		}
		val := value(c, r, o)
		if arr, ok := val.([]any); ok {
			// lsblk puts an array's elements on one line of their own.
			parts := make([]string, len(arr))
			for j, e := range arr {
				v, err := json.Marshal(e)
				if err != nil {
					return err
				}
				parts[j] = string(v)
			}
			fmt.Fprintf(b, "\n%s   %q: [\n%s       %s\n%s   ]", ind, strings.ToLower(c.name), ind, strings.Join(parts, ", "), ind)
			continue
		}
		v, err := json.Marshal(val)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "\n%s   %q: %s", ind, strings.ToLower(c.name), v)
	}
	if kids := o.children(g, r); len(kids) > 0 {
		fmt.Fprintf(b, ",\n%s   \"children\": [", ind)
		for i, k := range kids {
			if err := o.jsonRow(b, g, k, depth+2, i == 0); err != nil {
				return err
			}
		}
		fmt.Fprintf(b, "\n%s   ]", ind)
	}
	b.WriteString("\n" + ind + "}")
	return nil
}

// writeText prints lsblk's table: a tree in the NAME column, numbers right
// aligned, every column but the last padded to its width, and a device
// with several mountpoints on several lines.
func writeText(w io.Writer, g *blockdev.Graph, roots []row, o *options) error {
	if len(roots) == 0 {
		return nil // lsblk prints no heading for an empty table
	}
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
			if c.name == "MAJ:MIN" && !o.raw && !o.pairs {
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
			if more := strings.Split(cells[i], "\n"); len(more) > 1 && !o.raw && !o.pairs {
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
		if !o.tree() {
			return // list modes: the caller visits every row
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
	if o.tree() {
		for _, r := range roots {
			walk(r, "", false, true)
		}
	} else {
		// A list: -r and -P keep tree order; -l and a table without NAME
		// are ordered by device number, -l with each device once.
		for _, r := range o.flatten(g, roots, !o.raw && !o.pairs, o.list) {
			walk(r, "", false, true)
		}
	}
	if o.raw || o.pairs {
		return writeRaw(w, lines, o)
	}
	// libsmartcols' rule: a column is as wide as its widest value, or its
	// heading when that is wider (counted with -n too); only a column whose
	// values fill the heading is widened to the width hint.
	widths := make([]int, len(o.columns))
	data := lines
	if !o.noHeadings {
		data = lines[1:]
	}
	for _, l := range data {
		for i, s := range l {
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	for i, c := range o.columns {
		head, hint := utf8.RuneCountInString(c.name), 0
		if c.width >= 1 { // a width hint below 1 is a share of a terminal's width
			hint = int(c.width)
		}
		if widths[i] < head {
			widths[i] = head
		} else if widths[i] < hint && head < hint {
			widths[i] = hint
		}
	}
	var b strings.Builder
	for _, l := range lines {
		for i, s := range l {
			if i > 0 {
				b.WriteByte(' ')
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s))
			// libsmartcols right-aligns only a cell with data, and
			// fills no cell of the last column.
			switch {
			case o.columns[i].right && s != "":
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

// tree reports whether rows are drawn as a tree.
func (o *options) tree() bool {
	return hasColumn(o.columns, "NAME") && !o.list && !o.raw && !o.pairs
}

// writeRaw prints -r (values separated by one space, blanks and specials
// hex-escaped) and -P (KEY="value" pairs, quotes and backslashes escaped).
func writeRaw(w io.Writer, lines [][]string, o *options) error {
	var b strings.Builder
	for li, l := range lines {
		header := li == 0 && !o.noHeadings
		if header && o.pairs {
			continue
		}
		for i, v := range l {
			if i > 0 {
				b.WriteByte(' ')
			}
			if o.pairs {
				fmt.Fprintf(&b, "%s=\"%s\"", o.columns[i].name, escapeValue(v, `"\`, o.ascii))
			} else if header {
				b.WriteString(v)
			} else {
				b.WriteString(escapeValue(v, " \\\"'`", o.ascii))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeValue writes control characters, the bytes in special and (outside
// a UTF-8 locale) non-ASCII bytes as \xHH, as libsmartcols does.
func escapeValue(v, special string, ascii bool) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte(special, c) >= 0 || (ascii && c >= 0x80) {
			fmt.Fprintf(&b, "\\x%02x", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
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
