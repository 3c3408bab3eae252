package vmtest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestCPIOHeaderLayout(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	if err := w.File("a", 0o644, 3, strings.NewReader("xyz")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// 110-byte header, "a\0" padded to 112, 3 data bytes padded to 116.
	want := "070701" + "00000001" + "000081A4" + "00000000" + "00000000" + "00000001" +
		"00000000" + "00000003" + "00000000" + "00000000" + "00000000" + "00000000" +
		"00000002" + "00000000" + "a\x00" + "xyz\x00"
	if got := string(b[:len(want)]); got != want {
		t.Fatalf("first entry\n got %q\nwant %q", got, want)
	}
	if len(b)%4 != 0 {
		t.Fatalf("archive length %d not 4-aligned", len(b))
	}
	if !bytes.Contains(b, []byte("TRAILER!!!\x00")) {
		t.Fatal("no trailer")
	}
}

func TestCPIOShortData(t *testing.T) {
	w := newCPIOWriter(&bytes.Buffer{})
	if err := w.File("a", 0o644, 10, strings.NewReader("abc")); err == nil {
		t.Fatal("short data accepted")
	}
}

// Differential: GNU cpio must list and extract what we write, with the same
// names, types, modes, link targets and contents.
func TestCPIOAgainstGNUCpio(t *testing.T) {
	cpio := testenv.RequireTool(t, "cpio")[0]
	dir := t.TempDir()
	host := filepath.Join(dir, "host.bin")
	payload := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1001)
	if err := os.WriteFile(host, payload, 0o755); err != nil {
		t.Fatal(err)
	}
	tr := newTree()
	tr.Data("etc/deep/file.txt", []byte("hello\n"), 0o600)
	tr.Host("usr/bin/tool", host, 0o644) // executable on the host: stays executable
	tr.Link("bin/sh", "busybox")
	tr.Data("odd name", []byte("x"), 0o644)
	tr.Char("dev/console", 0o600, 5, 1)
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(cpio, "-it", "--quiet")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -t: %v", err)
	}
	wantList := "bin\nbin/sh\ndev\ndev/console\netc\netc/deep\netc/deep/file.txt\nodd name\nusr\nusr/bin\nusr/bin/tool\n"
	if string(out) != wantList {
		t.Fatalf("cpio -t lists\n%s\nwant\n%s", out, wantList)
	}

	ext := filepath.Join(dir, "x")
	if err := os.Mkdir(ext, 0o755); err != nil {
		t.Fatal(err)
	}
	// Extract everything but the device node, which needs mknod rights
	// the test should not depend on.
	cmd = exec.Command(cpio, "-id", "--quiet", "--no-absolute-filenames", "-f", "dev/console")
	cmd.Dir = ext
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio -i: %v: %s", err, b)
	}
	check := func(rel string, want []byte, perm os.FileMode) {
		t.Helper()
		p := filepath.Join(ext, rel)
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: content differs (%d vs %d bytes)", rel, len(got), len(want))
		}
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, want %v", rel, fi.Mode().Perm(), perm)
		}
	}
	check("etc/deep/file.txt", []byte("hello\n"), 0o600)
	check("usr/bin/tool", payload, 0o755)
	check("odd name", []byte("x"), 0o644)
	if tgt, err := os.Readlink(filepath.Join(ext, "bin/sh")); err != nil || tgt != "busybox" {
		t.Errorf("bin/sh -> %q, %v", tgt, err)
	}

	cmd = exec.Command(cpio, "-itv", "--quiet", "dev/console")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("cpio -itv: %v", err)
	}
	if !strings.HasPrefix(string(out), "crw-------") || !strings.Contains(string(out), "5,") {
		t.Errorf("dev/console listed as %q, want a 5,1 character device", out)
	}
}
