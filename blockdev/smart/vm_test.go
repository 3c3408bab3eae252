package smart_test

// The VM tier's SMART differential (issues 7 and 20): in a QEMU guest with
// a real SATA disk (AHCI, libata, SAT over SG_IO), real NVMe controllers, a
// virtio-SCSI disk, a USB disk and a virtio-blk disk, our examples/smart
// (built with CGO_ENABLED=0) and smartctl -j -a read the same drives: every
// field both report must agree, and on every SCSI-attached disk the
// classification and verdict must match smartctl's with autodetection,
// with -d sat and with -d scsi (vm_class_test.go). One boot serves all.
// Needs the VM tier (see internal/vmtest): go test -race ./blockdev/smart/
// -run VM as root.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/vmtest"
)

const (
	vmSATAModel  = "EOS SMART SATA"
	vmSATASerial = "EOSSATA0001"
	vmNVMeSerial = "EOSNVME0001"
	// A second NVMe controller whose health log reports critical warning
	// bit 2 (NVM subsystem reliability degraded): the failing-drive path.
	vmNVMeBadSerial = "EOSNVMEBAD1"
)

// vmSmartScript runs smartctl, then ours, then smartctl again on each disk,
// after its sysfs device path (which tells the test the transport).
// Two smartctl reads around ours bound the counters that move while the
// guest runs (NVMe host reads, busy time): ours must lie between them.
const vmSmartScript = `
sata=
for d in /sys/block/sd*; do
	case "$(readlink -f "$d/device")" in */ata*) sata=/dev/${d##*/} ;; esac
done
# Give the counters and logs something to report: a short self-test on the
# SATA disk (QEMU completes it at once and logs it), writes on each NVMe.
[ -n "$sata" ] && smartctl -t short "$sata" >/dev/null
for dev in /dev/nvme*n1; do
	dd if=/dev/urandom of="$dev" bs=64k count=40 conv=fsync 2>/dev/null
done
run() {
	tag=$1; shift
	"$@" >/tmp/out 2>/tmp/err
	rc=$?
	echo "### $tag rc=$rc"
	cat /tmp/out
	echo
	echo "### $tag stderr"
	cat /tmp/err
	echo
}
for d in /sys/block/*; do
	[ -e "$d/device" ] || continue
	dev=/dev/${d##*/}
	run "path $dev" readlink -f "$d/device"
	run "before $dev" smartctl -j -a "$dev"
	run "ours $dev" /usr/local/bin/smart --json "$dev"
	run "after $dev" smartctl -j -a "$dev"
	# SCSI-attached disks again with the device type forced both ways.
	case "$(readlink -f "$d/device/subsystem")" in */scsi)
		for ty in sat scsi; do
			run "smartctl-$ty $dev" smartctl -j -a -d "$ty" "$dev"
			run "ours-$ty $dev" /usr/local/bin/smart --json -d "$ty" "$dev"
		done ;;
	esac
done
# Last, as it changes the device: make scsi_debug predict its own failure
# (the IEC mode page's TEST bit, which smartctl -s on sets when asked for
# three levels of SCSI debugging) and read it again.
for d in /sys/block/sd*; do
	grep -qs scsi_debug "$d/device/model" || continue
	dev=/dev/${d##*/}
	smartctl -s on -r scsiioctl,3 "$dev" >/dev/null 2>&1
	run "smartctl-failing $dev" smartctl -j -a "$dev"
	run "ours-failing $dev" /usr/local/bin/smart --json "$dev"
	run "ours-text-failing $dev" /usr/local/bin/smart "$dev"
done
`

// vmSCSIDebugWait waits for scsi_debug's disk, which the module scans in
// the background, before the script lists the disks.
const vmSCSIDebugWait = `
i=0
until grep -qs scsi_debug /sys/block/sd*/device/model; do
	i=$((i+1)); [ "$i" -ge 100 ] && break; sleep 0.1
done
`

var vmSectionRE = regexp.MustCompile(`(?m)^### (\S+) (\S+) (rc=\d+|stderr)\n`)

type vmSection struct {
	rc     int
	out    []byte
	stderr []byte
}

