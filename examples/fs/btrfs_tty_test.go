package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// openPty opens a pseudo-terminal pair with /dev/ptmx: the master to read
// what the command shows, the slave as its stdout.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		testenv.Skip(t, "no pseudo-terminals: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// TestBtrfsProgressBarOnTerminal: a scrub and a balance draw a progress
// bar when stdout is a terminal, and none when it is not.
func TestBtrfsProgressBarOnTerminal(t *testing.T) {
	mnt, _ := btrfsMount(t, 512<<20)
	if err := os.WriteFile(filepath.Join(mnt, "f"), make([]byte, 64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "sync")
	master, slave := openPty(t)
	var shown bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(&shown, master)
	}()
	var errb bytes.Buffer
	j := "--journal=" + t.TempDir()
	if code := run(context.Background(), []string{j, "scrub", "start", mnt, "--readonly"}, slave, &errb); code != 0 {
		t.Fatalf("scrub on a terminal: exit %d %s", code, errb.String())
	}
	if code := run(context.Background(), []string{j, "--apply", "balance", "start", mnt}, slave, &errb); code != 0 {
		t.Fatalf("balance on a terminal: exit %d %s", code, errb.String())
	}
	time.Sleep(100 * time.Millisecond)
	slave.Close()
	master.Close()
	<-done
	out := shown.String()
	if !strings.Contains(out, "scrub") || !strings.Contains(out, "100%") || !strings.Contains(out, "balance") {
		t.Errorf("no progress bar on the terminal: %q", out)
	}
	// Not a terminal: no bar, only the result.
	var plain bytes.Buffer
	if code := run(context.Background(), []string{j, "scrub", "start", mnt, "--readonly"}, &plain, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	if strings.Contains(plain.String(), "%") {
		t.Errorf("a bar on a pipe: %q", plain.String())
	}
}
