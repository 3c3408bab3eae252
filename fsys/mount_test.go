package fsys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func olManager(t testing.TB) *Manager {
	t.Helper()
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// olMountEntry is dir's line in this thread's mountinfo, or false.
func olMountEntry(t testing.TB, dir string) (mountinfo.Entry, bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if e, err := mountinfo.ParseLine(l); err == nil && e.MountPoint == dir {
			return e, true
		}
	}
	return mountinfo.Entry{}, false
}

func TestValidateMountData(t *testing.T) {
	for _, c := range []struct {
		t    Type
		data []string
		want string // "" with ok=false: must fail
		ok   bool
	}{
		{Ext4, nil, "", true},
		{Ext4, []string{"commit=30", "errors=remount-ro", "data=ordered", "barrier=1", "nodelalloc"}, "commit=30,errors=remount-ro,data=ordered,barrier=1,nodelalloc", true},
		{XFS, []string{"logbsize=256k", "inode64", "allocsize=64m", "nouuid"}, "logbsize=256k,inode64,allocsize=64m,nouuid", true},
		{Btrfs, []string{"compress=zstd:3", "subvol=@home", "space_cache=v2", "discard=async", "device=/dev/loop1"}, "compress=zstd:3,subvol=@home,space_cache=v2,discard=async,device=/dev/loop1", true},
		{VFAT, []string{"uid=1000", "umask=022", "shortname=mixed", "utf8"}, "uid=1000,umask=022,shortname=mixed,utf8", true},
		{Ext4, []string{"commit=30,ro"}, "", false}, // comma smuggling a second option
		{Ext4, []string{"frobnicate"}, "", false},   // unknown
		{Ext4, []string{"ro"}, "", false},           // a flag, not data
		{Ext4, []string{"commit="}, "", false},      // empty value
		{Ext4, []string{"=30"}, "", false},          // no name
		{Ext4, []string{"commit=3=0"}, "", false},   // a second =
		{Ext4, []string{"commit=x"}, "", false},     // not a number
		{Ext4, []string{"nodelalloc=1"}, "", false}, // a flag with a value
		{Ext4, []string{"data"}, "", false},         // needs a value
		{Ext4, []string{"commit=1", "commit=2"}, "", false},
		{Ext4, []string{""}, "", false},
		{XFS, []string{"logdev=relative"}, "", false},
		{XFS, []string{"logbsize=32kk"}, "", false},
		{Btrfs, []string{"subvol=../etc"}, "", false},
		{Btrfs, []string{"compress=zstd;rm"}, "", false},
		{VFAT, []string{"umask=999"}, "", false},
		{Swap, []string{"x"}, "", false},
	} {
		got, err := validateMountData(c.t, c.data)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("%s %q: %q, %v; want %q", c.t, c.data, got, err, c.want)
		}
		if !c.ok {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s %q: %v, want ErrInvalid", c.t, c.data, err)
			} else if len(c.data) == 1 && c.data[0] != "" && !strings.Contains(err.Error(), c.data[0]) && c.t != Swap {
				t.Errorf("%s %q: error does not name the option: %v", c.t, c.data, err)
			}
		}
	}
	var re *RefusedError
	if _, err := validateMountData(Ext4, []string{"errors=panic"}); !errors.As(err, &re) || re.Code != "dangerous_mount_option" {
		t.Errorf("errors=panic: %v", err)
	}
}

func FuzzValidateMountData(f *testing.F) {
	for _, s := range []string{"commit=30", "errors=panic", "compress=zstd:3", "subvol=a/../b", "umask=0777", "a=b=c", "=", ",", "logbsize=1g"} {
		for _, typ := range []string{"ext4", "xfs", "btrfs", "vfat", "swap"} {
			f.Add(typ, s)
		}
	}
	f.Fuzz(func(t *testing.T, typ, opt string) {
		got, err := validateMountData(Type(typ), []string{opt})
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrRefused) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if got != opt || strings.ContainsAny(got, ",\x00") {
			t.Fatalf("accepted %q as %q", opt, got)
		}
	})
}