// vmSections splits the guest output into "<who> <dev>" sections.
func vmSections(t *testing.T, out []byte) map[string]*vmSection {
	t.Helper()
	idx := vmSectionRE.FindAllSubmatchIndex(out, -1)
	secs := map[string]*vmSection{}
	for i, m := range idx {
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		key := string(out[m[2]:m[3]]) + " " + string(out[m[4]:m[5]])
		s := secs[key]
		if s == nil {
			s = &vmSection{}
			secs[key] = s
		}
		body := out[m[1]:end]
		if kind := string(out[m[6]:m[7]]); kind == "stderr" {
			s.stderr = body
		} else {
			s.rc, _ = strconv.Atoi(strings.TrimPrefix(kind, "rc="))
			s.out = body
		}
	}
	return secs
}

func TestVMSmartMatchesSmartctl(t *testing.T) {
	assets := vmtest.Require(t)
	bin := vmtest.BuildGoTest(t, "./examples/smart")
	// scsi_debug is a SCSI target in the guest kernel that keeps the
	// Informational Exceptions and Temperature log pages and the IEC mode
	// page QEMU's disks lack: with it the SCSI log path is compared on a
	// live device too. Only a cache whose module list names it has it.
	modules, script, want := vmtest.DriverModules(), vmSmartScript, 6
	if assets.HasModule("scsi_debug") {
		modules = append(modules, "scsi_debug dev_size_mb=16")
		script = vmSCSIDebugWait + script
		want++
	} else {
		t.Logf("scsi_debug is not in the VM assets (%s): the live SCSI log-page comparison is not run; add it to scripts/vm-assets.sh", assets.Dir)
	}
	res := vmtest.RunTest(t, vmtest.Config{
		Disks: []vmtest.Disk{
			{Kind: vmtest.SATA, Model: vmSATAModel, Serial: vmSATASerial},
			{Kind: vmtest.NVMe, Serial: vmNVMeSerial},
			{Kind: vmtest.NVMe, Serial: vmNVMeBadSerial, Options: []string{"smart_critical_warning=4"}},
			// Disks with no SMART to read, where both must refuse (and
			// classify them as smartctl does).
			{Kind: vmtest.SCSI, Serial: "EOSSCSI0001"},
			{Kind: vmtest.USB, Serial: "EOSUSB0001"},
			{Kind: vmtest.Virtio, Serial: "EOSVIRT0001"},
		},
		Modules: modules,
		Files:   []vmtest.File{{Src: bin, Dst: "/usr/local/bin/smart"}},
		Tools:   []string{"smartctl"},
		Script:  script,
	})
	secs := vmSections(t, res.Stdout)
	var devs []string
	for k := range secs {
		if dev, ok := strings.CutPrefix(k, "ours "); ok {
			devs = append(devs, dev)
		}
	}
	sort.Strings(devs)
	if len(devs) != want {
		t.Fatalf("guest read %d disks (%v), want %d:\n%s", len(devs), devs, want, res.Stdout)
	}
	// What QEMU was told each drive is, keyed by serial: the kernel may
	// number the two NVMe controllers either way.
	wantPassed := map[string]bool{vmSATASerial: true, vmNVMeSerial: true, vmNVMeBadSerial: false}
	for _, dev := range devs {
		t.Run(strings.TrimPrefix(dev, "/dev/"), func(t *testing.T) {
			before, ours, after := secs["before "+dev], secs["ours "+dev], secs["after "+dev]
			if before == nil || ours == nil || after == nil || secs["path "+dev] == nil {
				t.Fatalf("missing output for %s", dev)
			}
			path := strings.TrimSpace(string(secs["path "+dev].out))
			for _, mode := range []string{"", "sat", "scsi", "failing"} {
				vmCheckClass(t, dev, path, mode, secs)
			}
			if s := secs["ours-text-failing "+dev]; s != nil {
				// The verdict a caller acts on, from the same reading.
				for _, want := range []string{"SMART Health Status: FAILURE PREDICTION THRESHOLD EXCEEDED (FALSE) [asc=5d, ascq=ff]",
					"Health verdict: failing", "[failing] scsi-failure-prediction",
					// scsi_debug lists VPD page 89h as a SATL would, so it was
					// probed with ATA PASS-THROUGH, which it refused.
					"Device class:     SCSI (VPD page 89h is present but ATA PASS-THROUGH is refused)"} {
					if !strings.Contains(string(s.out), want) {
						t.Errorf("%s text report lacks %q:\n%s%s", dev, want, s.out, s.stderr)
					}
				}
			}
			if !strings.Contains(path, "/ata") && !strings.Contains(path, "/nvme/") {
				return
			}
			// smartctl's exit status is a bit mask; bits 0 and 1 mean it
			// could not parse its arguments or open the device.
			for _, s := range []*vmSection{before, after} {
				if s.rc&3 != 0 {
					t.Fatalf("smartctl %s failed (rc %d): %s", dev, s.rc, s.stderr)
				}
			}
			b, a := vmDecode(t, "smartctl", before.out), vmDecode(t, "smartctl", after.out)
			serial, _ := vmLookup(b, "serial_number")
			passed, known := wantPassed[fmt.Sprint(serial)]
			if !known {
				t.Fatalf("smartctl reads serial %v on %s, not one QEMU was given", serial, dev)
			}
			// The oracle itself must see the drive as QEMU set it up, or
			// the comparison below proves less than it claims.
			if got, _ := vmLookup(b, "smart_status", "passed"); got != passed {
				t.Fatalf("smartctl: %s (serial %v) passed=%v, want %v", dev, serial, got, passed)
			}
			// Ours exits non-zero for a failing drive only if it chooses
			// to; what matters is that it printed a report.
			if ours.rc != 0 && passed {
				t.Fatalf("smart --json %s exited %d: %s%s", dev, ours.rc, ours.stderr, ours.out)
			}
			o := vmDecode(t, "ours", ours.out)
			diffs, n := vmCompare(b, o, a)
			for _, d := range diffs {
				t.Error(d)
			}
			t.Logf("%s (serial %v): compared %d fields with smartctl, %d differ", dev, serial, n, len(diffs))
			if extra := vmExtras("", b, o); len(extra) > 0 {
				t.Logf("%s: only ours prints %s", dev, strings.Join(extra, ", "))
			}
		})
	}
}

