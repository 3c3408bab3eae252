package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

// reporter holds the state of one iostat run.
type reporter struct {
	cfg     *config
	root    sysfs.Root
	out     io.Writer
	reader  *perf.StatReader
	rater   *perf.Rater
	sample  perf.Sample
	cpu     [2]cpuStat
	whole   map[string]bool // name -> is a whole device (cached)
	prev    map[string]perf.DiskStat
	reports int
	lat     *latencyCols // --latency
}

func report(ctx context.Context, cfg *config, out io.Writer) error {
	root, err := sysfs.New(cfg.root)
	if err != nil {
		return err
	}
	rd, err := perf.OpenDiskstats(root.Dir())
	if err != nil {
		return err
	}
	defer rd.Close()
	rp := &reporter{cfg: cfg, root: root, out: out, reader: rd, rater: perf.NewRater(nil, 0), whole: map[string]bool{}}
	if cfg.latency {
		if rp.lat, err = openLatency(cfg.root); err != nil {
			return err
		}
		defer rp.lat.close()
	}
	rp.header()

	if err := rp.take(); err != nil {
		return err
	}
	count := cfg.count
	if cfg.omitBoot && cfg.interval > 0 {
		rp.skipped()
	}
	if !cfg.omitBoot || cfg.interval == 0 {
		up, err := uptime(root)
		if err != nil {
			return err
		}
		var zero cpuStat
		rp.write(rp.sinceBoot(up), cpuReport(&zero, &rp.cpu[1]))
		if count > 0 {
			count--
		}
	}
	if cfg.interval > 0 && count != 0 {
		t := time.NewTicker(cfg.interval)
		defer t.Stop()
		for count != 0 {
			select {
			case <-ctx.Done():
				rp.finish()
				return nil
			case <-t.C:
			}
			rates, err := rp.next()
			if err != nil {
				return err
			}
			rp.write(rates, cpuReport(&rp.cpu[0], &rp.cpu[1]))
			if count > 0 {
				count--
			}
		}
	}
	rp.finish()
	return nil
}

// take reads the counters and feeds the rater (the first call only sets the
// baseline).
func (rp *reporter) take() error {
	if err := rp.reader.Read(&rp.sample); err != nil {
		return err
	}
	rp.cpu[0] = rp.cpu[1]
	c, err := readCPU(rp.root)
	if err != nil && rp.cfg.cpu {
		return err
	}
	rp.cpu[1] = c
	rp.rater.Update(&rp.sample, nil)
	rp.keepPrev()
	if rp.lat != nil {
		return rp.lat.sample()
	}
	return nil
}

// keepPrev remembers the counters of the current sample for the next
// interval's totals (sysstat's kB_read column is per interval).
func (rp *reporter) keepPrev() {
	rp.prev = make(map[string]perf.DiskStat, len(rp.sample.Disks))
	for _, d := range rp.sample.Disks {
		rp.prev[d.Name] = d
	}
}

type row struct {
	stat  perf.DiskStat
	prev  perf.DiskStat // the counters at the start of the interval (zero for since boot)
	rates perf.Rates
}

func (rp *reporter) next() ([]row, error) {
	if err := rp.reader.Read(&rp.sample); err != nil {
		return nil, err
	}
	rp.cpu[0] = rp.cpu[1]
	if c, err := readCPU(rp.root); err == nil {
		rp.cpu[1] = c
	}
	prev := rp.prev
	rp.keepPrev()
	if rp.lat != nil {
		if err := rp.lat.sample(); err != nil {
			return nil, err
		}
	}
	rates := rp.rater.Update(&rp.sample, nil)
	byName := make(map[string]perf.Rates, len(rates))
	for _, r := range rates {
		byName[r.Name] = r
	}
	var rows []row
	for _, d := range rp.sample.Disks {
		r, ok := byName[d.Name]
		if !ok {
			continue // new device: no since-boot spike
		}
		rows = append(rows, row{stat: d, prev: prev[d.Name], rates: r})
	}
	return rp.selectRows(rows), nil
}

// sinceBoot is iostat's first report: every counter over the time since boot.
func (rp *reporter) sinceBoot(up time.Duration) []row {
	var rows []row
	for _, d := range rp.sample.Disks {
		zero := perf.DiskStat{Name: d.Name, Major: d.Major, Minor: d.Minor, Fields: d.Fields}
		rows = append(rows, row{stat: d, prev: zero, rates: perf.ComputeRates(&zero, &d, up)})
	}
	return rp.selectRows(rows)
}

