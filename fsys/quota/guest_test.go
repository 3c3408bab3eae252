package quota

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// The tests in this file need a kernel with ext4 and xfs quotas
// (CONFIG_QFMT_V2, CONFIG_XFS_QUOTA). The host has neither, so they skip
// there with a plain t.Skip; vmtest.TestGuestQuota runs them in the guest
// under EOS_STORAGE_STRICT=1 and checks that they passed.

const guestTest = "vmtest.TestGuestQuota"

// quotaExt4 makes and mounts an ext4 with user, group and project quotas,
// or skips where the kernel cannot mount one.
func quotaExt4(t testing.TB) (mnt, dev string) {
	t.Helper()
	testenv.RequireRoot(t)
	mnt, dev, err := newFS(t, "ext4", 256*mib, []string{"-q", "-F", "-I", "256", "-O", "quota,project", "-E", "quotatype=usrquota:grpquota:prjquota"}, "usrquota,grpquota,prjquota")
	if err != nil {
		t.Skipf("this kernel cannot mount ext4 with the quota feature (no CONFIG_QFMT_V2): %s runs this", guestTest)
	}
	return mnt, dev
}

func quotaXFS(t testing.TB) (mnt, dev string) {
	t.Helper()
	testenv.RequireRoot(t)
	if _, err := os.Stat("/proc/fs/xfs/xqm"); err != nil {
		testenv.RequireTool(t, "mkfs.xfs") // (so a missing tool is not mistaken for the kernel)
		t.Skipf("this kernel has no xfs quota (no /proc/fs/xfs/xqm, CONFIG_XFS_QUOTA): %s runs this", guestTest)
	}
	mnt, dev, err := newFS(t, "xfs", 300*mib, []string{"-q", "-f"}, "uquota,gquota,pquota")
	if err != nil {
		t.Fatalf("mount xfs -o uquota,gquota,pquota: %s", err.(*exec.ExitError).Stderr)
	}
	return mnt, dev
}

// limitsFor gives every id different limits (KiB multiples, so the
// 1 KiB unit of the kernel interface reads back exactly).
func limitsFor(id uint64) Limits {
	s := (id%97 + 1) * 4096
	return Limits{BlockSoft: s, BlockHard: 2 * s, InodeSoft: id%50 + 1, InodeHard: 2 * (id%50 + 1)}
}

const firstID, nIDs = 10000, 1000

// setMany sets limits for nIDs ids of each kind and reads them back one by
// one with Get.
func setMany(t testing.TB, m *Manager, mnt string) {
	t.Helper()
	for _, k := range []Kind{User, Group, Project} {
		for id := uint64(firstID); id < firstID+nIDs; id++ {
			if err := m.SetLimits(bg, mnt, k, id, limitsFor(id)); err != nil {
				t.Fatalf("SetLimits(%s %d): %v", k, id, err)
			}
		}
		for id := uint64(firstID); id < firstID+nIDs; id++ {
			u, err := m.Get(bg, mnt, k, id)
			if err != nil {
				t.Fatal(err)
			}
			if u.Limits != limitsFor(id) {
				t.Fatalf("Get(%s %d) limits %+v, set %+v", k, id, u.Limits, limitsFor(id))
			}
		}
	}
}

// some usage: files owned by a few ids, and a project directory.
func makeUsage(t *testing.T, m *Manager, mnt string) {
	t.Helper()
	dir := filepath.Join(mnt, "proj")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	// A project id without limits: xfs answers ENOSPC past a project
	// limit, which would stop this setup.
	if err := m.SetProject(bg, dir, 9, true); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(p, bytes.Repeat([]byte{1}, (i+1)*8192), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, firstID+i, firstID+2*i); err != nil {
			t.Fatal(err)
		}
	}
	syscall.Sync()
}

// report is kind -> id -> {block KiB used, soft, hard, inodes used, soft, hard}.
type report map[Kind]map[uint64][6]uint64

func ours(t *testing.T, m *Manager, mnt string) report {
	t.Helper()
	r := report{}
	for _, k := range []Kind{User, Group, Project} {
		us, err := m.List(bg, mnt, k)
		if err != nil {
			t.Fatal(err)
		}
		r[k] = map[uint64][6]uint64{}
		for _, u := range us {
			if u.zero() {
				continue
			}
			r[k][u.ID] = [6]uint64{(u.Bytes + 1023) / 1024, u.Limits.BlockSoft / 1024, u.Limits.BlockHard / 1024, u.Inodes, u.Limits.InodeSoft, u.Limits.InodeHard}
		}
	}
	return r
}

