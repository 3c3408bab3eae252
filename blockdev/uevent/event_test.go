package uevent

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func kmsg(parts ...string) []byte { return []byte(strings.Join(parts, "\x00") + "\x00") }

func TestParseKernel(t *testing.T) {
	msg := kmsg("change@/devices/virtual/block/loop3", "ACTION=change", "DEVPATH=/devices/virtual/block/loop3",
		"SUBSYSTEM=block", "MAJOR=7", "MINOR=3", "DEVNAME=loop3", "DEVTYPE=disk", "DISKSEQ=42", "SEQNUM=5120")
	got, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{
		Action: ActionChange, DevPath: "/devices/virtual/block/loop3", Subsystem: "block", DevType: "disk",
		DevName: "loop3", Major: 7, Minor: 3, HasDevNum: true, DiskSeq: 42, Seqnum: 5120,
		Env: map[string]string{"ACTION": "change", "DEVPATH": "/devices/virtual/block/loop3", "SUBSYSTEM": "block",
			"MAJOR": "7", "MINOR": "3", "DEVNAME": "loop3", "DEVTYPE": "disk", "DISKSEQ": "42", "SEQNUM": "5120"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if got.MajMin() != "7:3" || !got.Action.Known() {
		t.Errorf("MajMin %q Known %v", got.MajMin(), got.Action.Known())
	}
	// A driver event without a device number.
	got, err = Parse(kmsg("bind@/devices/pci0000:00/0000:00:1f.2", "ACTION=bind", "DEVPATH=/devices/pci0000:00/0000:00:1f.2", "SUBSYSTEM=pci", "DRIVER=ahci", "SEQNUM=7"))
	if err != nil || got.HasDevNum || got.MajMin() != "" || got.Env["DRIVER"] != "ahci" || got.Action != ActionBind {
		t.Errorf("bind: %+v %v", got, err)
	}
	// A value may contain '='; unknown actions pass through.
	got, err = Parse(kmsg("frob@/x", "K=a=b"))
	if err != nil || got.Env["K"] != "a=b" || got.Action.Known() {
		t.Errorf("frob: %+v %v", got, err)
	}
}

func udevMsg(props string) []byte {
	h := make([]byte, 40)
	copy(h, udevPrefix)
	binary.BigEndian.PutUint32(h[8:], udevMagic)
	binary.LittleEndian.PutUint32(h[12:], 40)
	binary.LittleEndian.PutUint32(h[16:], 40)
	binary.LittleEndian.PutUint32(h[20:], uint32(len(props)))
	return append(h, props...)
}

func TestParseUdev(t *testing.T) {
	got, err := Parse(udevMsg("ACTION=add\x00DEVPATH=/devices/virtual/block/loop1\x00SUBSYSTEM=block\x00MAJOR=7\x00MINOR=1\x00ID_FS_TYPE=ext4\x00"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.FromUdev || got.Action != ActionAdd || got.DevPath != "/devices/virtual/block/loop1" || got.Env["ID_FS_TYPE"] != "ext4" {
		t.Errorf("got %+v", got)
	}
}

func TestParseMalformed(t *testing.T) {
	bad := udevMsg("ACTION=add\x00")
	binary.LittleEndian.PutUint32(bad[20:], 1000) // properties past the end
	badMagic := udevMsg("ACTION=add\x00DEVPATH=/x\x00")
	badMagic[8] = 0
	for name, msg := range map[string][]byte{
		"empty":           nil,
		"no header @":     kmsg("add", "ACTION=add"),
		"empty action":    kmsg("@/x"),
		"empty devpath":   kmsg("add@"),
		"action mismatch": kmsg("add@/x", "ACTION=remove"),
		"path mismatch":   kmsg("add@/x", "DEVPATH=/y"),
		"no equals":       kmsg("add@/x", "JUNK"),
		"empty key":       kmsg("add@/x", "=v"),
		"bad major":       kmsg("add@/x", "MAJOR=seven", "MINOR=1"),
		"huge minor":      kmsg("add@/x", "MAJOR=1", "MINOR=99999999999"),
		"bad seqnum":      kmsg("add@/x", "SEQNUM=-1"),
		"udev short":      []byte(udevPrefix + "abc"),
		"udev offsets":    bad,
		"udev magic":      badMagic,
		"udev no action":  udevMsg("DEVPATH=/x\x00"),
		"too long":        make([]byte, maxMessage+1),
	} {
		if _, err := Parse(msg); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	e := Event{Action: ActionRemove, DevPath: "/devices/virtual/block/loop0/loop0p1",
		Env: map[string]string{"SUBSYSTEM": "block", "DEVTYPE": "partition", "MAJOR": "259", "MINOR": "0", "PARTN": "1"}}
	got, err := Parse(Marshal(e))
	if err != nil {
		t.Fatal(err)
	}
	if got.Action != e.Action || got.DevPath != e.DevPath || got.Major != 259 || got.DevType != "partition" || got.Env["PARTN"] != "1" {
		t.Errorf("got %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(kmsg("change@/devices/virtual/block/loop3", "ACTION=change", "DEVPATH=/devices/virtual/block/loop3", "SUBSYSTEM=block", "MAJOR=7", "MINOR=3", "DISKSEQ=42", "SEQNUM=5120"))
	f.Add(kmsg("add@/devices/virtual/block/loop0/loop0p1", "SUBSYSTEM=block", "DEVTYPE=partition", "PARTN=1"))
	f.Add(kmsg("add@/x", "K=a=b", "", ""))
	f.Add(udevMsg("ACTION=add\x00DEVPATH=/x\x00SUBSYSTEM=block\x00"))
	f.Add([]byte("libudev\x00"))
	f.Add([]byte("a@b"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		e, err := Parse(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not ErrMalformed: %v", err)
			}
			return
		}
		if e.Action == "" || e.DevPath == "" || e.Env == nil {
			t.Fatalf("accepted without action/devpath: %+v", e)
		}
		// Whatever Parse accepts, Marshal must encode so Parse reads it back.
		back, err := Parse(Marshal(e))
		if err != nil {
			t.Fatalf("round trip of %q: %v", msg, err)
		}
		if back.Action != e.Action || back.DevPath != e.DevPath || back.Major != e.Major || back.Minor != e.Minor ||
			back.HasDevNum != e.HasDevNum || back.Seqnum != e.Seqnum || back.DiskSeq != e.DiskSeq || back.Subsystem != e.Subsystem {
			t.Fatalf("round trip changed %+v into %+v", e, back)
		}
	})
}
