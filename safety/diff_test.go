package safety

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestDifferentialWipefs compares what preflight finds with `wipefs -n -J`
// (which, unlike `blkid -p`, also looks for the GPT backup header) on the
// same loop devices. Every signature wipefs lists must be among ours, and
// every backup-location signature of ours at an offset wipefs checks must be
// in its list. Where we list more, it is on purpose: wipefs does not report
// ext superblock backups, which survive a wipe of the primary and are what
// e2fsck -b recovers from, so preflight counts them as "not empty".
func TestDifferentialWipefs(t *testing.T) {
	testenv.RequireTool(t, "wipefs", "sfdisk", "mkfs.ext4", "mkswap", "pvcreate")
	sfdisk := func(script string) func(t *testing.T, dev string) {
		return func(t *testing.T, dev string) {
			cmd := exec.Command(mustTool(t, "sfdisk"), "-q", dev)
			cmd.Stdin = strings.NewReader(script)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sfdisk: %v: %s", err, out)
			}
		}
	}
	states := []struct {
		name  string
		setup func(t *testing.T, dev string)
	}{
		{"clean", func(*testing.T, string) {}},
		{"ext4", func(t *testing.T, dev string) { testenv.Run(t, "mkfs.ext4", "-q", dev) }},
		{"swap", func(t *testing.T, dev string) { testenv.Run(t, "mkswap", dev) }},
		{"lvm", func(t *testing.T, dev string) {
			testenv.Run(t, "pvcreate", "-q", "--config", "devices/use_devicesfile=0", dev)
		}},
		{"gpt", sfdisk("label: gpt\n")},
		{"dos", sfdisk("label: dos\n")},
		{"gpt-backup-only", func(t *testing.T, dev string) {
			sfdisk("label: gpt\n")(t, dev)
			f, err := os.OpenFile(dev, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt(make([]byte, 1<<20), 0); err != nil {
				t.Fatal(err)
			}
		}},
	}
	mismatches := 0
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			dev := testenv.Loop(t, loopSize)
			st.setup(t, dev)
			out, err := testenv.RunErr("wipefs", "-n", "-J", dev)
			if err != nil {
				t.Fatal(err)
			}
			var w struct {
				Signatures []struct {
					Offset string `json:"offset"`
					Type   string `json:"type"`
				} `json:"signatures"`
			}
			if len(strings.TrimSpace(string(out))) > 0 {
				if err := json.Unmarshal(out, &w); err != nil {
					t.Fatalf("wipefs json: %v: %s", err, out)
				}
			}
			f := check(t, dev, OpFormat).Facts
			ours := map[string]bool{}
			for _, s := range f.Signatures {
				ours[s.Type] = true
				if s.Offset >= 0 {
					ours[fmt.Sprintf("%s@%d", s.Type, s.Offset)] = true
				}
			}
			theirs := map[int64]string{}
			for _, s := range w.Signatures {
				off, err := strconv.ParseInt(strings.TrimPrefix(s.Offset, "0x"), 16, 64)
				if err != nil {
					t.Fatalf("wipefs offset %q", s.Offset)
				}
				theirs[off] = s.Type
				switch s.Type {
				case "PMBR", "gpt", "dos":
					if f.PartTable == "" && !ours[fmt.Sprintf("gpt@%d", off)] {
						mismatches++
						t.Errorf("wipefs finds %s at %#x, preflight no table there", s.Type, off)
					}
				default:
					if !ours[s.Type] {
						mismatches++
						t.Errorf("wipefs finds %s at %#x, preflight does not", s.Type, off)
					}
				}
			}
			for _, s := range f.Signatures {
				if s.Offset < 0 || s.Type != "gpt" {
					continue // ext backups: wipefs does not look (see above)
				}
				if theirs[s.Offset] != "gpt" {
					mismatches++
					t.Errorf("preflight finds %s, wipefs does not", s)
				}
			}
			if (len(w.Signatures) == 0) != (len(f.Signatures) == 0 && f.PartTable == "") {
				t.Errorf("emptiness differs: wipefs %d signatures, preflight %d + table %q", len(w.Signatures), len(f.Signatures), f.PartTable)
			}
		})
	}
	t.Logf("%d mismatches against wipefs over %d states", mismatches, len(states))
}
