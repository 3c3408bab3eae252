package superblock

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// xfsCases are the mkfs.xfs variants the differential test makes: block
// sizes, sector size, v4, the v5 btree features, labels, AG counts.
var xfsCases = []struct {
	name string
	size int64
	args []string
}{
	{"default", 300 << 20, nil},
	{"b1024", 300 << 20, []string{"-b", "size=1024"}},
	{"b65536", 600 << 20, []string{"-b", "size=65536"}},
	{"s4096", 300 << 20, []string{"-s", "size=4096"}},
	{"v4", 300 << 20, []string{"-m", "crc=0", "-L", "v4label"}},
	{"v4-noftype", 300 << 20, []string{"-m", "crc=0", "-n", "ftype=0", "-i", "size=256"}},
	{"reflink-rmap-bigtime", 300 << 20, []string{"-m", "reflink=1,rmapbt=1,bigtime=1", "-L", "twelve_chars"}},
	{"nofinobt-inode1024", 300 << 20, []string{"-m", "finobt=0", "-i", "size=1024"}},
	{"nrext64-ascii-ci", 300 << 20, []string{"-i", "nrext64=1", "-n", "version=ci"}},
	{"agcount2", 300 << 20, []string{"-d", "agcount=2"}},
	{"agcount200", 16 << 30, []string{"-d", "agcount=200", "-l", "size=64m", "-L", "many"}},
	{"sunit", 1 << 30, []string{"-d", "su=64k,sw=4"}},
}

// TestXFSAgainstTools makes each variant on a loop device and compares
// every superblock field with xfs_db, the flags and geometry with
// xfs_info, the identity with blkid -p, and the log state with
// xfs_logprint.
func TestXFSAgainstTools(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs", "xfs_db", "xfs_info", "xfs_logprint", "blkid")
	for _, c := range xfsCases {
		t.Run(c.name, func(t *testing.T) {
			dev := testenv.Loop(t, c.size)
			out, err := testenv.RunErr("mkfs.xfs", append([]string{"-q", "-f"}, append(c.args, dev)...)...)
			if err != nil {
				t.Fatalf("mkfs.xfs %v: %v %s", c.args, err, out)
			}
			x := xfsReadDev(t, dev)
			xfsCompareDB(t, x, xfsDBPrint(t, dev))
			xfsCompareInfo(t, x, string(testenv.Run(t, "xfs_info", dev)))
			xfsCompareBlkid(t, x.Super(), xfsBlkid(t, dev))
			if got, want := x.Log.State, xfsLogprintState(t, dev); got != want {
				t.Errorf("log state %s (%+v), xfs_logprint says %s", got, x.Log, want)
			}
			if s := x.Super(); s.State != StateClean {
				t.Errorf("fresh filesystem: State %s", s.State)
			}
		})
	}
}

