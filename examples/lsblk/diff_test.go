package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// sharedColumns are the columns lsblk 2.38 and we both print whose values do
// not depend on udev or on reading the devices (on a fake tree neither side
// probes, so the signature columns are null on both).
const sharedColumns = sharedDeviceColumns + "," + sharedSignatureColumns

const (
	sharedDeviceColumns = "NAME,KNAME,PATH,MAJ:MIN,SIZE,RO,RM,ROTA,HOTPLUG,TYPE,MODEL,SERIAL,VENDOR,REV,WWN,TRAN,HCTL," +
		"LOG-SEC,PHY-SEC,MIN-IO,OPT-IO,ALIGNMENT,DISC-ALN,DISC-GRAN,DISC-MAX,DISC-ZERO,SCHED,RQ-SIZE,RA,DAX,ZONED," +
		"PKNAME,START,MOUNTPOINT,MOUNTPOINTS,FSROOTS,RAND,WSAME,STATE,SUBSYSTEMS,ZONE-SZ,ZONE-WGRAN,ZONE-APP,ZONE-NR," +
		"ZONE-OMAX,ZONE-AMAX"
	sharedSignatureColumns = "FSTYPE,LABEL,UUID,PTTYPE,PTUUID,PARTUUID,PARTTYPE,PARTTYPENAME,PARTFLAGS"
)

type tree struct {
	BlockDevices []map[string]any `json:"blockdevices"`
}

func decode(t *testing.T, who string, data []byte) tree {
	t.Helper()
	var tr tree
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatalf("%s: bad JSON: %v\n%s", who, err, data)
	}
	return tr
}

func ours(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	if rc := run(context.Background(), args, &out, &errb); rc != 0 {
		t.Fatalf("lsblk %v: exit %d: %s", args, rc, errb.String())
	}
	return out.Bytes()
}

// knownDifference explains a value where lsblk 2.38 and we disagree and we
// have established which side is wrong. "" means the difference is a bug.
type knownDifference func(key string, dev map[string]any, theirs, our any) string

// fakeTreeDifferences are lsblk's limits when it reads a --sysroot tree or
// runs without udev; in each case our value is the one the tree says.
// (FSSIZE, FSUSED and FSAVAIL are not compared on fake trees at all: lsblk
// statfs's the tree's mountpoints on the live system, so a fake "/" gets the
// host's root filesystem; we report no usage for a fake tree.)
func fakeTreeDifferences(key string, dev map[string]any, theirs, our any) string {
	switch {
	case key == "wwn" && theirs == nil && our != nil:
		return "lsblk 2.38 takes WWN only from udev; we read device/wwid from sysfs (lsblk incomplete)"
	case key == "serial" && theirs == nil && our != nil:
		return "lsblk asks libudev, which ignores --sysroot; we read the tree's /run/udev/data (lsblk wrong for a sysroot)"
	case key == "tran" && theirs == nil && (our == "virtio" || our == "loop"):
		return "lsblk 2.38 has no virtio transport (added in 2.39) and never reports loop; we read the subsystem link / loop dir"
	case key == "tran" && theirs == "nvme" && our == nil && dev["type"] == "part":
		return "lsblk 2.38 guesses nvme for partitions from the name prefix; a partition has no transport of its own (lsblk guess)"
	case (key == "mountpoints" || key == "mountpoint") && containsSwap(our):
		return "lsblk matches /proc/swaps by stat'ing the live /dev, not the sysroot's; the tree says it is swap (lsblk wrong for a sysroot)"
	}
	return ""
}

func containsSwap(v any) bool {
	switch x := v.(type) {
	case string:
		return x == "[SWAP]"
	case []any:
		for _, e := range x {
			if e == "[SWAP]" {
				return true
			}
		}
	}
	return false
}

// compareTrees walks both trees in step and reports every difference that is
// not known. It returns how many known differences it met.
func compareTrees(t *testing.T, theirs, our []map[string]any, known knownDifference, path string) int {
	t.Helper()
	n := 0
	if len(theirs) != len(our) {
		t.Errorf("%s: lsblk lists %d devices, we list %d:\nlsblk: %v\nours:  %v", path, len(theirs), len(our), names(theirs), names(our))
		return n
	}
	for i := range theirs {
		a, b := theirs[i], our[i]
		where := fmt.Sprintf("%s/%v", path, a["kname"])
		for k, av := range a {
			if k == "children" {
				continue
			}
			bv, ok := b[k]
			if !ok {
				t.Errorf("%s: key %q missing in ours", where, k)
				continue
			}
			if fmt.Sprint(av) == fmt.Sprint(bv) {
				continue
			}
			if why := known(k, b, av, bv); why != "" {
				t.Logf("%s %s: lsblk %v, ours %v: %s", where, k, av, bv, why)
				n++
				continue
			}
			t.Errorf("%s %s: lsblk %v, ours %v", where, k, av, bv)
		}
		n += compareTrees(t, kids(a), kids(b), known, where)
	}
	return n
}

func kids(m map[string]any) []map[string]any {
	l, _ := m["children"].([]any)
	out := make([]map[string]any, 0, len(l))
	for _, e := range l {
		if mm, ok := e.(map[string]any); ok {
			out = append(out, mm)
		}
	}
	return out
}

func names(l []map[string]any) string {
	var s []string
	for _, m := range l {
		s = append(s, fmt.Sprint(m["kname"]))
	}
	return strings.Join(s, " ")
}

func TestDifferentialFakeTree(t *testing.T) {
	testenv.RequireTool(t, "lsblk")
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	for _, flags := range [][]string{{"-J", "-b"}, {"-J"}, {"-J", "-b", "-a"}} {
		t.Run(strings.Join(flags, ""), func(t *testing.T) {
			args := append(append([]string{"--sysroot", dir}, flags...), "-o", sharedColumns)
			theirs := decode(t, "lsblk", testenv.Run(t, "lsblk", args...))
			our := decode(t, "ours", ours(t, args...))
			n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, fakeTreeDifferences, "")
			t.Logf("%d known differences, all lsblk's", n)
		})
	}
}