func vmDecode(t *testing.T, who string, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%s JSON: %v\n%s", who, err, b)
	}
	return m
}

func vmLookup(v any, path ...string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// vmShared lists the fields issue 7 says our JSON shares with smartctl -j.
// The attribute table and the NVMe health log are compared entry by entry.
var vmShared = [][]string{
	{"model_name"},
	{"serial_number"},
	{"firmware_version"},
	{"user_capacity", "bytes"},
	{"smart_status", "passed"},
	{"power_on_time", "hours"},
	{"temperature", "current"},
}

var vmAttrFields = [][]string{
	{"name"}, {"value"}, {"worst"}, {"thresh"}, {"when_failed"},
	{"flags", "value"}, {"raw", "value"}, {"raw", "string"},
}

// vmCompare returns one line per shared field where ours disagrees with
// smartctl. A field smartctl reports and we omit is a difference; a field
// only we report is not compared. Where smartctl's two reads differ (a
// counter moved) ours must lie between them.
func vmCompare(before, ours, after map[string]any) ([]string, int) {
	var diffs []string
	compared := map[string]bool{}
	check := func(name string, b, o, a any, bok, ook bool) {
		if !bok {
			return
		}
		compared[name] = true
		if !ook {
			diffs = append(diffs, fmt.Sprintf("%s: smartctl has %v, ours is missing", name, b))
			return
		}
		if vmEqual(b, o) || vmEqual(a, o) || vmBetween(b, o, a) {
			return
		}
		diffs = append(diffs, fmt.Sprintf("%s: smartctl %v (then %v), ours %v", name, b, a, o))
	}
	for _, p := range vmShared {
		b, bok := vmLookup(before, p...)
		a, _ := vmLookup(after, p...)
		o, ook := vmLookup(ours, p...)
		check(strings.Join(p, "."), b, o, a, bok, ook)
	}

	// ATA attributes, matched by id.
	byID := func(m map[string]any) map[string]map[string]any {
		out := map[string]map[string]any{}
		tab, _ := vmLookup(m, "ata_smart_attributes", "table")
		rows, _ := tab.([]any)
		for _, r := range rows {
			if row, ok := r.(map[string]any); ok {
				out[fmt.Sprint(row["id"])] = row
			}
		}
		return out
	}
	bt, ot, at := byID(before), byID(ours), byID(after)
	ids := make([]string, 0, len(bt))
	for id := range bt {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { x, _ := strconv.Atoi(ids[i]); y, _ := strconv.Atoi(ids[j]); return x < y })
	for _, id := range ids {
		orow, ok := ot[id]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("attribute %s: smartctl lists it, ours does not", id))
			continue
		}
		for _, f := range vmAttrFields {
			b, bok := vmLookup(bt[id], f...)
			a, _ := vmLookup(at[id], f...)
			o, ook := vmLookup(orow, f...)
			check(fmt.Sprintf("attribute %s %s", id, strings.Join(f, ".")), b, o, a, bok, ook)
		}
	}
	for id := range ot {
		if _, ok := bt[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("attribute %s: ours lists it, smartctl does not", id))
		}
	}

	// NVMe SMART/health log: every field smartctl prints.
	bl, _ := vmLookup(before, "nvme_smart_health_information_log")
	if blog, ok := bl.(map[string]any); ok {
		keys := make([]string, 0, len(blog))
		for k := range blog {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := []string{"nvme_smart_health_information_log", k}
			a, _ := vmLookup(after, p...)
			o, ook := vmLookup(ours, p...)
			check(strings.Join(p, "."), blog[k], o, a, true, ook)
		}
	}

	// Beyond the list: every other leaf both reports must agree too (the
	// offline and self-test status, capabilities, TRIM, NVMe identify...).
	// A field only one side prints is not compared here.
	var walk func(name string, b, o, a any)
	walk = func(name string, b, o, a any) {
		switch bv := b.(type) {
		case map[string]any:
			om, ok := o.(map[string]any)
			if !ok {
				check(name, b, o, a, true, true)
				return
			}
			am, _ := a.(map[string]any)
			keys := make([]string, 0, len(bv))
			for k := range bv {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ov, ok := om[k]
				if !ok {
					continue
				}
				p := k
				if name != "" {
					p = name + "." + k
				}
				if vmSkip[p] {
					continue
				}
				walk(p, bv[k], ov, am[k])
			}
		case []any:
			ov, ok := o.([]any)
			if !ok || len(ov) != len(bv) {
				check(name, b, o, a, true, true)
				return
			}
			av, _ := a.([]any)
			for i := range bv {
				var ai any
				if i < len(av) {
					ai = av[i]
				}
				walk(fmt.Sprintf("%s[%d]", name, i), bv[i], ov[i], ai)
			}
		default:
			check(name, b, o, a, true, true)
		}
	}
	walk("", before, ours, after)
	return vmDedup(diffs), len(compared)
}

