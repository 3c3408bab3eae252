package quota

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const mib = 1 << 20

// A plain ext4 (no quota feature) answers quotactl with ESRCH: that is
// "not enabled", never an empty report.
func TestExt4WithoutQuotas(t *testing.T) {
	mnt, _ := mustFS(t, "ext4", 64*mib, []string{"-q", "-F"}, "")
	m := newManager(t)
	for _, k := range []Kind{User, Group, Project} {
		_, err := m.List(bg, mnt, k)
		var ue *UnavailableError
		if !errors.As(err, &ue) || !errors.Is(err, ErrNotSupported) {
			t.Fatalf("List(%s) = %v, want *UnavailableError", k, err)
		}
		if !errors.Is(err, ErrNotEnabled) {
			t.Errorf("List(%s) = %v: want not enabled (ESRCH)", k, err)
		}
		if on, err := m.Enabled(bg, mnt, k); on || err != nil {
			t.Errorf("Enabled(%s) = %v, %v", k, on, err)
		}
		if err := m.SetLimits(bg, mnt, k, 1000, Limits{BlockHard: mib}); !errors.Is(err, ErrNotEnabled) {
			t.Errorf("SetLimits(%s) = %v", k, err)
		}
		if _, err := m.GetGrace(bg, mnt, k); !errors.Is(err, ErrNotSupported) {
			t.Errorf("GetGrace(%s) = %v", k, err)
		}
	}
	if _, err := m.List(bg, mnt, Subvolume); !errors.Is(err, ErrNotSupported) || errors.Is(err, ErrNotEnabled) {
		t.Errorf("List(subvolume) on ext4 = %v", err)
	}
	if _, err := m.Enable(bg, mnt); !errors.Is(err, ErrBusy) {
		t.Errorf("Enable(mounted ext4 without quotas) = %v, want ErrBusy", err)
	}
	if _, err := m.List(bg, "/proc", User); !errors.Is(err, ErrNotSupported) {
		t.Errorf("List(/proc) = %v", err)
	}
}

// An xfs mounted without quota options: on a kernel without
// CONFIG_XFS_QUOTA it is not supported, on one with it not enabled; with
// -o pquota a kernel without xfs quota refuses the mount.
func TestXFSWithoutQuotas(t *testing.T) {
	mnt, _ := mustFS(t, "xfs", 300*mib, []string{"-q", "-f"}, "")
	m := newManager(t)
	_, err := m.Get(bg, mnt, User, 0)
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Get on xfs without quota = %v", err)
	}
	_, xqm := os.Stat("/proc/fs/xfs/xqm")
	if (xqm == nil) != errors.Is(err, ErrNotEnabled) {
		t.Errorf("kernel xfs quota present %v, but the error is %v", xqm == nil, err)
	}
	t.Logf("xfs without quota: %v", err)
}

// Enable on an unmounted ext4 sets the quota and project features for
// real (tune2fs); whether it then mounts depends on CONFIG_QFMT_V2.
func TestEnableExt4Device(t *testing.T) {
	testenv.RequireTool(t, "tune2fs", "dumpe2fs")
	mnt, dev := mustFS(t, "ext4", 64*mib, []string{"-q", "-F", "-I", "256"}, "")
	testenv.Run(t, "umount", mnt)
	m := newManager(t)
	e, err := m.Enable(bg, dev)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Applied || e.FSType != "ext4" {
		t.Errorf("Enable = %+v", e)
	}
	out := string(testenv.Run(t, "dumpe2fs", "-h", dev))
	for _, f := range []string{"quota", "project"} {
		if !strings.Contains(featureLine(out), " "+f) {
			t.Errorf("feature %s missing after Enable:\n%s", f, featureLine(out))
		}
	}
	if err := exec.Command("mount", "-t", "ext4", dev, mnt).Run(); err != nil {
		t.Logf("this kernel cannot mount ext4 with the quota feature (no CONFIG_QFMT_V2): %v", err)
		return
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	if on, err := m.Enabled(bg, mnt, User); !on || err != nil {
		t.Errorf("after Enable and mount: Enabled = %v, %v", on, err)
	}
}

func featureLine(dump string) string {
	for _, l := range strings.Split(dump, "\n") {
		if strings.HasPrefix(l, "Filesystem features:") {
			return l
		}
	}
	return ""
}

// Project ids on directories work on ext4 (project feature) and xfs without
// quota accounting; btrfs refuses them.
func TestProjectIDs(t *testing.T) {
	m := newManager(t)
	for _, c := range []struct {
		fstype string
		size   int64
		mkfs   []string
	}{
		{"ext4", 64 * mib, []string{"-q", "-F", "-I", "256", "-O", "project"}},
		{"xfs", 300 * mib, []string{"-q", "-f"}},
	} {
		t.Run(c.fstype, func(t *testing.T) {
			mnt, _, err := newFS(t, c.fstype, c.size, c.mkfs, "")
			if err != nil && c.fstype == "ext4" {
				// mkfs.ext4 -O project also sets the quota feature, which
				// needs CONFIG_QFMT_V2 to mount.
				t.Skipf("this kernel cannot mount ext4 with the project feature (no CONFIG_QFMT_V2); the VM tier runs this (vmtest.TestGuestQuota)")
			}
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(mnt, "tenant")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := m.SetProject(bg, dir, 4242, true); err != nil {
				t.Fatal(err)
			}
			p, err := m.GetProject(bg, dir)
			if err != nil || p != (ProjectAttr{ID: 4242, Inherit: true}) {
				t.Fatalf("GetProject = %+v, %v", p, err)
			}
			sub := filepath.Join(dir, "a", "b")
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "f"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{sub, filepath.Join(sub, "f")} {
				got, err := m.GetProject(bg, p)
				if err != nil || got.ID != 4242 {
					t.Errorf("%s inherited %+v, %v", p, got, err)
				}
			}
			if _, err := testenv.LookTool("lsattr"); err == nil {
				out := testenv.Run(t, "lsattr", "-p", "-d", dir)
				if f := strings.Fields(string(out)); len(f) == 0 || f[0] != "4242" {
					t.Errorf("lsattr -p says %q, GetProject 4242", out)
				}
			}
			if err := m.SetProject(bg, dir, 7, false); err != nil {
				t.Fatal(err)
			}
			if p, _ := m.GetProject(bg, dir); p != (ProjectAttr{ID: 7}) {
				t.Errorf("after SetProject(7, no inherit): %+v", p)
			}
		})
	}
	t.Run("btrfs", func(t *testing.T) {
		mnt, _ := mustFS(t, "btrfs", 200*mib, []string{"-q", "-f"}, "")
		err := m.SetProject(bg, mnt, 5, true)
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("SetProject on btrfs = %v", err)
		}
	})
}

