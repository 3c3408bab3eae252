package blockdev_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// The floor: what the kernel work of one Discover costs with nothing else.
// BenchmarkDiscoverLiveFloor records, with strace, the system calls one
// Discover (the configuration of BenchmarkDiscoverLive, one worker) makes
// between two markers, and replays exactly those calls with no parsing, no
// graph and no allocation: the time any program that reads what Discover
// reads must spend, whatever its language. Its ratio against lsblk is the
// most BenchmarkDiscoverLive could reach by making its own code free.

const (
	floorHelperEnv = "EOS_BLOCKDEV_FLOOR_HELPER"
	floorBegin     = "/eos-blockdev-floor-begin"
	floorEnd       = "/eos-blockdev-floor-end"
)

// TestDiscoverFloorHelper is not a test: BenchmarkDiscoverLiveFloor runs the
// test binary under strace with floorHelperEnv set, and this makes one
// Discover on one locked thread between two marker opens (absent paths). It
// prints the thread's id. Without the variable it does nothing.
func TestDiscoverFloorHelper(t *testing.T) {
	if os.Getenv(floorHelperEnv) != "1" {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fmt.Printf("tid=%d\n", unix.Gettid())
	_, _ = unix.Open(floorBegin, unix.O_RDONLY, 0)
	_, err := blockdev.Discover(context.Background(), blockdev.WithProbe(false),
		blockdev.WithDetachedLoops(false), blockdev.WithDiskWorkers(1))
	_, _ = unix.Open(floorEnd, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkDiscoverLiveFloor: the replayed system calls of one Discover
// against `lsblk -J -O -b`, in versusLsblk's interleaving. Run it next to
// BenchmarkDiscoverLive: the two ratios are the floor and what Discover
// reaches. The replay is serial; a two-thread replay measured no better
// under this interleaving on the test VMs (doc.go, "Cost").
func BenchmarkDiscoverLiveFloor(b *testing.B) {
	testenv.RequireTool(b, "lsblk", "strace")
	// A signal (the Go runtime preempts with SIGURG) can interrupt a
	// recorded call and leave a restarted one the replay does not make:
	// record again then.
	var calls []traceCall
	var err error
	for range 3 {
		if calls, err = recordDiscover(b); err == nil {
			break
		}
	}
	if err != nil {
		b.Fatal(err)
	}
	var r replayer
	versusLsblk(b, func() error { return r.run(calls) }, "-J", "-O", "-b")
	b.ReportMetric(float64(len(calls)), "syscalls")
}

// recordDiscover runs TestDiscoverFloorHelper under strace and returns the
// calls its thread made between the markers; an error when the trace holds
// a call the replay cannot make exactly.
func recordDiscover(b *testing.B) ([]traceCall, error) {
	b.Helper()
	dir := b.TempDir()
	prefix := filepath.Join(dir, "trace")
	cmd := exec.Command("strace", "-ff", "-qq", "-e", "trace=%file,%desc", "-o", prefix,
		os.Args[0], "-test.run=^TestDiscoverFloorHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), floorHelperEnv+"=1", "GOMAXPROCS=1")
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("strace: %v: %s", err, out)
	}
	var tid string
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "tid="); ok {
			tid = v
		}
	}
	if tid == "" {
		b.Fatalf("helper printed no thread id: %s", out)
	}
	data, err := os.ReadFile(prefix + "." + tid)
	if err != nil {
		b.Fatal(err)
	}
	return parseTrace(string(data))
}

// traceCall is one recorded system call: fd arguments and the returned fd
// are the recorded process's numbers, mapped to the replay's when run.
type traceCall struct {
	name  string
	dirfd int    // openat, readlinkat, newfstatat: AT_FDCWD or a recorded fd
	fd    int    // read, getdents64, close, lseek; -1 for the others
	path  string // openat, readlinkat, newfstatat, statfs
	flags int    // openat, newfstatat
	size  int    // read, getdents64, readlinkat
	ret   int    // the recorded result (-1 for an error)
}

// parseTrace turns one thread's strace output into the calls between the
// markers. A call it cannot replay exactly is an error, never left out: the
// floor must make every call Discover made.
func parseTrace(s string) ([]traceCall, error) {
	var calls []traceCall
	in := false
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") {
			continue
		}
		if strings.Contains(line, floorBegin) {
			in = true
			continue
		}
		if strings.Contains(line, floorEnd) {
			return calls, nil
		}
		if !in {
			continue
		}
		if strings.HasPrefix(line, "mmap(") && strings.HasSuffix(strings.SplitN(line, ") ", 2)[0], ", -1, 0") {
			// The Go runtime mapping memory for the heap (anonymous,
			// fd -1): not file work, and no part of what is measured.
			continue
		}
		c, err := parseCall(line)
		if err != nil {
			return nil, fmt.Errorf("%w: %q", err, line)
		}
		calls = append(calls, c)
	}
	return nil, errors.New("trace has no end marker")
}

