package mountinfo

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	e, err := ParseLine("36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue\n")
	want := Entry{ID: 36, ParentID: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt/my disk",
		Options: "rw,noatime", Optional: []string{"master:1", "shared:7"}, FSType: "ext3", Source: "/dev/root",
		SuperOptions: "rw,errors=continue"}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v, %v\nwant %+v", e, err, want)
	}
	// No superoptions (old kernels), and a mountpoint that is itself "-".
	e, err = ParseLine(`2 1 8:2 / /- rw - ext4 /dev/sda2`)
	if err != nil || e.MountPoint != "/-" || e.Source != "/dev/sda2" || e.SuperOptions != "" {
		t.Fatalf("got %+v, %v", e, err)
	}
	for _, bad := range []string{"", "1 2 3", "x 0 8:1 / / rw - ext4 /dev/sda rw", "1 x 8:1 / / rw - ext4 /dev/sda rw",
		"1 0 8:1 / / rw ext4 /dev/sda rw", "1 0 8-1 / / rw - ext4 /dev/sda rw", "1 0 8:x / / rw - a b c",
		"1 0 8:1 / / rw -", "36 35 8:1 / /m rw a b c d"} {
		if _, err := ParseLine(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseLine(%q) err = %v", bad, err)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`:  "/mnt/a b",
		`/a\134b\011c`: "/a\\b\tc",
		`/plain`:       "/plain",
		`/x\0`:         `/x\0`,   // too short: kept
		`/x\400`:       `/x\400`, // not a byte: kept
		`/x\08a`:       `/x\08a`, // not octal: kept
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`,
		`22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw`,
		`1 0 8:1 / /a\040b rw - vfat /dev/sda1`,
		`1 0 8:1 / / rw -`, `- - - - - - -`, `\`, `1 0 8:1 / /x\0 rw - a b c`, `1 2 3:4 / / rw - - -`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseLine(line)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %v does not match ErrSyntax", err)
			}
			return
		}
		if e.FSType == "" || e.MountPoint == "" || e.Source == "" {
			t.Fatalf("accepted an empty field: %+v", e)
		}
		found := false // the separator must be a field of its own
		for _, w := range strings.Fields(line) {
			found = found || w == "-"
		}
		if !found {
			t.Fatalf("accepted a line without separator: %q", line)
		}
	})
}
