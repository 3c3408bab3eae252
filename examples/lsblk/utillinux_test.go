package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestUtilLinuxSuite runs util-linux's own lsblk test suite
// (tests/ts/lsblk): each dump of a real machine's /sys and /proc
// (tests/ts/lsblk/dumps/NAME.tar.xz) with each column set of the dump
// (NAME/SUB.cols), as the suite runs lsblk (--sysroot DUMP --output COLS, in
// the POSIX locale), and compares our output byte for byte with the suite's
// expected output (tests/expected/lsblk/lsblk-NAME-SUB) and with what the
// lsblk of this machine prints for the same case. The data come from
// Debian's util-linux source (scripts/util-linux-tests.sh).
func TestUtilLinuxSuite(t *testing.T) {
	dir := testenv.UtilLinuxTests(t)
	testenv.RequireTool(t, "tar", "xz", "lsblk")
	t.Setenv("LC_ALL", "POSIX") // the suite's locale (tests/functions.sh): an ASCII tree
	dumps, _ := filepath.Glob(filepath.Join(dir, "lsblk", "ts", "dumps", "*.tar.xz"))
	if len(dumps) == 0 {
		testenv.Skip(t, "no lsblk dumps under %s", dir)
	}
	sort.Strings(dumps)
	cases := 0
	for _, dump := range dumps {
		name := strings.TrimSuffix(filepath.Base(dump), ".tar.xz")
		work := t.TempDir()
		testenv.Run(t, "tar", "-C", work, "--xz", "-xf", dump)
		root := filepath.Join(work, name)
		colsFiles, _ := filepath.Glob(filepath.Join(root, "*.cols"))
		sort.Strings(colsFiles)
		if len(colsFiles) == 0 {
			t.Errorf("%s: no column sets", name)
		}
		for _, cf := range colsFiles {
			sub := strings.TrimSuffix(filepath.Base(cf), ".cols")
			t.Run(name+"-"+sub, func(t *testing.T) {
				raw, err := os.ReadFile(cf)
				if err != nil {
					t.Fatal(err)
				}
				cols := strings.TrimSpace(string(raw))
				args := []string{"--sysroot", root, "--output", cols}
				var out, errb bytes.Buffer
				if rc := run(context.Background(), args, &out, &errb); rc != 0 {
					t.Fatalf("lsblk %v: exit %d: %s", args, rc, errb.String())
				}
				want, err := os.ReadFile(filepath.Join(dir, "lsblk", "expected", "lsblk-"+name+"-"+sub))
				if err != nil {
					t.Fatal(err)
				}
				if got := out.String(); got != string(want) {
					t.Errorf("--output %s: differs from the suite's expected output:\n--- expected\n%s--- ours\n%s", cols, want, got)
				}
				if live := string(testenv.Run(t, "lsblk", args...)); out.String() != live {
					t.Errorf("--output %s: differs from this machine's lsblk:\n--- lsblk\n%s--- ours\n%s", cols, live, out.String())
				}
			})
			cases++
		}
	}
	t.Logf("%d cases of util-linux's lsblk suite from %d dumps", cases, len(dumps))
}

