package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LoopSector is Loop with a logical sector size (losetup -b), for tests of
// 4096-byte-sector disks. Cleanup is the same as Loop's.
func LoopSector(t testing.TB, size int64, sectorSize int) string {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "losetup")
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	var dev string
	var err error
	for i := 0; i < 5; i++ { // losetup -f races with other test processes
		var out []byte
		out, err = RunErr("losetup", "-f", "--show", "-b", strconv.Itoa(sectorSize), img)
		if err == nil {
			dev = strings.TrimSpace(string(out))
			break
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	if err != nil {
		Skip(t, "cannot attach loop device: %v", err)
	}
	t.Cleanup(func() { DetachLoop(t, dev) })
	return dev
}