// selectRows applies sysstat's choice of devices.
func (rp *reporter) selectRows(rows []row) []row {
	c := rp.cfg
	var out []row
	for _, r := range rows {
		name := r.stat.Name
		switch {
		case c.partsAll:
		case len(c.devices) > 0 || len(c.partsOf) > 0:
			if !contains(c.devices, name) && !contains(c.partsOf, name) && !rp.isPartitionOf(name, c.partsOf) {
				continue
			}
		default:
			if !rp.isWhole(name) {
				continue
			}
		}
		d := &r.stat
		if !c.unfiltered && !c.partsAll && d.ReadIOs == 0 && d.WriteIOs == 0 && d.DiscardIOs == 0 && d.FlushIOs == 0 {
			continue // never used since boot
		}
		if c.omitZero && r.rates.ReadsPerSec == 0 && r.rates.WritesPerSec == 0 && r.rates.DiscardsPerSec == 0 && r.rates.FlushesPerSec == 0 {
			continue
		}
		out = append(out, r)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isWhole reports whether name is a whole device (it has /sys/block/NAME).
// Without a /sys/block at all (a bare fake tree) every device is whole.
func (rp *reporter) isWhole(name string) bool {
	if v, ok := rp.whole[name]; ok {
		return v
	}
	v := true
	if _, err := os.Stat(rp.root.Sys("block")); err == nil {
		_, err := os.Stat(rp.root.Sys("block", strings.ReplaceAll(name, "/", "!")))
		v = err == nil
	}
	rp.whole[name] = v
	return v
}

func (rp *reporter) isPartitionOf(name string, parents []string) bool {
	for _, p := range parents {
		if _, err := os.Stat(rp.root.Sys("block", p, name, "partition")); err == nil {
			return true
		}
	}
	return false
}

// --- text and JSON -------------------------------------------------------

const (
	extHeaderKB = "Device            r/s     rkB/s   rrqm/s  %rrqm r_await rareq-sz     w/s     wkB/s   wrqm/s  %wrqm w_await wareq-sz     d/s     dkB/s   drqm/s  %drqm d_await dareq-sz     f/s f_await  aqu-sz  %util"
	basHeaderKB = "Device             tps    kB_read/s    kB_wrtn/s    kB_dscd/s    kB_read    kB_wrtn    kB_dscd"
	cpuHeader   = "avg-cpu:  %user   %nice %system %iowait  %steal   %idle"
	nameWidth   = 13
)

func (rp *reporter) extHeader() string {
	if rp.cfg.mb {
		return strings.NewReplacer(" rkB/s", " rMB/s", " wkB/s", " wMB/s", " dkB/s", " dMB/s").Replace(extHeaderKB)
	}
	return extHeaderKB
}

func (rp *reporter) basHeader() string {
	if rp.cfg.mb {
		return strings.NewReplacer("    kB_", "    MB_").Replace(basHeaderKB)
	}
	return basHeaderKB
}

// widths derives each column's width from the header (spaces included), so
// rows line up exactly as sysstat's do.
func widths(header string) []int {
	var w []int
	rest := header[nameWidth:]
	for len(rest) > 0 {
		i := 0
		for i < len(rest) && rest[i] == ' ' {
			i++
		}
		for i < len(rest) && rest[i] != ' ' {
			i++
		}
		w = append(w, i)
		rest = rest[i:]
	}
	return w
}

func (rp *reporter) unit() float64 {
	if rp.cfg.mb {
		return 1024
	}
	return 1
}

func (rp *reporter) header() {
	var u unix.Utsname
	unix.Uname(&u)
	sys, node, rel, mach := cstr(u.Sysname[:]), cstr(u.Nodename[:]), cstr(u.Release[:]), cstr(u.Machine[:])
	date := time.Now().Format("01/02/06")
	if rp.cfg.json {
		fmt.Fprintf(rp.out, "{\"sysstat\": {\n\t\"hosts\": [\n\t\t{\n\t\t\t\"nodename\": %s,\n\t\t\t\"sysname\": %s,\n\t\t\t\"release\": %s,\n\t\t\t\"machine\": %s,\n\t\t\t\"number-of-cpus\": %d,\n\t\t\t\"date\": %q,\n\t\t\t\"statistics\": [\n",
			jstr(node), jstr(sys), jstr(rel), jstr(mach), runtime.NumCPU(), date)
		return
	}
	fmt.Fprintf(rp.out, "%s %s (%s) \t%s \t_%s_\t(%d CPU)\n\n", sys, rel, node, date, mach, runtime.NumCPU())
}

// skipped prints what sysstat prints for the since-boot report that -y
// omits: an empty line.
func (rp *reporter) skipped() {
	fmt.Fprint(rp.out, "\n")
}

func (rp *reporter) finish() {
	if rp.cfg.json {
		fmt.Fprint(rp.out, "\n\t\t\t]\n\t\t}\n\t]\n}}\n")
	}
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func jstr(s string) string { return strconv.Quote(s) }

func (rp *reporter) write(rows []row, cpu [6]float64) {
	if rp.cfg.json {
		rp.writeJSON(rows, cpu)
	} else {
		rp.writeText(rows, cpu)
	}
	rp.reports++
}

func (rp *reporter) writeText(rows []row, cpu [6]float64) {
	var b strings.Builder
	if rp.cfg.cpu {
		b.WriteString(cpuHeader + "\n       ")
		for _, v := range cpu {
			fmt.Fprintf(&b, " %7.2f", v)
		}
		b.WriteString("\n\n")
		if !rp.cfg.disk {
			b.WriteString("\n")
		}
	}
	if rp.cfg.disk {
		h := rp.basHeader()
		if rp.cfg.extended {
			h = rp.extHeader()
		}
		if rp.lat != nil {
			h += latencyHeader
		}
		b.WriteString(h + "\n")
		w := widths(h)
		for _, r := range rows {
			fmt.Fprintf(&b, "%-*s", nameWidth, r.stat.Name)
			vals, ints := rp.values(&r)
			for i, v := range vals {
				fmt.Fprintf(&b, "%*.2f", w[i], v)
			}
			for j, v := range ints {
				fmt.Fprintf(&b, "%*d", w[len(vals)+j], v)
			}
			if rp.lat != nil {
				base := len(vals) + len(ints)
				lv, ok := rp.lat.columns(r.stat.Name)
				for j, v := range lv {
					if ok {
						fmt.Fprintf(&b, "%*.2f", w[base+j], v)
					} else {
						fmt.Fprintf(&b, "%*s", w[base+j], "-")
					}
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	io.WriteString(rp.out, b.String())
}

// values returns a row's columns in text order: floats, then integers.
func (rp *reporter) values(r *row) ([]float64, []uint64) {
	x := &r.rates
	u := rp.unit()
	if rp.cfg.extended {
		return []float64{
			x.ReadsPerSec, x.ReadKBPerSec / u, x.ReadMergesPerSec, x.ReadMergePct, x.ReadAwait, x.ReadReqSizeKB,
			x.WritesPerSec, x.WriteKBPerSec / u, x.WriteMergesPerSec, x.WriteMergePct, x.WriteAwait, x.WriteReqSizeKB,
			x.DiscardsPerSec, x.DiscardKBPerSec / u, x.DiscardMergesPerSec, x.DiscardMergePct, x.DiscardAwait, x.DiscardReqSizeKB,
			x.FlushesPerSec, x.FlushAwait, x.QueueSize, x.Util,
		}, nil
	}
	d, p := &r.stat, &r.prev
	div := uint64(2)
	if rp.cfg.mb {
		div = 2048
	}
	return []float64{x.TPS, x.ReadKBPerSec / u, x.WriteKBPerSec / u, x.DiscardKBPerSec / u},
		[]uint64{(d.ReadSectors - p.ReadSectors) / div, (d.WriteSectors - p.WriteSectors) / div, (d.DiscardSectors - p.DiscardSectors) / div}
}

func (rp *reporter) writeJSON(rows []row, cpu [6]float64) {
	var b strings.Builder
	if rp.reports > 0 {
		b.WriteString(",\n")
	}
	b.WriteString("\t\t\t\t{\n")
	if rp.cfg.cpu {
		fmt.Fprintf(&b, "\t\t\t\t\t\"avg-cpu\":  {\"user\": %.2f, \"nice\": %.2f, \"system\": %.2f, \"iowait\": %.2f, \"steal\": %.2f, \"idle\": %.2f}",
			cpu[0], cpu[1], cpu[2], cpu[3], cpu[4], cpu[5])
		if rp.cfg.disk {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	if rp.cfg.disk {
		b.WriteString("\t\t\t\t\t\"disk\": [\n")
		for i, r := range rows {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString("\t\t\t\t\t\t{\"disk_device\": " + jstr(r.stat.Name))
			x := &r.rates
			u, un := rp.unit(), "kB"
			if rp.cfg.mb {
				un = "MB"
			}
			if rp.cfg.extended {
				for _, kv := range []struct {
					k string
					v float64
				}{
					{"r/s", x.ReadsPerSec}, {"w/s", x.WritesPerSec}, {"d/s", x.DiscardsPerSec}, {"f/s", x.FlushesPerSec},
					{"r" + un + "/s", x.ReadKBPerSec / u}, {"w" + un + "/s", x.WriteKBPerSec / u}, {"d" + un + "/s", x.DiscardKBPerSec / u},
					{"rrqm/s", x.ReadMergesPerSec}, {"wrqm/s", x.WriteMergesPerSec}, {"drqm/s", x.DiscardMergesPerSec},
					{"rrqm", x.ReadMergePct}, {"wrqm", x.WriteMergePct}, {"drqm", x.DiscardMergePct},
					{"r_await", x.ReadAwait}, {"w_await", x.WriteAwait}, {"d_await", x.DiscardAwait}, {"f_await", x.FlushAwait},
					{"rareq-sz", x.ReadReqSizeKB}, {"wareq-sz", x.WriteReqSizeKB}, {"dareq-sz", x.DiscardReqSizeKB},
					{"aqu-sz", x.QueueSize}, {"util", x.Util},
				} {
					fmt.Fprintf(&b, ", %q: %.2f", kv.k, kv.v)
				}
			} else {
				vals, ints := rp.values(&r)
				fmt.Fprintf(&b, ", \"tps\": %.2f, \"%s_read/s\": %.2f, \"%s_wrtn/s\": %.2f, \"%s_dscd/s\": %.2f, \"%s_read\": %d, \"%s_wrtn\": %d, \"%s_dscd\": %d",
					vals[0], un, vals[1], un, vals[2], un, vals[3], un, ints[0], un, ints[1], un, ints[2])
			}
			if rp.lat != nil {
				// Not measured: no keys (absent, not zero).
				if lv, ok := rp.lat.columns(r.stat.Name); ok {
					for j, v := range lv {
						fmt.Fprintf(&b, ", %q: %.2f", latencyKeys[j], v)
					}
				}
			}
			b.WriteString("}")
		}
		b.WriteString("\n\t\t\t\t\t]\n")
	}
	b.WriteString("\t\t\t\t}")
	io.WriteString(rp.out, b.String())
}

// --- CPU and uptime --------------------------------------------------------

// cpuStat is the "cpu" line of /proc/stat, in jiffies.
type cpuStat struct {
	user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice uint64
}

func readCPU(root sysfs.Root) (cpuStat, error) {
	data, err := os.ReadFile(root.Proc("stat"))
	if err != nil {
		return cpuStat{}, err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return cpuStat{}, fmt.Errorf("%w: /proc/stat has no cpu line", perf.ErrMalformed)
	}
	var v [10]uint64
	for i := 1; i < len(f) && i <= 10; i++ {
		v[i-1], _ = strconv.ParseUint(f[i], 10, 64)
	}
	return cpuStat{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]}, nil
}

// cpuReport computes avg-cpu as sysstat does: guest time is already in user
// (and guest_nice in nice), so it is subtracted; %system includes irq and
// softirq; the total excludes guest to avoid counting it twice.
func cpuReport(p, c *cpuStat) [6]float64 {
	d := func(a, b uint64) float64 {
		if b < a {
			return 0
		}
		return float64(b - a)
	}
	user := d(p.user-p.guest, c.user-c.guest)
	nice := d(p.nice-p.guestNice, c.nice-c.guestNice)
	sys := d(p.system+p.irq+p.softirq, c.system+c.irq+c.softirq)
	iow := d(p.iowait, c.iowait)
	steal := d(p.steal, c.steal)
	idle := d(p.idle, c.idle)
	tot := user + nice + sys + iow + steal + idle + d(p.guest, c.guest) + d(p.guestNice, c.guestNice)
	if tot == 0 {
		return [6]float64{}
	}
	pc := func(v float64) float64 { return v / tot * 100 }
	return [6]float64{pc(user), pc(nice), pc(sys), pc(iow), pc(steal), pc(idle)}
}

// uptime reads /proc/uptime: the since-boot report's interval, as sysstat uses.
func uptime(root sysfs.Root) (time.Duration, error) {
	s, err := sysfs.ReadAttr(root.Proc("uptime"))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("%w: empty /proc/uptime", perf.ErrMalformed)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: /proc/uptime %q", perf.ErrMalformed, s)
	}
	return time.Duration(v * float64(time.Second)), nil
}
