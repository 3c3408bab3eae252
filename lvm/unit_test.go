package lvm

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

func TestParseLVAttr(t *testing.T) {
	for _, c := range []struct {
		in    string
		check func(LVAttr) bool
	}{
		{"-wi-ao----", func(a LVAttr) bool { return a.Active() && a.IsOpen() && a.Writeable() && a.Allocation == 'i' }},
		{"twi-aotz--", func(a LVAttr) bool { return a.ThinPool() && a.Target == 't' && a.Zero && a.Active() }},
		{"Vwi-a-tz-k", func(a LVAttr) bool { return a.Thin() && !a.IsOpen() && a.SkipActivation }},
		{"swi-I-s---", func(a LVAttr) bool { return a.Snapshot() && a.State == 'I' }},
		{"-wi-XX----", func(a LVAttr) bool { return !a.StateKnown() && !a.Active() }},
		{"-rC-a-----", func(a LVAttr) bool { return !a.Writeable() && a.Allocation == 'C' }},
		{"-wimao--p-", func(a LVAttr) bool { return a.FixedMinor && a.Health == 'p' }},
	} {
		a, err := ParseLVAttr(c.in)
		if err != nil || !c.check(a) || a.String() != c.in {
			t.Errorf("%q: %+v %v (String %q)", c.in, a, err, a.String())
		}
	}
	if _, err := ParseLVAttr("-wi-a"); !errors.Is(err, ErrMalformed) {
		t.Errorf("short attr: %v", err)
	}
}