// TestUtilLinuxDumpsAllColumns reads the suite's dumps with every column
// (-J -O, sizes human and in bytes) and compares with this machine's lsblk
// on the same dump. The differences left are lsblk's and each is explained.
func TestUtilLinuxDumpsAllColumns(t *testing.T) {
	dir := testenv.UtilLinuxTests(t)
	testenv.RequireTool(t, "tar", "xz", "lsblk")
	dumps, _ := filepath.Glob(filepath.Join(dir, "lsblk", "ts", "dumps", "*.tar.xz"))
	if len(dumps) == 0 {
		testenv.Skip(t, "no lsblk dumps under %s", dir)
	}
	known := func(key string, dev map[string]any, theirs, our any) string {
		switch {
		case strings.HasPrefix(key, "fs") && key != "fstype" && key != "fsver" && key != "fsroots" && our == nil:
			return "lsblk statfs's the dump's mountpoints on the live system; the dump has no filesystem usage"
		case (key == "owner" || key == "group" || key == "mode") && our == nil:
			return "the dump has no property file; lsblk stats the live /dev node of that name instead"
		case key == "hctl" && our == nil:
			return "the dump has no subsystem links (mk-input.sh copies none), so nothing says the device is SCSI; lsblk reads the address from the device link's name alone"
		case key == "tran" && theirs == "nvme" && our == nil:
			return "the dump has no subsystem links, so nothing says the device is NVMe; lsblk 2.38 guesses nvme from the name"
		}
		return fakeTreeDifferences(key, dev, theirs, our)
	}
	for _, dump := range dumps {
		name := strings.TrimSuffix(filepath.Base(dump), ".tar.xz")
		work := t.TempDir()
		testenv.Run(t, "tar", "-C", work, "--xz", "-xf", dump)
		root := filepath.Join(work, name)
		for _, flags := range [][]string{{"-J", "-O"}, {"-J", "-O", "-b"}} {
			args := append([]string{"--sysroot", root}, flags...)
			theirs := decode(t, "lsblk", testenv.Run(t, "lsblk", args...))
			our := decode(t, "ours", ours(t, args...))
			n := compareTrees(t, theirs.BlockDevices, our.BlockDevices, known, name)
			t.Logf("%s %v: %d known differences, all lsblk's", name, flags, n)
		}
	}
}

// TestUtilLinuxDumpsModes reads the suite's dumps with the columns lsblk
// reads from the dump alone (identity as sysfs pads it, state, subsystems,
// the extra queue and zone limits, mount roots, partition tables) in every
// output mode, and compares byte for byte with this machine's lsblk.
func TestUtilLinuxDumpsModes(t *testing.T) {
	dir := testenv.UtilLinuxTests(t)
	testenv.RequireTool(t, "tar", "xz", "lsblk")
	t.Setenv("LC_ALL", "C")
	dumps, _ := filepath.Glob(filepath.Join(dir, "lsblk", "ts", "dumps", "*.tar.xz"))
	if len(dumps) == 0 {
		testenv.Skip(t, "no lsblk dumps under %s", dir)
	}
	n := 0
	for _, dump := range dumps {
		name := strings.TrimSuffix(filepath.Base(dump), ".tar.xz")
		work := t.TempDir()
		testenv.Run(t, "tar", "-C", work, "--xz", "-xf", dump)
		root := filepath.Join(work, name)
		for _, mode := range [][]string{nil, {"-r"}, {"-P"}, {"-l"}, {"-J"}, {"-rn"}, {"-d"}, {"-b"}, {"-J", "-b"}} {
			for _, cols := range []string{
				"NAME,MODEL,VENDOR,REV,SERIAL,STATE,SUBSYSTEMS",
				"NAME,RAND,WSAME,ZONE-SZ,ZONE-WGRAN,ZONE-APP,ZONE-NR,ZONE-OMAX,ZONE-AMAX",
				"NAME,FSROOTS,MOUNTPOINT,MOUNTPOINTS,PTTYPE,PTUUID,PARTTYPENAME,PARTFLAGS",
			} {
				args := append(append([]string{"--sysroot", root}, mode...), "-o", cols)
				want := string(testenv.Run(t, "lsblk", args...))
				var out, errb bytes.Buffer
				if rc := run(context.Background(), args, &out, &errb); rc != 0 {
					t.Fatalf("%v: exit %d: %s", args, rc, errb.String())
				}
				if out.String() != want {
					t.Errorf("%s %v -o %s:\n--- lsblk\n%s--- ours\n%s", name, mode, cols, want, out.String())
				}
				n++
			}
		}
	}
	t.Logf("%d outputs identical to lsblk's", n)
}
