package fsys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestParseResize2fsMin(t *testing.T) {
	cases := []struct {
		out  string
		want uint64
		ok   bool
	}{
		{"Estimated minimum size of the filesystem: 13694\n", 13694, true},
		{"Please run 'e2fsck -f /dev/x' first.\n\nEstimated minimum size of the filesystem: 7\n", 7, true},
		{"Estimated minimum size of the filesystem: \n", 0, false},
		{"Estimated minimum size of the filesystem: 0\n", 0, false},
		{"Estimated minimum size of the filesystem: -5\n", 0, false},
		{"Estimated minimum size of the filesystem: 99999999999999999999999\n", 0, false},
		{"resize2fs: Bad magic number in super-block while trying to open /dev/x\n", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, err := parseResize2fsMin([]byte(c.out))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseResize2fsMin(%q) = %d, %v", c.out, got, err)
		}
		if err != nil && !errors.Is(err, errParse) {
			t.Errorf("%q: %v is not errParse", c.out, err)
		}
	}
}

func FuzzParseResize2fsMin(f *testing.F) {
	for _, s := range []string{"Estimated minimum size of the filesystem: 13694\n", "Estimated minimum size of the filesystem: x", "", "\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseResize2fsMin(b)
		if err == nil && n == 0 {
			t.Fatal("zero minimum without an error")
		}
		if err != nil && !errors.Is(err, errParse) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func TestResizeExtCmd(t *testing.T) {
	if got := resizeExtCmd("/dev/x", 256<<20).String(); got != "resize2fs -p /dev/x 262144K" {
		t.Errorf("%s", got)
	}
}

func TestResizeExtOfflineRefuses(t *testing.T) {
	r, _ := command.NewReplayer(command.Fixture{Tool: "e2fsck", Args: []string{"-f", "-p", "-C", "3", "/dev/x"}, Code: 4,
		Stdout: command.Blob("/dev/x: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.\n")})
	m, _ := New(WithRunner(r))
	var steps []string
	err := m.resizeExtOffline(context.Background(), "/dev/x", 64<<20, func(s string) { steps = append(steps, s) }, nil)
	var re *RefusedError
	if !errors.As(err, &re) || re.Code != "check_errors_left" || len(steps) != 0 {
		t.Errorf("resize of a damaged ext4: %v, steps %v", err, steps)
	}
	if err := m.resizeExtOffline(context.Background(), "/dev/x", 1000, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("size 1000: %v", err)
	}
}

const resizeFile = "payload.bin"

// resizeScenario grows and shrinks an ext4 (4 KiB blocks, made 128 MiB on
// a 512 MiB device) across several steps; when real, after each step the
// payload's checksum is read back with debugfs and e2fsck -fn must be
// clean. The sizes follow the recorded minimum, so the replay calls the
// same argv.
func resizeScenario(t *testing.T, m *Manager, dev string, real bool, sum string) {
	ctx := context.Background()
	// The minimum is re-read before each step: resize2fs -P estimates it
	// for the filesystem as it is now, and a grown filesystem has more
	// group metadata, so its minimum is larger (measured: 12403 blocks at
	// 128 MiB, 16542 at 384 MiB, 14492 at 200 MiB).
	minNow := func() (uint64, int64) {
		n, err := m.extMinBlocks(ctx, dev)
		if err != nil {
			t.Fatal(err)
		}
		b := int64(n) * 4096
		return n, (b + 1<<20 - 1) &^ (1<<20 - 1) // up to a MiB
	}
	targets := []int64{384 << 20, 200 << 20, -1, 512 << 20} // -1: the minimum
	for i, size := range targets {
		minBlocks, floor := minNow()
		if size < 0 {
			size = floor
		}
		var steps, lines []string
		err := m.resizeExtOffline(ctx, dev, size, func(s string) { steps = append(steps, s) }, func(l string) { lines = append(lines, l) })
		if err != nil {
			t.Fatalf("step %d to %d: %v", i, size, err)
		}
		if strings.Join(steps, ",") != "checked,resized" {
			t.Errorf("step %d: steps %v", i, steps)
		}
		if real {
			testenv.Run(t, "e2fsck", "-f", "-n", dev)
			if got := extBlockCount(t, dev) * 4096; got != size {
				t.Errorf("step %d: filesystem is %d bytes, want %d", i, got, size)
			}
			if got := debugfsSum(t, dev, resizeFile); got != sum {
				t.Errorf("step %d: %s checksum %s, want %s", i, resizeFile, got, sum)
			}
		}
		t.Logf("step %d: %d MiB (min %d blocks): %d progress lines", i, size>>20, minBlocks, len(lines))
	}
	// Below the minimum resize2fs refuses; the caller's MinSize check
	// should have stopped it first, but the filesystem survives either way.
	minBlocks, _ := minNow()
	err := m.resizeExtOffline(ctx, dev, int64(minBlocks)*4096/2&^4095, nil, nil)
	var xe *command.ExitError
	if !errors.As(err, &xe) || xe.Tool != "resize2fs" {
		t.Errorf("shrink below the minimum: %v", err)
	}
	if real {
		testenv.Run(t, "e2fsck", "-f", "-n", dev)
	}
}

func extBlockCount(t *testing.T, dev string) int64 {
	out := testenv.Run(t, "dumpe2fs", "-h", dev)
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Block count:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("dumpe2fs printed no block count")
	return 0
}

func debugfsSum(t *testing.T, dev, name string) string {
	out := filepath.Join(t.TempDir(), "dump")
	testenv.Run(t, "debugfs", "-R", "dump /"+name+" "+out, dev)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestResizeExtOfflineReal(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck", "resize2fs", "debugfs", "dumpe2fs")
	dev := testenv.Loop(t, 512<<20)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", "-b", "4096", dev, "128M")
	dir := mountTemp(t, dev)
	payload := make([]byte, 24<<20)
	rand.Read(payload)
	if err := os.WriteFile(filepath.Join(dir, resizeFile), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, 50)
	umount(t, dir)
	s := sha256.Sum256(payload)
	resizeScenario(t, realManager(t, "ext4-resize", dev), dev, true, hex.EncodeToString(s[:]))
}

func TestResizeExtOfflineReplay(t *testing.T) {
	m, dev := replayManager(t, "ext4-resize")
	resizeScenario(t, m, dev, false, "")
}