// diff counts mismatches between our report and the tool's.
func diff(t *testing.T, tool string, a, b report) int {
	t.Helper()
	n := 0
	for _, k := range []Kind{User, Group, Project} {
		for id, v := range a[k] {
			if w, ok := b[k][id]; !ok || w != v {
				n++
				if n < 20 {
					t.Errorf("%s %d: ours %v, %s %v (present %v)", k, id, v, tool, w, ok)
				}
			}
		}
		for id, w := range b[k] {
			if _, ok := a[k][id]; !ok {
				n++
				if n < 20 {
					t.Errorf("%s %d: only %s has it: %v", k, id, tool, w)
				}
			}
		}
	}
	return n
}

// parseRepquota reads `repquota -v -u -g -P -n MNT` (blocks in KiB):
//
//	*** Report for user quotas on device /dev/loop0
//	#10000    --       0       4       8              0     1     2
//
// A grace column is there only when the id is over that soft limit and
// the kernel started its timer (root's writes, chown and setquota of a
// limit below the usage do not), so it is recognised by not being a number.
func parseRepquota(out []byte) (report, error) {
	r := report{User: {}, Group: {}, Project: {}}
	var k Kind = -1
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "*** Report for user"):
			k = User
		case strings.HasPrefix(line, "*** Report for group"):
			k = Group
		case strings.HasPrefix(line, "*** Report for project"):
			k = Project
		}
		f := strings.Fields(line)
		if len(f) < 8 || !strings.HasPrefix(f[0], "#") || k < 0 {
			continue
		}
		id, err := strconv.ParseUint(f[0][1:], 10, 32)
		if err != nil || len(f[1]) != 2 {
			return nil, fmt.Errorf("repquota line %q", line)
		}
		nums := []string{f[2], f[3], f[4]}
		rest := f[5:]
		if _, err := strconv.ParseUint(rest[0], 10, 64); err != nil {
			rest = rest[1:] // a block grace ("6days", "none"): only when over soft, and not always then
		}
		if len(rest) < 3 {
			return nil, fmt.Errorf("repquota line %q", line)
		}
		nums = append(nums, rest[:3]...)
		var v [6]uint64
		for i, n := range nums {
			if v[i], err = strconv.ParseUint(n, 10, 64); err != nil {
				return nil, fmt.Errorf("repquota line %q: %v", line, err)
			}
		}
		if v != [6]uint64{} {
			r[k][id] = v
		}
	}
	return r, s.Err()
}

var bracketRE = regexp.MustCompile(`\[[^\]]*\]`)

// parseXFSQuota reads `xfs_quota -x -c 'report -ugp -b -i -n' MNT` (blocks
// in KiB):
//
//	User quota on /mnt (/dev/loop0)
//	#10000       0       4       8  00 [--------]     0     1     2  00 [--------]
func parseXFSQuota(out []byte) (report, error) {
	r := report{User: {}, Group: {}, Project: {}}
	var k Kind = -1
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "User quota on"):
			k = User
		case strings.HasPrefix(line, "Group quota on"):
			k = Group
		case strings.HasPrefix(line, "Project quota on"):
			k = Project
		}
		f := strings.Fields(bracketRE.ReplaceAllString(line, " "))
		if len(f) == 0 || !strings.HasPrefix(f[0], "#") || k < 0 {
			continue
		}
		if len(f) != 9 {
			return nil, fmt.Errorf("xfs_quota line %q", line)
		}
		id, err := strconv.ParseUint(f[0][1:], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("xfs_quota line %q", line)
		}
		var v [6]uint64
		for i, n := range []string{f[1], f[2], f[3], f[5], f[6], f[7]} {
			if v[i], err = strconv.ParseUint(n, 10, 64); err != nil {
				return nil, fmt.Errorf("xfs_quota line %q: %v", line, err)
			}
		}
		if v != [6]uint64{} {
			r[k][id] = v
		}
	}
	return r, s.Err()
}

func repquota(t testing.TB, mnt string) []byte {
	t.Helper()
	return testenv.Run(t, "repquota", "-v", "-u", "-g", "-P", "-n", mnt) // -v: ids without usage too
}

