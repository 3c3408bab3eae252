package fsys

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func blkidLabel(t *testing.T, dev string) string {
	t.Helper()
	out, _ := testenv.RunErr("blkid", "-p", "-o", "value", "-s", "LABEL", dev)
	return strings.TrimSpace(string(out))
}

func TestLabelOnline(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		typ  Type
		tool string
		args []string
		max  int
	}{
		{Ext4, "mkfs.ext4", []string{"-F", "-q", "-L", "before"}, 16},
		{XFS, "mkfs.xfs", []string{"-f", "-q", "-L", "before"}, 12},
		{Btrfs, "mkfs.btrfs", []string{"-f", "-q", "-L", "before"}, 255},
	} {
		t.Run(string(c.typ), func(t *testing.T) {
			testenv.RequireTool(t, "blkid")
			dev := olMkfs(t, 512<<20, c.tool, c.args...)
			dir := olMount(t, dev, c.typ)
			if l, err := getLabelOnline(ctx, dir); err != nil || l != "before" {
				t.Fatalf("get: %q %v", l, err)
			}
			longest := strings.Repeat("L", c.max)
			for _, want := range []string{"eos-data", longest, ""} {
				if err := setLabelOnline(ctx, dir, want); err != nil {
					t.Fatalf("set %q: %v", want, err)
				}
				if l, err := getLabelOnline(ctx, dir); err != nil || l != want {
					t.Errorf("get after set %q: %q %v", want, l, err)
				}
				if b := blkidLabel(t, dev); b != want {
					t.Errorf("blkid -p after set %q: %q", want, b)
				}
			}
			var re *RefusedError
			if err := setLabelOnline(ctx, dir, longest+"x"); !errors.As(err, &re) || re.Code != "label_too_long" {
				t.Errorf("label of %d bytes: %v", c.max+1, err)
			}
			if err := setLabelOnline(ctx, dir, "a\x00b"); !errors.Is(err, ErrInvalid) {
				t.Errorf("NUL in label: %v", err)
			}
		})
	}
}

// vfat has no FS_IOC_GETFSLABEL on kernels before 6.x's; where it answers
// ENOTTY the error must be the typed not-supported.
func TestLabelOnlineVFAT(t *testing.T) {
	olRequireKernelFS(t, "vfat")
	dev := olMkfs(t, 64<<20, "mkfs.vfat", "-n", "VFATLBL")
	dir := olMount(t, dev, VFAT)
	l, err := getLabelOnline(context.Background(), dir)
	var ns *NotSupportedError
	switch {
	case errors.As(err, &ns):
		if !errors.Is(err, ErrNotSupported) || ns.Type != VFAT {
			t.Errorf("not supported error %#v", ns)
		}
		t.Logf("vfat: %v", err)
	case err != nil:
		t.Fatalf("vfat get label: %v", err)
	default:
		t.Logf("this kernel reads vfat labels online: %q", l)
	}
}

// olRequireKernelFS skips when the running kernel has no driver for fs (the
// host kernel here has no vfat and no loadable modules, TESTBED.md). This is
// a plain skip even under strict: no package install can fix it; the VM
// tier's kernel has the driver.
func olRequireKernelFS(t testing.TB, fs string) {
	t.Helper()
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Skipf("no /proc/filesystems: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == fs {
			return
		}
	}
	t.Skipf("the running kernel has no %s driver (/proc/filesystems)", fs)
}