// TestXFSExternalLog: with the log on another device, sb_logstart is 0;
// the log is not read and the state is clean (unknown to the superblock).
func TestXFSExternalLog(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs", "blkid", "xfs_db")
	dev, logdev := testenv.Loop(t, 300<<20), testenv.Loop(t, 64<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-f", "-l", "logdev="+logdev, "-L", "extlog", dev)
	x := xfsReadDev(t, dev)
	if x.Logstart != 0 || x.Log.State != XFSLogExternal || x.Super().State != StateClean || x.Fname != "extlog" {
		t.Errorf("external log: logstart %d, log %+v, State %s", x.Logstart, x.Log, x.Super().State)
	}
	xfsCompareBlkid(t, x.Super(), xfsBlkid(t, dev))
	if db := xfsDBPrint(t, dev); db["logstart"] != "0" || db["logblocks"] != strconv.FormatUint(uint64(x.Logblocks), 10) {
		t.Errorf("xfs_db logstart %s logblocks %s; ours %d %d", db["logstart"], db["logblocks"], x.Logstart, x.Logblocks)
	}
}

func xfsReadDev(t testing.TB, dev string) *XFS {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Seek(0, 2)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ReadXFS(f, size)
	if err != nil {
		t.Fatalf("ReadXFS %s: %v", dev, err)
	}
	return x
}

// xfsDBPrint parses `xfs_db -r -c sb -c print`'s "field = value" lines.
func xfsDBPrint(t testing.TB, dev string) map[string]string {
	t.Helper()
	out := testenv.Run(t, "xfs_db", "-r", "-c", "sb", "-c", "print", dev)
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if len(m) < 40 {
		t.Fatalf("xfs_db printed %d fields:\n%s", len(m), out)
	}
	return m
}

// xfsDBHex formats a flag word as xfs_db does: 0, or 0x-prefixed hex.
func xfsDBHex(n uint64) string {
	if n == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x", n)
}

// xfsDBString decodes xfs_db's quoted label with \ooo octal escapes.
func xfsDBString(s string) string {
	s = strings.Trim(s, `"`)
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b = append(b, byte(n))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return xfsCString(b)
}

func xfsCompareDB(t *testing.T, x *XFS, db map[string]string) {
	t.Helper()
	d := func(n uint64) string { return strconv.FormatUint(n, 10) }
	want := map[string]string{
		"blocksize": d(uint64(x.Blocksize)), "dblocks": d(x.Dblocks), "rblocks": d(x.Rblocks),
		"rextents": d(x.Rextents), "uuid": x.UUID, "logstart": d(x.Logstart), "rootino": d(x.Rootino),
		"rbmino": d(x.Rbmino), "rsumino": d(x.Rsumino), "rextsize": d(uint64(x.Rextsize)),
		"agblocks": d(uint64(x.Agblocks)), "agcount": d(uint64(x.Agcount)), "rbmblocks": d(uint64(x.Rbmblocks)),
		"logblocks": d(uint64(x.Logblocks)), "versionnum": xfsDBHex(uint64(x.Versionnum)),
		"sectsize": d(uint64(x.Sectsize)), "inodesize": d(uint64(x.Inodesize)), "inopblock": d(uint64(x.Inopblock)),
		"blocklog": d(uint64(x.Blocklog)), "sectlog": d(uint64(x.Sectlog)), "inodelog": d(uint64(x.Inodelog)),
		"inopblog": d(uint64(x.Inopblog)), "agblklog": d(uint64(x.Agblklog)), "rextslog": d(uint64(x.Rextslog)),
		"inprogress": d(uint64(x.Inprogress)), "imax_pct": d(uint64(x.ImaxPct)), "icount": d(x.Icount),
		"ifree": d(x.Ifree), "fdblocks": d(x.Fdblocks), "frextents": d(x.Frextents),
		"uquotino": xfsDBIno(x.Uquotino), "gquotino": xfsDBIno(x.Gquotino), "qflags": xfsDBHex(uint64(x.Qflags)),
		"flags": xfsDBHex(uint64(x.Flags)), "shared_vn": d(uint64(x.SharedVN)), "inoalignmt": d(uint64(x.Inoalignmt)),
		"unit": d(uint64(x.Unit)), "width": d(uint64(x.Width)), "dirblklog": d(uint64(x.Dirblklog)),
		"logsectlog": d(uint64(x.Logsectlog)), "logsectsize": d(uint64(x.Logsectsize)), "logsunit": d(uint64(x.Logsunit)),
		"features2": xfsDBHex(uint64(x.Features2)), "bad_features2": xfsDBHex(uint64(x.BadFeatures2)),
	}
	if x.Version() == 5 {
		want["features_compat"] = xfsDBHex(uint64(x.FeaturesCompat))
		want["features_ro_compat"] = xfsDBHex(uint64(x.FeaturesROCompat))
		want["features_incompat"] = xfsDBHex(uint64(x.FeaturesIncompat))
		want["features_log_incompat"] = xfsDBHex(uint64(x.FeaturesLogIncompat))
		want["crc"] = fmt.Sprintf("%#x (correct)", x.CRC)
		want["spino_align"] = d(uint64(x.SpinoAlign))
		want["pquotino"] = xfsDBIno(x.Pquotino)
		want["lsn"] = xfsDBHex(x.LSN)
		want["meta_uuid"] = x.MetaUUID
	}
	for k, w := range want {
		got, ok := db[k]
		if !ok {
			t.Errorf("xfs_db printed no %s (we have %s)", k, w)
			continue
		}
		if got != w {
			t.Errorf("%s: ours %s, xfs_db %s", k, w, got)
		}
	}
	if got := xfsDBString(db["fname"]); got != x.Fname {
		t.Errorf("fname: ours %q, xfs_db %q (%s)", x.Fname, got, db["fname"])
	}
}

// xfsDBIno prints a quota inode as xfs_db does: null for NULLFSINO.
func xfsDBIno(n uint64) string {
	if n == 1<<64-1 {
		return "null"
	}
	return strconv.FormatUint(n, 10)
}

// xfsInfoFields parses xfs_info's report into "section.key" -> value; a
// continuation line ("         =") belongs to the section above it.
func xfsInfoFields(out string) map[string]string {
	m := map[string]string{}
	sec := ""
	for _, line := range strings.Split(out, "\n") {
		head, rest, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if h := strings.TrimSpace(head); h != "" {
			sec = h
		}
		for _, tok := range strings.Fields(rest) {
			k, v, ok := strings.Cut(strings.TrimSuffix(tok, ","), "=")
			if ok {
				m[sec+"."+k] = v
			}
		}
	}
	return m
}

func xfsCompareInfo(t *testing.T, x *XFS, out string) {
	t.Helper()
	m := xfsInfoFields(out)
	logSect := uint64(x.Logsectsize)
	if logSect == 0 {
		logSect = 512
	}
	d := func(n uint64) string { return strconv.FormatUint(n, 10) }
	want := map[string]string{
		"meta-data.isize":   d(uint64(x.Inodesize)),
		"meta-data.agcount": d(uint64(x.Agcount)),
		"meta-data.agsize":  d(uint64(x.Agblocks)),
		"meta-data.sectsz":  d(uint64(x.Sectsize)),
		"data.bsize":        d(uint64(x.Blocksize)),
		"data.blocks":       d(x.Dblocks),
		"data.imaxpct":      d(uint64(x.ImaxPct)),
		"data.sunit":        d(uint64(x.Unit)),
		"data.swidth":       d(uint64(x.Width)),
		"naming.bsize":      d(uint64(x.Blocksize) << x.Dirblklog),
		"log.blocks":        d(uint64(x.Logblocks)),
		"log.version":       d(uint64(x.LogVersion())),
		"log.sectsz":        d(logSect),
	}
	for k, w := range want {
		if got, ok := m[k]; !ok || got != w {
			t.Errorf("xfs_info %s: ours %s, xfs_info %q (present %v)", k, w, got, ok)
		}
	}
	seen := 0
	for _, f := range x.InfoFlags() {
		for _, sec := range []string{"meta-data", "naming", "log"} {
			if got, ok := m[sec+"."+f.Name]; ok {
				seen++
				if got != strconv.Itoa(f.Value) {
					t.Errorf("xfs_info %s=%s, ours %d", f.Name, got, f.Value)
				}
			}
		}
	}
	if seen < 12 {
		t.Errorf("only %d of our flags found in xfs_info:\n%s", seen, out)
	}
}

// xfsBlkid parses blkid -p -o export.
func xfsBlkid(t testing.TB, dev string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(string(testenv.Run(t, "blkid", "-p", "-o", "export", dev)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = xfsShellUnescape(v)
		}
	}
	return m
}

// xfsShellUnescape undoes the backslashes blkid -o export puts before
// characters a shell would split on.
func xfsShellUnescape(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func xfsCompareBlkid(t *testing.T, s Super, m map[string]string) {
	t.Helper()
	if m["TYPE"] != s.Type || m["UUID"] != s.UUID || m["LABEL"] != s.Label {
		t.Errorf("blkid TYPE=%s UUID=%s LABEL=%q; ours %s %s %q", m["TYPE"], m["UUID"], m["LABEL"], s.Type, s.UUID, s.Label)
	}
	if v, ok := m["VERSION"]; ok {
		t.Errorf("blkid now reports VERSION=%s for xfs; Super.Version is %s", v, s.Version)
	}
	if m["BLOCK_SIZE"] != strconv.FormatInt(s.SectorSize, 10) {
		t.Errorf("blkid BLOCK_SIZE=%s, our sector size %d", m["BLOCK_SIZE"], s.SectorSize)
	}
}

// xfsLogprintState reads "state: <CLEAN>" from xfs_logprint -t.
func xfsLogprintState(t testing.TB, dev string) XFSLogState {
	t.Helper()
	out := string(testenv.Run(t, "xfs_logprint", "-t", dev))
	switch {
	case strings.Contains(out, "state: <CLEAN>"):
		return XFSLogClean
	case strings.Contains(out, "state: <DIRTY>"):
		return XFSLogDirty
	}
	t.Fatalf("xfs_logprint -t gave no state:\n%s", out)
	return ""
}

// TestXFSDirtyLog shuts a mounted filesystem down after writing (the log
// keeps the transactions; nothing is written back), so the log is dirty:
// xfs_logprint and xfs_repair -n say so, and so must State. Mounting again
// replays the log and the state is clean.
func TestXFSDirtyLog(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs", "xfs_io", "xfs_logprint", "xfs_repair", "mount", "umount")
	dev := testenv.Loop(t, 300<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-f", dev)
	mnt := t.TempDir()
	testenv.Run(t, "mount", dev, mnt)
	mounted := true
	t.Cleanup(func() {
		if mounted {
			testenv.RunErr("umount", mnt)
		}
	})
	for i := 0; i < 20; i++ {
		if err := os.Mkdir(filepath.Join(mnt, fmt.Sprint("d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(mnt, "f"), bytes.Repeat([]byte("x"), 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "sync")
	testenv.Run(t, "xfs_io", "-x", "-c", "shutdown", mnt)
	testenv.Run(t, "umount", mnt)
	mounted = false

	x := xfsReadDev(t, dev)
	if want := xfsLogprintState(t, dev); want != XFSLogDirty {
		t.Fatalf("xfs_logprint says %s after a shutdown; the test did not make a dirty log", want)
	}
	if x.Log.State != XFSLogDirty || x.Super().State != StateNeedsRecovery {
		t.Errorf("after shutdown: log %+v, State %s; want dirty, needs_recovery", x.Log, x.Super().State)
	}
	// xfs_repair -n finds the log dirty: it says so (and exits 1 because
	// it then sees the unreplayed metadata as inconsistencies).
	_, err := testenv.RunErr("xfs_repair", "-n", dev)
	if err == nil || !strings.Contains(err.Error(), "valuable metadata changes in a log") {
		t.Errorf("xfs_repair -n on the dirty log: %v", err)
	}

	testenv.Run(t, "mount", dev, mnt)
	mounted = true
	testenv.Run(t, "umount", mnt)
	mounted = false
	x = xfsReadDev(t, dev)
	// A mounted v5 superblock has a real lsn and counters: compare again.
	xfsCompareDB(t, x, xfsDBPrint(t, dev))
	if x.Log.State != XFSLogClean || x.Super().State != StateClean || xfsLogprintState(t, dev) != XFSLogClean {
		t.Errorf("after replay: log %+v, State %s", x.Log, x.Super().State)
	}
}

// TestXFSDamaged damages a real superblock field by field: each must give
// a *CorruptError naming the field, or ErrNotFound without the magic.
func TestXFSDamaged(t *testing.T) {
	img := xfsSeedImage(t)
	for _, c := range []struct {
		name  string
		off   int
		b     []byte
		field string
	}{
		{"magic", 0, []byte("XFSC"), ""},
		{"crc", 224, []byte{1, 2, 3, 4}, "sb_crc"},
		{"version", 100, []byte{0xb4, 0xa7}, "sb_versionnum"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), img...)
			copy(b[c.off:], c.b)
			_, err := ReadXFS(bytes.NewReader(b), int64(len(b)))
			xfsWantErr(t, err, c.field)
		})
	}
	// Fields under the checksum: fix the crc so the geometry check is
	// what fails.
	for _, c := range []struct {
		name, field string
		off         int
		b           []byte
	}{
		{"blocksize", "sb_blocksize", 4, []byte{0, 0, 0x30, 0}},
		{"sectsize", "sb_sectsize", 102, []byte{0x03, 0}},
		{"agcount", "sb_agblocks", 88, []byte{0, 0, 0, 0}},
		{"dblocks", "sb_dblocks", 8, []byte{0, 0, 0, 1, 0, 0, 0, 0}},
		{"inodesize", "sb_inodesize", 104, []byte{0, 100}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := append([]byte(nil), img...)
			copy(b[c.off:], c.b)
			xfsFixCRC(b)
			_, err := ReadXFS(bytes.NewReader(b), int64(len(b)))
			xfsWantErr(t, err, c.field)
		})
	}
	t.Run("short", func(t *testing.T) {
		_, err := ReadXFS(bytes.NewReader(img[:300]), 300)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("300 bytes: %v, want ErrNotFound", err)
		}
	})
}

func xfsWantErr(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
		return
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Field != field || ce.Type != "xfs" {
		t.Errorf("err %v, want a *CorruptError on %s", err, field)
	}
}

func xfsFixCRC(b []byte) {
	c := xfsSBChecksum(b[:512])
	b[224], b[225], b[226], b[227] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
}
