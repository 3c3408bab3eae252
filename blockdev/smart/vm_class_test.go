package smart_test

// Classification and verdict against smartctl (issue 20) on every disk of
// the VM tier's boot (vm_test.go), with autodetection and with the device
// type forced to sat and to scsi, as smartctl -j -a [-d TYPE] and our
// smart --json [-d TYPE] report them.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// vmView is what one tool said about a disk in one mode.
type vmView struct {
	rc        int
	hasJSON   bool
	typ       string // device.type, "" when there is no device object
	protocol  string
	passed    *bool // smart_status.passed
	available *bool // smart_support.available
	message   string
	leaves    map[string]any
}

func vmViewOf(t *testing.T, who string, s *vmSection) vmView {
	t.Helper()
	v := vmView{rc: s.rc, message: string(s.stderr)}
	out := strings.TrimSpace(string(s.out))
	if out == "" {
		return v
	}
	m := vmDecode(t, who, []byte(out))
	v.hasJSON = true
	if x, ok := vmLookup(m, "device", "type"); ok {
		v.typ = fmt.Sprint(x)
	}
	if x, ok := vmLookup(m, "device", "protocol"); ok {
		v.protocol = fmt.Sprint(x)
	}
	if x, ok := vmLookup(m, "smart_status", "passed"); ok {
		b := x == true
		v.passed = &b
	}
	if x, ok := vmLookup(m, "smart_support", "available"); ok {
		b := x == true
		v.available = &b
	}
	if msgs, ok := vmLookup(m, "smartctl", "messages"); ok {
		for _, e := range msgs.([]any) {
			if s, ok := vmLookup(e, "string"); ok {
				v.message += fmt.Sprint(s) + "\n"
			}
		}
	}
	v.leaves = map[string]any{}
	vmFlatten("", m, v.leaves)
	return v
}

func vmFlatten(prefix string, v any, out map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			vmFlatten(p, e, out)
		}
	case []any:
		for i, e := range x {
			vmFlatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	default:
		out[prefix] = v
	}
}

func ptrStr(b *bool) string {
	if b == nil {
		return "absent"
	}
	return fmt.Sprint(*b)
}

// vmTransport names a disk's bus from its sysfs device path.
func vmTransport(path string) string {
	switch {
	case strings.Contains(path, "/ata"):
		return "sata"
	case strings.Contains(path, "/nvme/"):
		return "nvme"
	case strings.Contains(path, "/usb"):
		return "usb"
	case strings.Contains(path, "/virtio") && strings.Contains(path, "/host"):
		return "virtio-scsi"
	case strings.Contains(path, "/pseudo_"):
		return "scsi_debug"
	}
	return "virtio-blk"
}

// vmOracle is what smartctl must itself report for QEMU's disks, so that
// agreeing with it proves what it claims: the device type (and protocol),
// or a message when it names no device.
var vmOracle = map[string]map[string]string{
	"sata":        {"": "sat/ATA", "sat": "sat/ATA", "scsi": "scsi/SCSI"},
	"nvme":        {"": "nvme/NVMe"},
	"virtio-scsi": {"": "scsi/SCSI", "sat": "sat/ATA", "scsi": "scsi/SCSI"},
	"usb":         {"": "Unknown USB bridge [0x46f4:0x0001 (0x000)]", "sat": "sat/ATA", "scsi": "scsi/SCSI"},
	"virtio-blk":  {"": "Unable to detect device type"},
	"scsi_debug":  {"": "scsi/SCSI", "sat": "sat/ATA", "scsi": "scsi/SCSI", "failing": "scsi/SCSI"},
}

// vmDeviation is a difference from smartctl that is ours on purpose.
type vmDeviation struct {
	verdict bool            // smart_status may differ: smartctl has one, we have none
	only    map[string]bool // leaves smartctl prints and we leave out
	why     string
}

// The differences from smartctl, by transport and mode, each with why we
// are right to differ.
var vmDeviations = map[string]vmDeviation{
	// QEMU's scsi-hd keeps neither log pages nor mode page 1Ch. smartctl
	// then prints temperature 0 and drive trip 0: scsiCheckIE sets both to
	// 0 before finding no Informational Exceptions page to read, and the
	// zeros are printed as readings. We print no temperature we did not
	// read.
	"virtio-scsi ":     {only: map[string]bool{"temperature.current": true, "scsi_temperature.drive_trip": true}, why: "smartctl prints 0 C it never read"},
	"virtio-scsi scsi": {only: map[string]bool{"temperature.current": true, "scsi_temperature.drive_trip": true}, why: "smartctl prints 0 C it never read"},
	"usb scsi":         {only: map[string]bool{"temperature.current": true, "scsi_temperature.drive_trip": true}, why: "smartctl prints 0 C it never read"},
	// libata's SCSI translation, read as SCSI: no log pages, no mode page
	// 1Ch, the same two zeros.
	"sata scsi": {only: map[string]bool{"temperature.current": true, "scsi_temperature.drive_trip": true}, why: "smartctl prints 0 C it never read"},
}

