package quota

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The enforcement tests write past a limit in a child process (the test
// binary again, so it can run under another uid): it writes WRITER_BYTES
// bytes to WRITER_PATH in 64 KiB chunks with an fsync at the end, and
// prints "errno=NAME" (or "errno=none").
const writerEnv = "EOS_QUOTA_WRITER_PATH"

func writerChild() int {
	n, _ := strconv.ParseInt(os.Getenv("EOS_QUOTA_WRITER_BYTES"), 10, 64)
	err := writeBytes(os.Getenv(writerEnv), n)
	name := "none"
	var en syscall.Errno
	if errors.As(err, &en) {
		name = unix.ErrnoName(en)
	} else if err != nil {
		name = err.Error()
	}
	fmt.Printf("errno=%s\n", name)
	return 0
}

func writeBytes(path string, n int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i*7 + 1)
	}
	for w := int64(0); w < n; w += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
	return f.Sync()
}

// writeAs runs the writer as uid:gid (nil cred: as this process) and
// returns the errno name it saw.
func writeAs(t testing.TB, cred *syscall.Credential, path string, n int64) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+path, "EOS_QUOTA_WRITER_BYTES="+strconv.FormatInt(n, 10))
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("writer: %v: %s", err, out)
	}
	var name string
	if _, err := fmt.Sscanf(string(out), "errno=%s", &name); err != nil {
		t.Fatalf("writer said %q", out)
	}
	return name
}