func parseCall(line string) (traceCall, error) {
	// name(args)<padding> = result[ ERRNO (text)]
	name, rest, ok := strings.Cut(line, "(")
	eq := strings.LastIndex(rest, " = ")
	if !ok || eq < 0 {
		return traceCall{}, errors.New("not a finished call")
	}
	args, retText := strings.TrimRight(rest[:eq], " "), rest[eq+len(" = "):]
	if !strings.HasSuffix(args, ")") {
		return traceCall{}, errors.New("not a finished call")
	}
	args = args[:len(args)-1]
	c := traceCall{name: name, ret: -1, dirfd: unix.AT_FDCWD, fd: -1}
	if strings.HasPrefix(retText, "?") || strings.Contains(retText, "ERESTART") || strings.Contains(retText, " EINTR ") {
		// Interrupted by a signal and made again: the trace holds the
		// call twice, the replay would make it once more than Discover.
		return traceCall{}, errors.New("interrupted call")
	}
	r, err := strconv.Atoi(strings.Fields(retText + " x")[0])
	if err != nil {
		return traceCall{}, errors.New("no result")
	}
	c.ret = r
	switch name {
	case "openat":
		// openat(dirfd, "path", FLAGS) or with a mode after the flags
		var f []string
		if c.dirfd, c.path, f, err = dirPathArgs(args); err == nil && len(f) > 0 {
			c.flags, err = openFlags(f[0])
		}
	case "readlinkat":
		// readlinkat(dirfd, "path", "target", size): the target is quoted
		// too, so the size is the last argument.
		c.dirfd, c.path, _, err = dirPathArgs(args)
		if err == nil {
			c.size, err = lastInt(args)
		}
	case "newfstatat":
		var f []string
		if c.dirfd, c.path, f, err = dirPathArgs(args); err == nil && len(f) > 1 {
			c.flags, err = atFlags(f[len(f)-1])
		}
	case "statfs":
		c.path, _, err = quoted(args)
	case "read", "getdents64":
		if c.fd, err = firstInt(args); err == nil {
			c.size, err = lastInt(args)
		}
	case "close":
		c.fd, err = firstInt(args)
	case "lseek":
		c.fd, err = firstInt(args)
		if err == nil && !strings.HasSuffix(args, ", 0, SEEK_SET") {
			err = errors.New("lseek other than to the start")
		}
	default:
		err = errors.New("system call the replay does not make")
	}
	return c, err
}

// dirPathArgs splits `dirfd, "path", more...`.
func dirPathArgs(args string) (dirfd int, path string, more []string, err error) {
	d, rest, ok := strings.Cut(args, ", ")
	if !ok {
		return 0, "", nil, errors.New("too few arguments")
	}
	if d == "AT_FDCWD" {
		dirfd = unix.AT_FDCWD
	} else if dirfd, err = strconv.Atoi(d); err != nil {
		return 0, "", nil, err
	}
	path, rest, err = quoted(rest)
	if err != nil {
		return 0, "", nil, err
	}
	rest = strings.TrimPrefix(rest, ", ")
	if rest != "" {
		more = strings.Split(rest, ", ")
	}
	return dirfd, path, more, nil
}

// quoted takes the double-quoted string at the start of s.
func quoted(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", errors.New("no quoted path")
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			return v, s[i+1:], err
		}
	}
	return "", "", errors.New("unterminated path")
}

func firstInt(args string) (int, error) {
	f, _, _ := strings.Cut(args, ",")
	return strconv.Atoi(strings.TrimSpace(f))
}

func lastInt(args string) (int, error) {
	return strconv.Atoi(strings.TrimSpace(args[strings.LastIndex(args, ",")+1:]))
}

func openFlags(s string) (int, error) {
	known := map[string]int{"O_RDONLY": unix.O_RDONLY, "O_CLOEXEC": unix.O_CLOEXEC,
		"O_NONBLOCK": unix.O_NONBLOCK, "O_DIRECTORY": unix.O_DIRECTORY, "O_NOFOLLOW": unix.O_NOFOLLOW,
		"O_LARGEFILE": 0}
	flags := 0
	for _, f := range strings.Split(s, "|") {
		v, ok := known[f]
		if !ok {
			return 0, fmt.Errorf("open flag %s", f)
		}
		flags |= v
	}
	return flags, nil
}

func atFlags(s string) (int, error) {
	switch s {
	case "0":
		return 0, nil
	case "AT_SYMLINK_NOFOLLOW":
		return unix.AT_SYMLINK_NOFOLLOW, nil
	}
	return 0, fmt.Errorf("fstatat flag %s", s)
}

// replayer makes recorded calls again, mapping the recorded fds to its own.
type replayer struct {
	fds map[int]int
	buf []byte // as large as the largest recorded read
}

