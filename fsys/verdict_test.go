package fsys

import "testing"

// TestExtVerdict walks e2fsck(8)'s exit table, bit by bit and combined.
func TestExtVerdict(t *testing.T) {
	cases := []struct {
		code int
		out  string
		want Verdict
	}{
		{0, "", VerdictClean},
		{1, "", VerdictFixed},
		{2, "", VerdictRebootNeeded},
		{3, "", VerdictRebootNeeded}, // 1|2: fixed, reboot
		{4, "", VerdictErrorsLeft},
		{5, "", VerdictErrorsLeft}, // some fixed, some left
		{4, "Warning: skipping journal recovery because doing a read-only filesystem check.", VerdictDirtyLog},
		{0, "Warning: skipping journal recovery because doing a read-only filesystem check.", VerdictDirtyLog},
		{8, "Warning: skipping journal recovery because doing a read-only filesystem check.", VerdictFailed},
		{8, "", VerdictFailed},
		{12, "", VerdictFailed},
		{16, "", VerdictFailed},
		{32, "", VerdictCancelled},
		{33, "", VerdictCancelled},
		{36, "", VerdictCancelled},
		{128, "", VerdictFailed},
		{64, "", VerdictFailed}, // undefined bit (found by FuzzVerdicts)
		{-1, "", VerdictFailed},
		{256, "", VerdictFailed},
	}
	for _, c := range cases {
		if got := extVerdict(c.code, c.out); got != c.want {
			t.Errorf("extVerdict(%d, %q) = %s, want %s", c.code, c.out, got, c.want)
		}
	}
}

func TestXFSVerdict(t *testing.T) {
	alert := "ALERT: The filesystem has valuable metadata changes in a log which is being\nignored because the -n option was used."
	refuse := "ERROR: The filesystem has valuable metadata changes in a log which needs to\nbe replayed.  Mount the filesystem to replay the log, and unmount it before"
	destroyed := "ALERT: The filesystem has valuable metadata changes in a log which is being\ndestroyed because the -L option was used."
	cases := []struct {
		code int
		mode CheckMode
		out  string
		want Verdict
	}{
		{0, CheckReadOnly, "", VerdictClean},
		{1, CheckReadOnly, "", VerdictErrorsLeft},
		{1, CheckReadOnly, alert, VerdictDirtyLog},
		{2, CheckReadOnly, "", VerdictFailed},
		{0, CheckRepair, "", VerdictClean},
		{4, CheckRepair, "", VerdictFixed},
		{2, CheckRepair, refuse, VerdictDirtyLog},
		{2, CheckRepair, "", VerdictDirtyLog},
		{1, CheckRepair, "fatal error -- couldn't initialize XFS library", VerdictFailed},
		{4, CheckReadOnly, "", VerdictFailed},
		{4, CheckRepair, destroyed, VerdictFixed},
		{0, CheckRepair, destroyed, VerdictClean},
	}
	for _, c := range cases {
		if got := xfsVerdict(c.code, c.mode, c.out); got != c.want {
			t.Errorf("xfsVerdict(%d, %v, %q) = %s, want %s", c.code, c.mode, c.out, got, c.want)
		}
	}
}

func TestBtrfsVerdict(t *testing.T) {
	cases := []struct {
		code int
		mode CheckMode
		out  string
		want Verdict
	}{
		{0, CheckReadOnly, "no error found", VerdictClean},
		{1, CheckReadOnly, "ERROR: errors found in fs roots\nfound 131072 bytes used, error(s) found", VerdictErrorsLeft},
		{1, CheckReadOnly, "ERROR: cannot open file system", VerdictFailed},
		{1, CheckReadOnly, "checksum verify failed on 5865472 wanted 0x30001415 found 0x9f02ec11\nERROR: cannot open file system", VerdictErrorsLeft},
		{0, CheckRepair, "no error found", VerdictClean},
		{0, CheckRepair, "Fixed the nlink of inode 260\nfound 851968 bytes used, no error found\nFixed 0 roots.", VerdictFixed},
		{0, CheckRepair, "found 851968 bytes used, no error found\nFixed 0 roots.", VerdictClean},
		{0, CheckRepair, "Fixed 1 roots.", VerdictFixed},
		{0, CheckRepair, "repaired damaged extent references", VerdictFixed},
		{0, CheckReadOnly, "Fixed the nlink of inode 260", VerdictClean},
		{1, CheckRepair, "found 1 errors", VerdictErrorsLeft},
	}
	for _, c := range cases {
		if got := btrfsVerdict(c.code, c.mode, c.out); got != c.want {
			t.Errorf("btrfsVerdict(%d, %v, %q) = %s, want %s", c.code, c.mode, c.out, got, c.want)
		}
	}
}

func TestFatVerdict(t *testing.T) {
	cases := []struct {
		code int
		mode CheckMode
		out  string
		want Verdict
	}{
		{0, CheckReadOnly, "", VerdictClean},
		{1, CheckReadOnly, "Leaving filesystem unchanged.", VerdictErrorsLeft},
		{1, CheckRepair, "*** Filesystem was changed ***", VerdictFixed},
		{1, CheckPreen, "*** Filesystem was changed ***", VerdictFixed},
		{1, CheckRepair, "", VerdictErrorsLeft},
		{2, CheckReadOnly, "open: No such file or directory", VerdictFailed},
	}
	for _, c := range cases {
		if got := fatVerdict(c.code, c.mode, c.out); got != c.want {
			t.Errorf("fatVerdict(%d, %v, %q) = %s, want %s", c.code, c.mode, c.out, got, c.want)
		}
	}
}

func TestVerdictOK(t *testing.T) {
	for v, ok := range map[Verdict]bool{VerdictClean: true, VerdictFixed: true, VerdictErrorsLeft: false,
		VerdictRebootNeeded: false, VerdictDirtyLog: false, VerdictCancelled: false, VerdictFailed: false} {
		if v.OK() != ok {
			t.Errorf("%s.OK() = %v", v, !ok)
		}
	}
}

// FuzzVerdicts: any exit code and output give one of the documented verdicts.
func FuzzVerdicts(f *testing.F) {
	f.Add(0, 0, "")
	f.Add(4, 0, "skipping journal recovery")
	f.Add(1, 2, "*** Filesystem was changed ***")
	f.Add(2, 2, "Mount the filesystem to replay the log")
	f.Add(1, 0, "found 1 errors")
	known := map[Verdict]bool{VerdictClean: true, VerdictFixed: true, VerdictErrorsLeft: true, VerdictRebootNeeded: true,
		VerdictDirtyLog: true, VerdictCancelled: true, VerdictFailed: true}
	f.Fuzz(func(t *testing.T, code, mode int, out string) {
		m := CheckMode(mode & 3 % 3)
		for _, v := range []Verdict{extVerdict(code, out), xfsVerdict(code, m, out), btrfsVerdict(code, m, out), fatVerdict(code, m, out)} {
			if !known[v] {
				t.Fatalf("verdict %q for %d %v %q", v, code, m, out)
			}
		}
		if code != 0 && code&^0xff == 0 && code&(8|16|128) == 0 && code&32 == 0 && extVerdict(code, out) == VerdictClean {
			t.Fatalf("e2fsck exit %d read as clean", code)
		}
	})
}