func xfsReport(t testing.TB, mnt string) []byte {
	t.Helper()
	return testenv.Run(t, "xfs_quota", "-x", "-c", "report -ugp -b -i -n", mnt)
}

func TestGuestExt4Quotas(t *testing.T) {
	mnt, _ := quotaExt4(t)
	testenv.RequireTool(t, "repquota", "setquota")
	m := newManager(t)
	for _, k := range []Kind{User, Group, Project} {
		if on, err := m.Enabled(bg, mnt, k); !on || err != nil {
			t.Fatalf("Enabled(%s) = %v, %v", k, on, err)
		}
	}
	setMany(t, m, mnt)
	makeUsage(t, m, mnt)
	// One id set by the peer tool, read by us.
	testenv.Run(t, "setquota", "-u", "77", "100", "200", "3", "4", mnt)
	if u, err := m.Get(bg, mnt, User, 77); err != nil || u.Limits != (Limits{BlockSoft: 100 << 10, BlockHard: 200 << 10, InodeSoft: 3, InodeHard: 4}) {
		t.Errorf("Get(user 77 set by setquota) = %+v, %v", u, err)
	}
	syscall.Sync()
	a := ours(t, m, mnt)
	b, err := parseRepquota(repquota(t, mnt))
	if err != nil {
		t.Fatal(err)
	}
	n := diff(t, "repquota", a, b)
	fmt.Printf("guest: ext4 quotas vs repquota -v -u -g -P: %d user, %d group, %d project ids, %d mismatches\n", len(a[User]), len(a[Group]), len(a[Project]), n)
	if len(a[User]) < nIDs || len(a[Group]) < nIDs || len(a[Project]) < nIDs {
		t.Errorf("List found %d/%d/%d ids, set %d of each", len(a[User]), len(a[Group]), len(a[Project]), nIDs)
	}
	checkGrace(t, m, mnt)
	enforce(t, m, mnt, "ext4")
}

func TestGuestXFSQuotas(t *testing.T) {
	mnt, _ := quotaXFS(t)
	testenv.RequireTool(t, "xfs_quota")
	m := newManager(t)
	for _, k := range []Kind{User, Group, Project} {
		if on, err := m.Enabled(bg, mnt, k); !on || err != nil {
			t.Fatalf("Enabled(%s) = %v, %v", k, on, err)
		}
	}
	e, err := m.Enable(bg, mnt)
	if err != nil || !e.Applied {
		t.Errorf("Enable(xfs mounted with quotas) = %+v, %v", e, err)
	}
	setMany(t, m, mnt)
	makeUsage(t, m, mnt)
	a := ours(t, m, mnt)
	b, err := parseXFSQuota(xfsReport(t, mnt))
	if err != nil {
		t.Fatal(err)
	}
	n := diff(t, "xfs_quota", a, b)
	fmt.Printf("guest: xfs quotas vs xfs_quota report -ugp -b -i: %d user, %d group, %d project ids, %d mismatches\n", len(a[User]), len(a[Group]), len(a[Project]), n)
	checkGrace(t, m, mnt)
	enforce(t, m, mnt, "xfs")
}

func checkGrace(t *testing.T, m *Manager, mnt string) {
	t.Helper()
	for _, k := range []Kind{User, Group, Project} {
		want := Grace{Block: 3 * time.Hour, Inode: 90 * time.Minute}
		if err := m.SetGrace(bg, mnt, k, want); err != nil {
			t.Fatalf("SetGrace(%s): %v", k, err)
		}
		if g, err := m.GetGrace(bg, mnt, k); err != nil || g != want {
			t.Errorf("GetGrace(%s) = %v, %v; set %v", k, g, err, want)
		}
	}
}

