package sysfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootPaths(t *testing.T) {
	if got := Live.Sys("block", "sda"); got != "/sys/block/sda" {
		t.Fatalf("live Sys = %q", got)
	}
	if got := Live.Path("/proc/self/mountinfo"); got != "/proc/self/mountinfo" {
		t.Fatalf("live Path = %q", got)
	}
	dir := t.TempDir()
	r, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.IsLive() {
		t.Fatal("fake root reported live")
	}
	for _, c := range []struct{ got, want string }{
		{r.Sys("block"), filepath.Join(dir, "sys/block")},
		{r.Proc("diskstats"), filepath.Join(dir, "proc/diskstats")},
		{r.Dev("loop0"), filepath.Join(dir, "dev/loop0")},
		{r.Run("udev", "data"), filepath.Join(dir, "run/udev/data")},
		{r.Path("/sys/dev/block"), filepath.Join(dir, "sys/dev/block")},
	} {
		if c.got != c.want {
			t.Errorf("got %q want %q", c.got, c.want)
		}
	}
	if _, err := New(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("New on a missing dir succeeded")
	}
	if r, _ := New("/"); !r.IsLive() {
		t.Fatal(`New("/") not live`)
	}
}

func TestReadAttr(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "size")
	if err := os.WriteFile(p, []byte("  1024\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := ReadAttr(p)
	if err != nil || v != "1024" {
		t.Fatalf("ReadAttr = %q, %v", v, err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", MaxAttrSize+10)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAttr(big); !errors.Is(err, ErrAttrTooLarge) {
		t.Fatalf("huge attribute: err = %v", err)
	}
	if _, err := ReadAttr(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing attribute: err = %v", err)
	}
	if _, err := ReadAttr(dir); err == nil {
		t.Fatal("reading a directory succeeded")
	}
}