// vmExtras lists the leaves only ours prints inside objects smartctl also
// prints. They are not errors (we may report more), but one that smartctl
// leaves out on purpose is worth a look, so the test logs them.
func vmExtras(name string, b, o any) []string {
	bm, ok := b.(map[string]any)
	om, ok2 := o.(map[string]any)
	if !ok || !ok2 {
		return nil
	}
	var out []string
	keys := make([]string, 0, len(om))
	for k := range om {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := k
		if name != "" {
			p = name + "." + k
		}
		if bv, ok := bm[k]; ok {
			out = append(out, vmExtras(p, bv, om[k])...)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// vmSkip are the paths the recursive pass leaves out: smartctl's own
// version and run, the clock, what the list above already compared, and
// the attribute table, which is matched by id rather than by position.
var vmSkip = map[string]bool{
	"smartctl": true, "local_time": true, "json_format_version": true,
	"ata_smart_attributes": true, "nvme_smart_health_information_log": true,
}

// vmDedup drops the repeats the recursive pass makes of the listed fields.
func vmDedup(diffs []string) []string {
	seen := map[string]bool{}
	out := diffs[:0]
	for _, d := range diffs {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// vmEqual compares decoded JSON values, numbers by value (1 == 1.0).
func vmEqual(x, y any) bool {
	if nx, ok := x.(json.Number); ok {
		ny, ok := y.(json.Number)
		if !ok {
			return false
		}
		fx, okx := new(big.Float).SetString(nx.String())
		fy, oky := new(big.Float).SetString(ny.String())
		return okx && oky && fx.Cmp(fy) == 0
	}
	return reflect.DeepEqual(x, y)
}

func vmBetween(lo, v, hi any) bool {
	f := func(x any) *big.Float {
		n, ok := x.(json.Number)
		if !ok {
			return nil
		}
		r, ok := new(big.Float).SetString(n.String())
		if !ok {
			return nil
		}
		return r
	}
	l, m, h := f(lo), f(v), f(hi)
	if l == nil || m == nil || h == nil {
		return false
	}
	if l.Cmp(h) > 0 {
		l, h = h, l
	}
	return l.Cmp(m) <= 0 && m.Cmp(h) <= 0
}

// The comparator itself, on hand-made reports: it must catch a wrong value,
// a missing field, a missing or extra attribute, and accept a counter that
// moved between smartctl's two reads when ours lies between them.
func TestVMSmartCompare(t *testing.T) {
	dec := func(s string) map[string]any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	sm := dec(`{"model_name":"M","serial_number":"S","temperature":{"current":31},"trim":{"supported":true},
		"ata_smart_attributes":{"table":[{"id":1,"name":"Raw_Read_Error_Rate","value":100,"raw":{"value":0,"string":"0"}},
		{"id":9,"name":"Power_On_Hours","value":100,"raw":{"value":1,"string":"1"}}]},
		"nvme_smart_health_information_log":{"host_reads":4,"media_errors":0}}`)
	later := dec(`{"model_name":"M","serial_number":"S","temperature":{"current":31},"trim":{"supported":true},
		"ata_smart_attributes":{"table":[{"id":1,"name":"Raw_Read_Error_Rate","value":100,"raw":{"value":0,"string":"0"}},
		{"id":9,"name":"Power_On_Hours","value":100,"raw":{"value":1,"string":"1"}}]},
		"nvme_smart_health_information_log":{"host_reads":10,"media_errors":0}}`)
	same := dec(`{"model_name":"M","serial_number":"S","temperature":{"current":31.0},"extra":1,"trim":{"supported":true},
		"ata_smart_attributes":{"table":[{"id":9,"name":"Power_On_Hours","value":100,"raw":{"value":1,"string":"1"}},
		{"id":1,"name":"Raw_Read_Error_Rate","value":100,"raw":{"value":0,"string":"0"}}]},
		"nvme_smart_health_information_log":{"host_reads":7,"media_errors":0}}`)
	if d, n := vmCompare(sm, same, later); len(d) != 0 || n == 0 {
		t.Fatalf("equal reports differ: %q (%d fields)", d, n)
	}
	bad := dec(`{"model_name":"X","temperature":{"current":30},"trim":{"supported":false},
		"ata_smart_attributes":{"table":[{"id":1,"name":"Raw_Read_Error_Rate","value":100,"raw":{"value":0,"string":"0"}},
		{"id":194,"name":"Temperature_Celsius"}]},
		"nvme_smart_health_information_log":{"host_reads":11,"media_errors":0}}`)
	diffs, _ := vmCompare(sm, bad, later)
	got := strings.Join(diffs, "\n")
	for _, want := range []string{
		"model_name: smartctl M (then M), ours X",
		"serial_number: smartctl has S, ours is missing",
		"temperature.current: smartctl 31 (then 31), ours 30",
		"attribute 9: smartctl lists it, ours does not",
		"attribute 194: ours lists it, smartctl does not",
		"nvme_smart_health_information_log.host_reads: smartctl 4 (then 10), ours 11",
		"trim.supported: smartctl true (then true), ours false",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("differences lack %q:\n%s", want, got)
		}
	}
	secs := vmSections(t, []byte("### before /dev/sda rc=4\n{}\n### before /dev/sda stderr\nwarn\n### ours /dev/sda rc=0\n{\"a\":1}\n\n### ours /dev/sda stderr\n\n"))
	if s := secs["before /dev/sda"]; s == nil || s.rc != 4 || string(s.out) != "{}\n" || string(s.stderr) != "warn\n" {
		t.Errorf("sections: %+v", secs["before /dev/sda"])
	}
	if s := secs["ours /dev/sda"]; s == nil || s.rc != 0 || string(s.out) != "{\"a\":1}\n\n" {
		t.Errorf("sections: %+v", secs["ours /dev/sda"])
	}
}