// vmCheckClass compares one disk in one mode ("" autodetect, "sat",
// "scsi"): the classification, the verdict (smart_status, smart_support)
// and, where both print a device, every leaf both print.
func vmCheckClass(t *testing.T, dev, path, mode string, secs map[string]*vmSection) {
	t.Helper()
	tr := vmTransport(path)
	want, ok := vmOracle[tr][mode]
	if !ok {
		return
	}
	sk, ok2 := "smartctl-"+mode+" "+dev, "ours-"+mode+" "+dev
	if mode == "" {
		sk, ok2 = "before "+dev, "ours "+dev
	}
	ss, os := secs[sk], secs[ok2]
	if ss == nil || os == nil {
		t.Errorf("%s %s -d %q: missing output", tr, dev, mode)
		return
	}
	s, o := vmViewOf(t, "smartctl", ss), vmViewOf(t, "ours", os)
	label := fmt.Sprintf("%s %s (%s)", tr, dev, map[string]string{"": "autodetect", "sat": "-d sat", "scsi": "-d scsi",
		"failing": "autodetect, failure predicted"}[mode])

	// The oracle sees what QEMU built.
	if strings.Contains(want, "/") {
		if got := s.typ + "/" + s.protocol; got != want {
			t.Errorf("%s: smartctl classifies %s, want %s (rc %d)\n%s", label, got, want, s.rc, s.message)
			return
		}
	} else if s.typ != "" || !strings.Contains(s.message, want) {
		t.Errorf("%s: smartctl says %q (type %q), want %q", label, s.message, s.typ, want)
		return
	}

	if mode == "failing" && ptrStr(s.passed) != "false" {
		t.Errorf("%s: smartctl smart_status.passed %s: the device does not predict its failure", label, ptrStr(s.passed))
	}

	// Our classification.
	switch {
	case s.typ != "":
		if o.typ != s.typ || o.protocol != s.protocol {
			t.Errorf("%s: ours classifies %s/%s, smartctl %s/%s\n%s", label, o.typ, o.protocol, s.typ, s.protocol, o.message)
		}
	case strings.HasPrefix(want, "Unknown USB bridge"):
		// smartctl names no device; we name the same bridge.
		id := want[strings.Index(want, "["):]
		if o.typ != "" || !strings.Contains(o.message, "unknown USB bridge "+id) {
			t.Errorf("%s: ours says type %q, %q; smartctl %q", label, o.typ, o.message, s.message)
		}
	default:
		if o.typ != "" {
			t.Errorf("%s: ours classifies %s, smartctl finds no device type", label, o.typ)
		}
	}
	if o.rc != 0 && o.rc != 3 {
		t.Errorf("%s: ours exited %d: %s", label, o.rc, o.message)
	}

	// The verdict: the device's own status and whether it has SMART.
	dv := vmDeviations[tr+" "+mode]
	if ptrStr(s.passed) != ptrStr(o.passed) {
		if dv.verdict && o.passed == nil {
			t.Logf("%s: smart_status: smartctl %s, ours %s (%s)", label, ptrStr(s.passed), ptrStr(o.passed), dv.why)
		} else {
			t.Errorf("%s: smart_status.passed: smartctl %s, ours %s", label, ptrStr(s.passed), ptrStr(o.passed))
		}
	}
	if s.available != nil && ptrStr(s.available) != ptrStr(o.available) {
		t.Errorf("%s: smart_support.available: smartctl %s, ours %s", label, ptrStr(s.available), ptrStr(o.available))
	}

	// Where both describe the device, every leaf both print agrees and
	// every leaf only smartctl prints is a known deviation.
	if !s.hasJSON || !o.hasJSON || s.typ == "" || tr == "sata" && mode != "scsi" || tr == "nvme" {
		class := o.typ + "/" + o.protocol
		if o.typ == "" {
			class = "none, " + strings.TrimSpace(o.message)
		}
		t.Logf("%s: classification (%s) and verdict (smart_status %s, smart_support.available %s) match smartctl's",
			label, class, ptrStr(o.passed), ptrStr(o.available))
		return
	}
	skip := regexp.MustCompile(`^(smartctl|local_time|json_format_version)\b`)
	var keys []string
	for k := range s.leaves {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	shared := 0
	var sharedKeys []string
	for _, k := range keys {
		if skip.MatchString(k) {
			continue
		}
		ov, ok := o.leaves[k]
		if !ok {
			if dv.only[k] {
				t.Logf("%s: %s = %v only in smartctl's output (%s)", label, k, s.leaves[k], dv.why)
			} else {
				t.Errorf("%s: %s: smartctl %v, ours missing", label, k, s.leaves[k])
			}
			continue
		}
		shared++
		sharedKeys = append(sharedKeys, k)
		if !vmEqual(s.leaves[k], ov) {
			t.Errorf("%s: %s: smartctl %v, ours %v", label, k, s.leaves[k], ov)
		}
	}
	var extra []string
	for k := range o.leaves {
		if _, ok := s.leaves[k]; !ok && !skip.MatchString(k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	t.Logf("%s: classification %s/%s, smart_status %s, smart_support.available %s; %d shared fields equal; only ours: %v",
		label, o.typ, o.protocol, ptrStr(o.passed), ptrStr(o.available), shared, extra)
	if testing.Verbose() {
		t.Logf("%s: shared: %s", label, strings.Join(sharedKeys, " "))
	}
}
