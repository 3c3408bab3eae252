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

func TestPeek(t *testing.T) {
	for _, c := range []struct {
		line         string
		major, minor uint32
		source       string
		ok           bool
	}{
		{"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n", 98, 0, "/dev/root", true},
		{"22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw", 0, 21, "proc", true},
		{"2 1 8:2 / /- rw - ext4 /dev/sda2", 8, 2, "/dev/sda2", true}, // no superoptions; a mount point "-"
		{`1 0 8:1 / /a\040b rw - vfat /dev/sda1 rw`, 8, 1, "/dev/sda1", true},
		// Not in the plain form, or not parsable: ParseLine decides.
		{`1 0 0:5 / /m rw - tmpfs a\040b rw`, 0, 0, "", false}, // an escape in the source
		{"1 0 8:1 / /m rw - ext4  /dev/sda1 rw", 0, 0, "", false},
		{"1\t0 8:1 / /m rw - ext4 /dev/sda1 rw", 0, 0, "", false},
		{"1 0 8:1 / /m\u00a0x rw - ext4 /dev/sda1 rw", 0, 0, "", false},
		{"x 0 8:1 / / rw - ext4 /dev/sda rw", 0, 0, "", false},
		{"1 0 8:1 / / rw -", 0, 0, "", false},
		{"1 0 8:1 / / rw - ext4", 0, 0, "", false},
		{"1 0 8:1 / /m rw a b c d", 0, 0, "", false},
		{"", 0, 0, "", false},
	} {
		major, minor, source, ok := Peek(c.line)
		if ok != c.ok || major != c.major || minor != c.minor || source != c.source {
			t.Errorf("Peek(%q) = %d, %d, %q, %v; want %d, %d, %q, %v", c.line, major, minor, source, ok, c.major, c.minor, c.source, c.ok)
		}
	}
}

// FuzzPeek: whatever Peek accepts, ParseLine parses, to the same device
// number and source (the promise that lets a caller skip the full parse).
func FuzzPeek(f *testing.F) {
	for _, s := range []string{
		"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n",
		"22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw",
		"2 1 8:2 / /- rw - ext4 /dev/sda2", "1 0 8:1 / / rw - - - -", "1 0 8:1 / / - - x y",
		"1 0 8:1 / / rw -\n", "1 0 +8:1 / / rw - a b", "-1 +2 8:1 / / rw - a b c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		major, minor, source, ok := Peek(line)
		if !ok {
			return
		}
		e, err := ParseLine(line)
		if err != nil {
			t.Fatalf("Peek accepted %q, ParseLine: %v", line, err)
		}
		if e.Major != major || e.Minor != minor || e.Source != source {
			t.Fatalf("%q: Peek %d:%d %q, ParseLine %d:%d %q", line, major, minor, source, e.Major, e.Minor, e.Source)
		}
	})
}
