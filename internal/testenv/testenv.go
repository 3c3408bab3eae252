package testenv

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// StrictEnv is the environment variable that turns skips into failures.
const StrictEnv = "EOS_STORAGE_STRICT"

// Strict reports whether skipping a tier is a failure.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// Skip skips t with the reason, or fails it under the strict flag.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("strict mode (%s=1): cannot skip: %s", StrictEnv, msg)
	}
	t.Skip(msg)
}

// RequireRoot skips (or fails under strict) unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root (real kernel tier)")
	}
}

// RequireTool skips (or fails under strict) unless every named tool is on
// PATH (or in /sbin, /usr/sbin). It returns the resolved paths in order.
func RequireTool(t testing.TB, names ...string) []string {
	t.Helper()
	paths := make([]string, len(names))
	for i, n := range names {
		p, err := LookTool(n)
		if err != nil {
			Skip(t, "needs %s: %v (make test installs it)", n, err)
		}
		paths[i] = p
	}
	return paths
}

// LookTool finds a tool on PATH or in the sbin directories, which a non-login
// root shell may lack on PATH.
func LookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

// Run runs a tool with LC_ALL=C and a 2-minute deadline and returns its
// standard output; a failure fails the test with the tool's stderr.
func Run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := RunErr(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}

// RunErr is Run without a test: it returns stdout and an error that carries
// the exit status and stderr.
func RunErr(name string, args ...string) ([]byte, error) {
	p, err := LookTool(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Loop creates a sparse image of size bytes in t.TempDir(), attaches it to a
// free loop device and returns the device path (/dev/loopN). Requires root.
// Cleanup unmounts anything mounted from the device or its partitions, turns
// off swap on them, deletes BLKPG partitions and detaches the device.
func Loop(t testing.TB, size int64) string {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "losetup")
	img := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		t.Fatal(err)
	}
	f.Close()
	return LoopFile(t, img)
}

// LoopFile attaches an existing image file as a loop device, with the same
// cleanup as Loop.
func LoopFile(t testing.TB, img string) string {
	t.Helper()
	return loopFile(t, img)
}

// LoopFileReadOnly attaches an image read-only (losetup -r), for tests that
// only read a shared cached image; the kernel refuses any write to it.
func LoopFileReadOnly(t testing.TB, img string) string {
	t.Helper()
	return loopFile(t, img, "-r")
}

func loopFile(t testing.TB, img string, flags ...string) string {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "losetup")
	var dev string
	var err error
	args := append(append([]string{}, flags...), "-f", "--show", img)
	for i := 0; i < 5; i++ { // losetup -f races with other test processes
		var out []byte
		out, err = RunErr("losetup", args...)
		if err == nil {
			dev = strings.TrimSpace(string(out))
			break
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	if err != nil {
		Skip(t, "cannot attach loop device: %v", err)
	}
	t.Cleanup(func() { DetachLoop(t, dev) })
	return dev
}

// DetachLoop undoes everything a test may have left on a loop device. It logs
// rather than fails, so one failed step does not stop the others.
func DetachLoop(t testing.TB, dev string) {
	t.Helper()
	base := filepath.Base(dev)
	// Unmount the device and its partitions, deepest mounts first.
	mounts := mountsOf(base)
	for i := len(mounts) - 1; i >= 0; i-- {
		if _, err := RunErr("umount", "-l", mounts[i]); err != nil {
			t.Logf("cleanup umount %s: %v", mounts[i], err)
		}
	}
	for _, sw := range swapsOf(base) {
		if _, err := RunErr("swapoff", sw); err != nil {
			t.Logf("cleanup swapoff %s: %v", sw, err)
		}
	}
	if parts, _ := filepath.Glob("/sys/block/" + base + "/" + base + "p*"); len(parts) > 0 {
		if _, err := RunErr("partx", "-d", dev); err != nil {
			t.Logf("cleanup partx -d %s: %v", dev, err)
		}
	}
	if _, err := RunErr("losetup", "-d", dev); err != nil {
		t.Logf("cleanup losetup -d %s: %v", dev, err)
	}
}

func mountsOf(base string) []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		src := filepath.Base(fields[0])
		if src == base || strings.HasPrefix(src, base+"p") {
			out = append(out, mountinfo.Unescape(fields[1]))
		}
	}
	return out
}

func swapsOf(base string) []string {
	data, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		src := filepath.Base(fields[0])
		if src == base || strings.HasPrefix(src, base+"p") {
			out = append(out, fields[0])
		}
	}
	return out
}