// btrfs qgroups for real: Enable online, a 1 MiB limit on a subvolume,
// EDQUOT past it, and List/Get equal to `btrfs qgroup show -re --raw`.
func TestBtrfsQgroups(t *testing.T) {
	testenv.RequireTool(t, "btrfs")
	mnt, _ := mustFS(t, "btrfs", 200*mib, []string{"-q", "-f"}, "")
	m := newManager(t)
	if _, err := m.List(bg, mnt, Subvolume); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("List before Enable = %v, want not enabled", err)
	}
	if _, err := m.List(bg, mnt, User); !errors.Is(err, ErrNotSupported) || errors.Is(err, ErrNotEnabled) {
		t.Errorf("user quotas on btrfs = %v", err)
	}
	vols := []string{"a", "b", "c"}
	for _, v := range vols {
		testenv.Run(t, "btrfs", "-q", "subvolume", "create", filepath.Join(mnt, v))
	}
	e, err := m.Enable(bg, mnt)
	if err != nil || !e.Applied {
		t.Fatalf("Enable = %+v, %v", e, err)
	}
	id, err := m.SubvolumeID(bg, filepath.Join(mnt, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetLimits(bg, mnt, Subvolume, id, Limits{BlockHard: mib}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetLimits(bg, mnt, Subvolume, id, Limits{BlockHard: mib, BlockSoft: 1}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("soft limit on btrfs = %v", err)
	}
	if _, err := m.GetGrace(bg, mnt, Subvolume); !errors.Is(err, ErrNotSupported) {
		t.Errorf("grace on btrfs = %v", err)
	}
	if got := writeAs(t, nil, filepath.Join(mnt, "a", "big"), 4*mib); got != "EDQUOT" {
		t.Errorf("writing 4 MiB under a 1 MiB qgroup limit: errno %s, want EDQUOT", got)
	}
	if got := writeAs(t, nil, filepath.Join(mnt, "b", "big"), 2*mib); got != "none" {
		t.Errorf("writing 2 MiB to an unlimited subvolume: errno %s", got)
	}
	testenv.Run(t, "btrfs", "filesystem", "sync", mnt)
	u, err := m.Get(bg, mnt, Subvolume, id)
	if err != nil {
		t.Fatal(err)
	}
	if u.Limits.BlockHard != mib || u.Bytes == 0 || u.Bytes > mib+64<<10 {
		t.Errorf("Get(a) = %+v", u)
	}
	list, err := m.List(bg, mnt, Subvolume)
	if err != nil {
		t.Fatal(err)
	}
	show := btrfsShow(t, mnt)
	mismatches := 0
	for _, u := range list {
		w, ok := show[u.ID]
		if !ok || w != [2]uint64{u.Bytes, u.Limits.BlockHard} {
			mismatches++
			t.Errorf("qgroup 0/%d: ours rfer %d max %d, btrfs qgroup show %v (present %v)", u.ID, u.Bytes, u.Limits.BlockHard, w, ok)
		}
	}
	if len(list) != len(show) {
		mismatches++
		t.Errorf("%d level-0 qgroups listed, btrfs qgroup show has %d", len(list), len(show))
	}
	t.Logf("btrfs qgroups vs `btrfs qgroup show -re --raw`: %d ids, %d mismatches", len(list), mismatches)
}

// btrfsShow parses `btrfs qgroup show -re --raw`: level-0 qgroup id ->
// {rfer, max_rfer (0 for none)}.
func btrfsShow(t testing.TB, mnt string) map[uint64][2]uint64 {
	t.Helper()
	out := testenv.Run(t, "btrfs", "qgroup", "show", "-re", "--raw", mnt)
	res := map[uint64][2]uint64{}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 5 || !strings.HasPrefix(f[0], "0/") {
			continue
		}
		id, err1 := strconv.ParseUint(f[0][2:], 10, 64)
		rfer, err2 := strconv.ParseUint(f[1], 10, 64)
		var max uint64
		var err3 error
		if f[3] != "none" {
			max, err3 = strconv.ParseUint(f[3], 10, 64)
		}
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("btrfs qgroup show line %q", s.Text())
		}
		res[id] = [2]uint64{rfer, max}
	}
	return res
}