// json_std (lvm 2.03.17+) prints numbers as numbers, lists as lists and
// unknowns as null; the rows read the same as json's strings.
func TestJSONStd(t *testing.T) {
	in := `{"report":[{"vg":[{"vg_name":"vg0","vg_size":125829120,"vg_tags":["a","b"],"vg_seqno":7,"vg_sysid":null}]}],
	"log":[{"log_type":"error","log_message":"x"}]}`
	r, err := parseJSONReport([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	row := r.Report[0]["vg"][0]
	if row["vg_size"] != "125829120" || row["vg_tags"] != "a,b" || row["vg_sysid"] != "" || row.int64("vg_seqno") != 7 || r.Log[0]["log_message"] != "x" {
		t.Fatalf("%+v", r)
	}
	for _, bad := range []string{"", "{", `{"report":[{"vg":[{"vg_name":{}}]}]}`, `{"other":1}`} {
		if _, err := parseJSONReport([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestFormatFor(t *testing.T) {
	for v, want := range map[string]string{"2.03.16": "json", "2.03.17": "json_std", "2.03.26": "json_std", "2.02.187": "json", "2.4.0": "json_std"} {
		if got := formatFor(v); got != want {
			t.Errorf("%s: %s, want %s", v, got, want)
		}
	}
}

// An lvm failure becomes a typed error from the JSON log (and stderr), as
// lvm 2.03.16 printed it for `lvs nosuch/x` (exit 5, valid JSON).
func TestLVMErrorFromLog(t *testing.T) {
	stdout := `{"report":[{"lv":[]}],"log":[
	{"log_seq_num":"1","log_type":"error","log_message":"Volume group \"nosuch\" not found","log_errno":"-1","log_ret_code":"0"},
	{"log_seq_num":"3","log_type":"status","log_message":"failure","log_errno":"-1","log_ret_code":"5"}]}`
	tl, err := NewTool(nil)
	if err == nil {
		t.Fatal("nil runner accepted")
	}
	args := []string{"lvs", "--config", (&Tool{}).config(), "--reportformat", "json", "--units", "b", "--nosuffix", "nosuch/x"}
	rp, err := command.NewReplayer(command.Fixture{Tool: "lvm", Args: args, Env: []string{"LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1"},
		Stdout: command.Blob(stdout), Stderr: command.Blob("  Volume group \"nosuch\" not found\n  Cannot process volume group nosuch\n"), Code: 5})
	if err != nil {
		t.Fatal(err)
	}
	tl, err = NewTool(rp, WithReportFormat("json"), WithUdev(true))
	if err != nil {
		t.Fatal(err)
	}
	tl.udev = false
	rep, err := tl.report(context.Background(), "lvs", "nosuch/x")
	var le *Error
	if !errors.As(err, &le) || !errors.Is(err, ErrNotFound) || le.Code != 5 || rep == nil {
		t.Fatalf("%v (%T) rep=%v", err, err, rep)
	}
	if len(le.Messages) != 2 || !strings.Contains(err.Error(), `Volume group "nosuch" not found`) {
		t.Fatalf("messages %q", le.Messages)
	}
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]error{
		`Volume group "vg0" not found`:                                       ErrNotFound,
		`Failed to find logical volume "vg0/x"`:                              ErrNotFound,
		`Logical Volume "lv0" already exists in volume group "vg0"`:          ErrExists,
		`Insufficient free space: 100 extents needed, but only 10 available`: ErrNoSpace,
		`Logical volume vg0/lv0 contains a filesystem in use.`:               ErrBusy,
		`Logical volume vg0/lv0 in use.`:                                     ErrBusy,
		`PV /dev/sdb is used by VG vg0 so please use vgreduce first.`:        ErrInUse,
		`/dev/sdb: cannot resize to 3 extents as 6 are allocated.`:           ErrInUse,
		`something else entirely`:                                            nil,
	} {
		if got := classify([]string{msg}); got != want {
			t.Errorf("%q: %v, want %v", msg, got, want)
		}
	}
}

func TestToolArgv(t *testing.T) {
	rp, _ := command.NewReplayer()
	tl, err := NewTool(rp, WithDevices("/dev/loop0", "/dev/loop1"), WithoutDeviceMapper(), WithSystemDir("/x"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tl.argv("lvs", "-a"), " ")
	want := `lvs --devices /dev/loop0,/dev/loop1 --driverloaded n --config log{report_command_log=1 command_log_selection="all"} global{notify_dbus=0} activation{udev_sync=0 udev_rules=0} -a`
	if got != want {
		t.Fatalf("argv\n%s\nwant\n%s", got, want)
	}
	if _, err := NewTool(rp, WithDevices("/dev/a,b")); err == nil {
		t.Fatal("a device with a comma accepted")
	}
	if _, err := NewTool(rp, WithReportFormat("xml")); err == nil {
		t.Fatal("report format xml accepted")
	}
}

// synthPV builds a PV image in memory: label in sector 1, one metadata
// area at 4096 of mdaSize bytes whose text starts at textOff (so a text
// that runs past the end wraps to just after the mda header).
func synthPV(t testing.TB, text []byte, mdaSize, textOff int64) []byte {
	t.Helper()
	img := make([]byte, 4096+mdaSize)
	sec := img[512:1024]
	copy(sec, labelID)
	binary.LittleEndian.PutUint64(sec[8:], 1)
	binary.LittleEndian.PutUint32(sec[20:], 32)
	copy(sec[24:], labelType)
	h := sec[32:]
	copy(h, "AAAAAABBBBCCCCDDDDEEEEFFFFGGGGGG")
	binary.LittleEndian.PutUint64(h[32:], uint64(len(img)))
	binary.LittleEndian.PutUint64(h[40:], 1<<20) // data area
	// zero terminator at h[56:72], then the metadata area
	binary.LittleEndian.PutUint64(h[72:], 4096)
	binary.LittleEndian.PutUint64(h[80:], uint64(mdaSize))
	binary.LittleEndian.PutUint32(sec[16:], lvmCRC(initialCRC, sec[20:]))

	m := img[4096 : 4096+mdaHeaderSize]
	copy(m[4:], mdaMagic)
	binary.LittleEndian.PutUint32(m[20:], 1)
	binary.LittleEndian.PutUint64(m[24:], 4096)
	binary.LittleEndian.PutUint64(m[32:], uint64(mdaSize))
	binary.LittleEndian.PutUint64(m[40:], uint64(textOff))
	binary.LittleEndian.PutUint64(m[48:], uint64(len(text)))
	binary.LittleEndian.PutUint32(m[56:], lvmCRC(initialCRC, text))
	binary.LittleEndian.PutUint32(m[0:], lvmCRC(initialCRC, m[4:]))
	area := img[4096 : 4096+mdaSize]
	for i, c := range text {
		p := textOff + int64(i)
		if p >= mdaSize {
			p = p - mdaSize + mdaHeaderSize
		}
		area[p] = c
	}
	return img
}

const sampleText = `# Generated by LVM2
contents = "Text Format Volume Group"
version = 1
description = "a \"quoted\" \\ description"
vg.x-y+z_1 {
	id = "UPCQlw-YB3y-Hkvt-wpS1-wNIX-UTqJ-kn38Cf"
	seqno = 9
	format = "lvm2"
	status = ["RESIZEABLE", "READ", "WRITE"]
	flags = []
	tags = ["z", "a"]
	extent_size = 8192	# 4 MiB
	physical_volumes {
		pv0 {
			id = "AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG"
			device = "/dev/loop0"
			status = ["ALLOCATABLE"]
			dev_size = 131072
			pe_start = 2048
			pe_count = 15
		}
	}
	logical_volumes {
		lv-1 {
			id = "vSbzAE-2Nye-fpKD-qm6S-VESQ-Ho7S-G3XspB"
			status = ["READ", "WRITE", "VISIBLE"]
			segment_count = 1
			segment1 {
				start_extent = 0
				extent_count = 3
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv0", 2
				]
			}
		}
	}
}
`

func TestReadSynthPV(t *testing.T) {
	for _, off := range []int64{512, 8192 - 100} { // straight, and wrapping
		img := synthPV(t, []byte(sampleText), 8192, off)
		s := scannedPV{dev: pvDevice{path: "/dev/loop0", size: int64(len(img)), major: 7, minor: 0}}
		if err := readPV(bytes.NewReader(img), &s); err != nil {
			t.Fatalf("offset %d: %v", off, err)
		}
		r, err := assemble([]scannedPV{s})
		if err != nil {
			t.Fatal(err)
		}
		v := r.VG("vg.x-y+z_1")
		if v == nil || v.Seqno != 9 || strings.Join(v.Tags, ",") != "a,z" || v.ExtentCount != 15 || v.FreeCount != 12 {
			t.Fatalf("offset %d: %+v", off, v)
		}
		l := v.LV("lv-1")
		if l == nil || l.Size != 12<<20 || l.Segments[0].Areas[0] != (Area{PV: "/dev/loop0", Extent: 2}) || l.DMPath != "/dev/mapper/vg.x--y+z_1-lv--1" {
			t.Fatalf("lv: %+v", l)
		}
		if r.PVs[0].UUID != "AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG" || r.PVs[0].Used != 12<<20 {
			t.Fatalf("pv: %+v", r.PVs[0])
		}
	}
	// A damaged text checksum is a typed error, never a panic.
	img := synthPV(t, []byte(sampleText), 8192, 512)
	img[4096+600] ^= 1
	s := scannedPV{dev: pvDevice{path: "/dev/x"}}
	if err := readPV(bytes.NewReader(img), &s); !errors.Is(err, ErrMalformed) {
		t.Fatalf("damaged text: %v", err)
	}
}

func TestUnsupportedFallsBack(t *testing.T) {
	text := strings.Replace(sampleText, `type = "striped"`, `type = "thin-pool"`, 1)
	img := synthPV(t, []byte(text), 8192, 512)
	s := scannedPV{dev: pvDevice{path: "/dev/loop0"}}
	if err := readPV(bytes.NewReader(img), &s); err != nil {
		t.Fatal(err)
	}
	_, err := assemble([]scannedPV{s})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `segment type "thin-pool"`) {
		t.Fatalf("%v", err)
	}
}

func TestParseMetadataErrors(t *testing.T) {
	for _, bad := range []string{"a {", "a = ", `a = "x`, "}", "a = [1 2]", "a = @", "a b", "a = 1-", "x {} x {}"} {
		if _, err := parseMetadata([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := parseMetadata([]byte(strings.Repeat("a{", 100) + strings.Repeat("}", 100))); !errors.Is(err, ErrMalformed) {
		t.Error("deep nesting accepted")
	}
}

func TestThinPoolUsage(t *testing.T) {
	d, m, err := ThinPoolUsage("1 24/1024 80/512 - rw no_discard_passdown queue_if_no_space - 1024")
	if err != nil || d != 15.625 || m != 2.34375 {
		t.Fatalf("%v %v %v", d, m, err)
	}
	for _, bad := range []string{"Fail", "1 2 3", "1 5/0 1/2", "1 3/2 1/2"} {
		if _, _, err := ThinPoolUsage(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