// enforce: a non-root writer past its user hard limit gets EDQUOT, and so
// does one past a project directory's limit; root's fate past the project
// limit is printed (ext4's VFS quota lets CAP_SYS_RESOURCE past every
// limit; xfs enforces project limits on root too).
func enforce(t *testing.T, m *Manager, mnt, fs string) {
	t.Helper()
	const uid, puid, projid = 20001, 20002, 20003
	// t.TempDir makes 0700 directories: let the other uids reach the mount.
	for d := filepath.Dir(mnt); d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	open := filepath.Join(mnt, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	if err := m.SetLimits(bg, mnt, User, uid, Limits{BlockHard: mib}); err != nil {
		t.Fatal(err)
	}
	got := writeAs(t, &syscall.Credential{Uid: uid, Gid: uid}, filepath.Join(open, "u"), 4*mib)
	fmt.Printf("guest: %s uid %d past a 1 MiB user hard limit: errno=%s\n", fs, uid, got)
	if got != "EDQUOT" {
		t.Errorf("%s: uid %d writing 4 MiB under a 1 MiB hard limit: errno %s, want EDQUOT", fs, uid, got)
	}
	u, err := m.Get(bg, mnt, User, uid)
	if err != nil || !u.OverHardBlocks && u.Bytes < mib-64<<10 {
		t.Errorf("Get after the write: %+v, %v", u, err)
	}
	pdir := filepath.Join(mnt, "tenant")
	if err := os.Mkdir(pdir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(pdir, 0o777)
	if err := m.SetProject(bg, pdir, projid, true); err != nil {
		t.Fatal(err)
	}
	if err := m.SetLimits(bg, mnt, Project, projid, Limits{BlockHard: mib}); err != nil {
		t.Fatal(err)
	}
	got = writeAs(t, &syscall.Credential{Uid: puid, Gid: puid}, filepath.Join(pdir, "p"), 4*mib)
	fmt.Printf("guest: %s uid %d past a 1 MiB project hard limit: errno=%s\n", fs, puid, got)
	// xfs reports a project limit as ENOSPC (the directory tree looks
	// full, as df inside it says), ext4 as EDQUOT.
	want := "EDQUOT"
	if fs == "xfs" {
		want = "ENOSPC"
	}
	if got != want {
		t.Errorf("%s: uid %d writing 4 MiB in a project directory limited to 1 MiB: errno %s, want %s", fs, puid, got, want)
	}
	got = writeAs(t, nil, filepath.Join(pdir, "root"), 4*mib)
	fmt.Printf("guest: %s root past a 1 MiB project hard limit: errno=%s\n", fs, got)
}

func TestParseReports(t *testing.T) {
	rq := []byte(`*** Report for user quotas on device /dev/loop0
Block grace time: 7days; Inode grace time: 7days
                        Block limits                File limits
User            used    soft    hard  grace    used  soft  hard  grace
----------------------------------------------------------------------
#0        --      20       0       0              2     0     0
#10000    +-      12       4       8  6days       1     1     2
#10001    -+       0       4       8              3     1     2  6days
#10002    ++     121      52     104              6     4     8

*** Report for project quotas on device /dev/loop0
#10003    --      40       0       0              5     0     0
`)
	r, err := parseRepquota(rq)
	if err != nil {
		t.Fatal(err)
	}
	if r[User][10000] != [6]uint64{12, 4, 8, 1, 1, 2} || r[User][10001] != [6]uint64{0, 4, 8, 3, 1, 2} || r[Project][10003] != [6]uint64{40, 0, 0, 5, 0, 0} || r[User][10002] != [6]uint64{121, 52, 104, 6, 4, 8} || len(r[User]) != 4 {
		t.Errorf("parseRepquota = %v", r)
	}
	xq := []byte(`User quota on /mnt (/dev/loop0)
                               Blocks                                          Inodes
User ID          Used       Soft       Hard    Warn/Grace           Used       Soft       Hard    Warn/ Grace
---------- -------------------------------------------------- --------------------------------------------------
#0                  0          0          0     00 [--------]          3          0          0     00 [--------]
#10000             12          4          8     00  [6 days]           1          1          2     00 [--------]
`)
	x, err := parseXFSQuota(xq)
	if err != nil {
		t.Fatal(err)
	}
	if x[User][10000] != [6]uint64{12, 4, 8, 1, 1, 2} || x[User][0] != [6]uint64{0, 0, 0, 3, 0, 0} {
		t.Errorf("parseXFSQuota = %v", x)
	}
	if _, err := parseRepquota([]byte("*** Report for user\n#x -- 1 2 3 4 5 6\n")); err == nil {
		t.Error("bad repquota id accepted")
	}
}

func FuzzParseReports(f *testing.F) {
	f.Add([]byte("*** Report for user quotas\n#1 +- 1 2 3 6days 4 5 6\n"))
	f.Add([]byte("User quota on /m (/dev/x)\n#1 1 2 3 00 [--------] 4 5 6 00 [--------]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseRepquota(b)
		parseXFSQuota(b)
	})
}