func (r *replayer) run(calls []traceCall) error {
	if r.fds == nil {
		r.fds = map[int]int{}
		size := 0
		for _, c := range calls {
			size = max(size, c.size)
		}
		r.buf = make([]byte, size)
	}
	clear(r.fds)
	var st unix.Stat_t
	var sf unix.Statfs_t
	for _, c := range calls {
		dirfd, fd := unix.AT_FDCWD, -1
		var ok bool
		if c.dirfd != unix.AT_FDCWD {
			if dirfd, ok = r.fds[c.dirfd]; !ok {
				return fmt.Errorf("replay of %s %q: directory fd %d was not opened in the trace", c.name, c.path, c.dirfd)
			}
		}
		if c.fd >= 0 {
			if fd, ok = r.fds[c.fd]; !ok {
				return fmt.Errorf("replay of %s: fd %d was not opened in the trace", c.name, c.fd)
			}
		}
		var err error
		switch c.name {
		case "openat":
			var nfd int
			nfd, err = unix.Openat(dirfd, c.path, c.flags, 0)
			if err == nil {
				r.fds[c.ret] = nfd
			}
		case "readlinkat":
			_, err = unix.Readlinkat(dirfd, c.path, r.buf[:c.size])
		case "newfstatat":
			err = unix.Fstatat(dirfd, c.path, &st, c.flags)
		case "statfs":
			err = unix.Statfs(c.path, &sf)
		case "read":
			_, err = unix.Read(fd, r.buf[:c.size])
		case "getdents64":
			_, err = unix.Getdents(fd, r.buf[:c.size])
		case "close":
			err = unix.Close(fd)
			delete(r.fds, c.fd)
		case "lseek":
			_, err = unix.Seek(fd, 0, 0)
		}
		if (err == nil) != (c.ret >= 0) {
			return fmt.Errorf("replay of %s %q: %v, recorded %d", c.name, c.path, err, c.ret)
		}
	}
	return nil
}

// TestParseTrace: the floor's trace reader keeps every call it can replay
// exactly, skips the runtime's anonymous mappings, and refuses what would
// make the replay differ from Discover (an interrupted call, a call it
// does not make) instead of leaving it out.
func TestParseTrace(t *testing.T) {
	good := `openat(AT_FDCWD, "` + floorBegin + `", O_RDONLY) = -1 ENOENT (No such file or directory)
openat(AT_FDCWD, "/sys/block", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 5
getdents64(5, 0x3b14ae5e3c10 /* 12 entries */, 8192) = 360
openat(5, "vda", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 6
mmap(NULL, 2097152, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000
--- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=1, si_uid=0} ---
read(6, "4096\n", 4097)                 = 5
readlinkat(6, "device", "../../../virtio1", 512) = 16
newfstatat(5, "loop0/loop", 0x3b14ae5e5820, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)
statfs("/", {f_type=EXT2_SUPER_MAGIC, f_bsize=4096}) = 0
lseek(6, 0, SEEK_SET) = 0
close(6)                                = 0
openat(AT_FDCWD, "` + floorEnd + `", O_RDONLY) = -1 ENOENT (No such file or directory)
`
	calls, err := parseTrace(good)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range calls {
		names = append(names, c.name)
	}
	want := "openat getdents64 openat read readlinkat newfstatat statfs lseek close"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("calls %s, want %s", got, want)
	}
	if c := calls[5]; c.dirfd != 5 || c.path != "loop0/loop" || c.flags != unix.AT_SYMLINK_NOFOLLOW || c.ret != -1 {
		t.Errorf("newfstatat parsed as %+v", c)
	}
	if c := calls[3]; c.fd != 6 || c.size != 4097 || c.ret != 5 {
		t.Errorf("read parsed as %+v", c)
	}
	if c := calls[4]; c.dirfd != 6 || c.path != "device" || c.size != 512 {
		t.Errorf("readlinkat parsed as %+v", c)
	}
	for _, bad := range []string{
		`read(6, 0xc000, 4097) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)`,
		`openat(5, "x", O_RDONLY) = -1 EINTR (Interrupted system call)`,
		`ioctl(6, BLKGETSIZE64, [1024]) = 0`,
		`openat(5, "x", O_RDONLY|O_CREAT, 0600) = 7`,
		`mmap(NULL, 4096, PROT_READ, MAP_SHARED, 6, 0) = 0x7f0000000000`,
	} {
		trace := "openat(AT_FDCWD, \"" + floorBegin + "\", O_RDONLY) = -1 ENOENT\n" + bad + "\n" +
			"openat(AT_FDCWD, \"" + floorEnd + "\", O_RDONLY) = -1 ENOENT\n"
		if _, err := parseTrace(trace); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := parseTrace(strings.ReplaceAll(good, floorEnd, "/elsewhere")); err == nil {
		t.Error("accepted a trace without its end marker")
	}
}
