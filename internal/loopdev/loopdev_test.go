package loopdev

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func sectors(t *testing.T, d Device) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/block", d.Name, "size"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Attach, find by inode, attach again (the same device), grow, detach.
func TestAttachFindResizeDetach(t *testing.T) {
	testenv.RequireRoot(t)
	root := sysfs.Root{}
	file := filepath.Join(t.TempDir(), "vol.img")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, 8<<20); err != nil {
		t.Fatal(err)
	}
	d, err := Attach(context.Background(), root, file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Detach(root, d) })
	if sectors(t, d) != 8<<20/512 {
		t.Fatalf("%s: %d sectors", d.Path, sectors(t, d))
	}
	again, err := Attach(context.Background(), root, file)
	if err != nil || again != d {
		t.Fatalf("second attach: %+v %v, want %+v", again, err, d)
	}
	// A rename does not lose it: the inode identifies the file.
	moved := file + ".moved"
	if err := os.Rename(file, moved); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(root, moved); err != nil || got != d {
		t.Fatalf("Find after rename: %+v %v", got, err)
	}
	if err := os.Truncate(moved, 16<<20); err != nil {
		t.Fatal(err)
	}
	if err := SetCapacity(root, d); err != nil {
		t.Fatal(err)
	}
	if sectors(t, d) != 16<<20/512 {
		t.Fatalf("after SetCapacity: %d sectors", sectors(t, d))
	}
	if why, err := InUse(root, d); err != nil || why != "" {
		t.Fatalf("InUse: %q %v", why, err)
	}
	if err := Detach(root, d); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(root, moved); !errors.Is(err, ErrNotAttached) {
		t.Fatalf("Find after detach: %v", err)
	}
	if err := Detach(root, d); err != nil {
		t.Fatalf("second detach: %v", err)
	}
}

// A mounted loop device is not detached.
func TestDetachRefusesMounted(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "mount", "umount")
	root := sysfs.Root{}
	file := filepath.Join(t.TempDir(), "vol.img")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(file, 16<<20); err != nil {
		t.Fatal(err)
	}
	d, err := Attach(context.Background(), root, file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Detach(root, d) })
	testenv.Run(t, "mkfs.ext4", "-q", "-F", d.Path)
	dir := t.TempDir()
	testenv.Run(t, "mount", d.Path, dir)
	if err := Detach(root, d); !errors.Is(err, ErrBusy) {
		testenv.Run(t, "umount", dir)
		t.Fatalf("detach of a mounted device: %v, want ErrBusy", err)
	}
	testenv.Run(t, "umount", dir)
	if err := Detach(root, d); err != nil {
		t.Fatal(err)
	}
}