func TestMountReadOnlyAndUnmount(t *testing.T) {
	dev := olMkfs(t, 256<<20, "mkfs.ext4", "-F", "-q")
	m := olManager(t)
	ctx := context.Background()
	dir := t.TempDir()
	t.Cleanup(func() { olUnmount(t, dir) })
	err := m.Mount(ctx, dev, dir, Ext4, MountOptions{ReadOnly: true, NoExec: true, NoSuid: true, NoDev: true, NoAtime: true, Data: []string{"errors=remount-ro", "commit=15"}})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := olMountEntry(t, dir)
	if !ok {
		t.Fatal("not in mountinfo after Mount")
	}
	for _, o := range []string{"ro", "noexec", "nosuid", "nodev", "noatime"} {
		if !strings.Contains(","+e.Options+",", ","+o+",") {
			t.Errorf("per-mount options %q lack %s", e.Options, o)
		}
	}
	if !strings.Contains(e.SuperOptions, "errors=remount-ro") || e.FSType != "ext4" {
		t.Errorf("super options %q type %q", e.SuperOptions, e.FSType)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); !errors.Is(err, unix.EROFS) {
		t.Errorf("write on a read-only mount: %v", err)
	}
	if err := m.Mount(ctx, dev, dir, Ext4, MountOptions{}); !errors.Is(err, ErrMounted) {
		t.Errorf("mount over a mountpoint: %v", err)
	}
	if err := m.Unmount(ctx, dir, UnmountOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := olMountEntry(t, dir); ok {
		t.Error("still mounted after Unmount")
	}
	if err := m.Unmount(ctx, dir, UnmountOptions{}); !errors.Is(err, ErrNotMounted) {
		t.Errorf("unmount of a plain directory: %v", err)
	}
}

func TestMountBindReadOnly(t *testing.T) {
	dev := olMkfs(t, 512<<20, "mkfs.xfs", "-f", "-q")
	dir := olMount(t, dev, XFS)
	m := olManager(t)
	ctx := context.Background()
	bind := t.TempDir()
	t.Cleanup(func() { olUnmount(t, bind) })
	if err := m.Mount(ctx, dir, bind, "", MountOptions{Bind: true, ReadOnly: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bind, "x"), nil, 0o600); !errors.Is(err, unix.EROFS) {
		t.Errorf("write through a read-only bind: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "y"), []byte("y"), 0o600); err != nil {
		t.Errorf("write through the original: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(bind, "y")); err != nil || string(b) != "y" {
		t.Errorf("bind does not show the original: %q %v", b, err)
	}
	if err := m.Mount(ctx, dir, t.TempDir(), "", MountOptions{Bind: true, Data: []string{"inode64"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bind with data: %v", err)
	}
	if err := m.Unmount(ctx, bind, UnmountOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestMountRefusals(t *testing.T) {
	m := olManager(t)
	ctx := context.Background()
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"symlink target": m.Mount(ctx, "/dev/null", link, Ext4, MountOptions{}),
		"relative":       m.Mount(ctx, "/dev/null", "mnt", Ext4, MountOptions{}),
		"swap":           m.Mount(ctx, "/dev/null", dir, Swap, MountOptions{}),
		"unknown option": m.Mount(ctx, "/dev/null", dir, Ext4, MountOptions{Data: []string{"bogus"}}),
		"both atimes":    m.Mount(ctx, "/dev/null", dir, Ext4, MountOptions{NoAtime: true, RelAtime: true}),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestUnmountProtected(t *testing.T) {
	m := olManager(t)
	ctx := context.Background()
	tmp := t.TempDir()
	rootLink := filepath.Join(tmp, "root")
	if err := os.Symlink("/", rootLink); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(tmp, "mine")
	for _, c := range []struct {
		target string
		extra  []string
	}{
		{"/", nil}, {"/boot/../", nil}, {"//usr/", nil}, {"/var", nil}, {"/home/.", nil}, {"/etc", nil},
		{"/boot/efi", nil}, {rootLink, nil}, {mine + "/", []string{mine}},
	} {
		err := m.Unmount(ctx, c.target, UnmountOptions{Protected: c.extra, Lazy: true, Force: true})
		var re *RefusedError
		if !errors.As(err, &re) || re.Code != "protected_mountpoint" || !errors.Is(err, ErrRefused) {
			t.Errorf("unmount %q: %v", c.target, err)
		}
	}
	if err := m.Unmount(ctx, tmp, UnmountOptions{}); !errors.Is(err, ErrNotMounted) {
		t.Errorf("not a mountpoint: %v", err)
	}
}

func TestUnmountBusyAndLazy(t *testing.T) {
	dev := olMkfs(t, 256<<20, "mkfs.ext4", "-F", "-q")
	dir := olMount(t, dev, Ext4)
	f, err := os.Create(filepath.Join(dir, "open"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := olManager(t)
	ctx := context.Background()
	if err := m.Unmount(ctx, dir, UnmountOptions{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("busy unmount: %v", err)
	}
	if _, ok := olMountEntry(t, dir); !ok {
		t.Fatal("a refused unmount unmounted")
	}
	if err := m.Unmount(ctx, dir, UnmountOptions{Lazy: true}); err != nil {
		t.Fatalf("lazy unmount: %v", err)
	}
	if _, ok := olMountEntry(t, dir); ok {
		t.Error("still visible after a lazy unmount")
	}
	// The open file still works until closed.
	if _, err := f.WriteString("still open"); err != nil {
		t.Errorf("write to a file of a detached mount: %v", err)
	}
}

// Mount operations claim the mountpoint's path, which belongs to no
// device: two devices at one path conflict, and so do a path and one below
// it; paths side by side do not.
func TestMountOpClaimsThePath(t *testing.T) {
	testenv.RequireRoot(t)
	dev1, dev2 := testenv.Loop(t, 1<<20), testenv.Loop(t, 1<<20)
	m, _ := newTestManager(t)
	ctx := context.Background()
	mount := func(dev, target string) sched.Operation {
		t.Helper()
		op, err := m.MountOp(ctx, dev, target, Ext4, MountOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	conflict := func(a, b sched.Operation) bool {
		for _, x := range a.Resources {
			for _, y := range b.Resources {
				if x.Conflicts(y) {
					return true
				}
			}
		}
		return false
	}
	base := mount(dev1, "/srv/a")
	for _, c := range []struct {
		dev, target string
		want        bool
	}{
		{dev2, "/srv/a", true},
		{dev2, "/srv/a/b", true},
		{dev2, "/srv", true},
		{dev2, "/srv/b", false},
		{dev1, "/srv/b", false}, // the device's filesystem is claimed shared by both
	} {
		if got := conflict(base, mount(c.dev, c.target)); got != c.want {
			t.Errorf("mount %s at /srv/a and %s at %s conflict: %v, want %v", dev1, c.dev, c.target, got, c.want)
		}
	}
}
