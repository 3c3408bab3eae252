package vmtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// driverModules are the disk drivers: enough for every Kind of Disk.
// usb_storage waits a second before scanning by default; delay_use=0 saves
// that second.
var driverModules = []string{
	"ahci", "nvme", "virtio_pci", "virtio_scsi", "virtio_blk", "sd_mod", "sg",
	"xhci_pci", "usb_storage delay_use=0",
}

// defaultModules adds device-mapper, md raid1, loop and the filesystems.
// Loading them costs about ten seconds under TCG (btrfs alone benchmarks
// its raid6 and xor code), so tests that need none of them should pass
// DriverModules.
var defaultModules = append(append([]string(nil), driverModules...),
	"dm_mod", "dm_thin_pool", "dm_snapshot", "raid1", "loop", "ext4", "xfs", "btrfs", "vfat")

// DefaultModules returns the module list the guest loads when
// Config.Modules is nil: every storage driver and filesystem of the tier.
func DefaultModules() []string { return append([]string(nil), defaultModules...) }

// DriverModules returns just the disk drivers, for a faster boot. The guest
// kernel still loads a filesystem module on mount (it runs /sbin/modprobe,
// which reads the modules.alias the cache carries).
func DriverModules() []string { return append([]string(nil), driverModules...) }

// File is a host file copied into the guest.
type File struct {
	Src string // host path
	// Dst is the guest path; "" means /usr/local/bin/<base of Src>.
	Dst string
}

// Config describes one guest run.
type Config struct {
	// Disks are attached in order; each gets a sparse image in a temp dir
	// unless it names an Image.
	Disks []Disk
	// Files are copied in as they are (static Go binaries built with
	// CGO_ENABLED=0, see BuildGo; data files).
	Files []File
	// Tools are host programs (smartctl, lsblk, lvm...) found on PATH or
	// in the sbin directories and copied to the same path in the guest with
	// the libraries ldd lists and the dynamic loader.
	Tools []string
	// Script is run by busybox sh as root after the modules are loaded and
	// the disks have appeared. Its stdout and stderr come back in Result.
	Script string
	// Modules to modprobe, each "name [param=value...]"; nil means
	// DefaultModules().
	Modules []string
	// MemoryMiB is the guest memory; 0 means 1024.
	MemoryMiB int
	// Timeout bounds the whole run; 0 means 3 minutes.
	Timeout time.Duration
	// Assets overrides the assets (nil: EnsureAssets).
	Assets *Assets
	// Logger receives progress; nil discards.
	Logger *slog.Logger
}

// Result is what the guest printed.
type Result struct {
	Stdout   []byte // the script's standard output, between the markers
	Stderr   []byte // the script's standard error, between the markers
	Console  []byte // the kernel and init console (ttyS0), for diagnosis
	ExitCode int    // the script's exit status
	Elapsed  time.Duration
}

var (
	moduleRE = regexp.MustCompile(`^[A-Za-z0-9_-]+( [A-Za-z0-9_.,=-]+)*$`)
)

func (c *Config) validate() error {
	sata := 0
	for i, d := range c.Disks {
		if err := d.validate(i); err != nil {
			return err
		}
		if d.Kind == SATA {
			sata++
		}
	}
	if sata > maxAHCIPorts {
		return fmt.Errorf("%w: %d SATA disks, the AHCI controller has %d ports", ErrConfig, sata, maxAHCIPorts)
	}
	for _, m := range c.Modules {
		if !moduleRE.MatchString(m) {
			return fmt.Errorf("%w: module %q", ErrConfig, m)
		}
	}
	for _, f := range c.Files {
		if f.Src == "" {
			return fmt.Errorf("%w: file with no source", ErrConfig)
		}
		if f.Dst != "" && !strings.HasPrefix(f.Dst, "/") {
			return fmt.Errorf("%w: guest path %q is not absolute", ErrConfig, f.Dst)
		}
	}
	if c.MemoryMiB < 0 || c.Timeout < 0 {
		return fmt.Errorf("%w: negative memory or timeout", ErrConfig)
	}
	return nil
}

// QEMUPath finds qemu-system-x86_64.
func QEMUPath() (string, error) {
	p, err := testenv.LookTool("qemu-system-x86_64")
	if err != nil {
		return "", ErrNoQEMU
	}
	return p, nil
}

// Run boots a guest with cfg's disks, runs cfg.Script in it and returns what
// it printed. The guest always runs under TCG (KVM hangs on these machines),
// with one CPU. Cancelling ctx kills QEMU at once; the temp directory is
// removed in every case. A non-zero script exit returns the Result with a
// *ScriptError.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	logger := orDiscard(cfg.Logger)
	qemu, err := QEMUPath()
	if err != nil {
		return nil, err
	}
	var assets Assets
	if cfg.Assets != nil {
		assets = *cfg.Assets
	} else if assets, err = EnsureAssets(ctx, logger); err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "vmtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	imgs := make([]string, len(cfg.Disks))
	for i, d := range cfg.Disks {
		if imgs[i], err = d.image(dir, i); err != nil {
			return nil, fmt.Errorf("vmtest: disk %d: %w", i, err)
		}
	}
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := buildInitramfs(ctx, initrd, assets, &cfg, nonce); err != nil {
		return nil, err
	}

	console := filepath.Join(dir, "console.log")
	stdout := filepath.Join(dir, "stdout.log")
	stderr := filepath.Join(dir, "stderr.log")
	mem := cfg.MemoryMiB
	if mem == 0 {
		mem = 1024
	}
	args := []string{
		"-accel", "tcg", "-nographic", "-nodefaults", "-no-reboot", "-no-user-config",
		"-m", strconv.Itoa(mem), "-smp", "1", "-nic", "none",
		"-kernel", assets.Kernel, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 loglevel=4 rdinit=/init mitigations=off",
		"-serial", "file:" + console, "-serial", "file:" + stdout, "-serial", "file:" + stderr,
	}
	args = append(args, diskArgs(cfg.Disks, imgs)...)

	cmd := exec.CommandContext(ctx, qemu, args...)
	cmd.Dir = dir
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	var qout bytes.Buffer
	cmd.Stdout = &qout
	cmd.Stderr = &qout
	// QEMU runs in its own process group so a cancel kills it and anything
	// it spawned, not just the leader.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	logger.Info("vm boot", "disks", len(cfg.Disks), "memory_mib", mem)
	runErr := cmd.Run()
	res := &Result{Elapsed: time.Since(start)}
	res.Console, _ = os.ReadFile(console)
	outData, _ := os.ReadFile(stdout)
	errData, _ := os.ReadFile(stderr)
	logger.Info("vm done", "elapsed", res.Elapsed, "err", runErr)

	if ctxErr := ctx.Err(); ctxErr != nil {
		return res, fmt.Errorf("vmtest: guest stopped: %w; console tail:\n%s", ctxErr, tail(res.Console, 2000))
	}
	if runErr != nil {
		return res, fmt.Errorf("vmtest: qemu: %w: %s", runErr, strings.TrimSpace(qout.String()))
	}
	var code int
	res.Stdout, code, err = extract(outData, nonce)
	var errErr error
	res.Stderr, _, errErr = extract(errData, nonce)
	if err != nil {
		return res, fmt.Errorf("%w (stdout): console tail:\n%s", err, tail(res.Console, 2000))
	}
	if errErr != nil {
		return res, fmt.Errorf("%w (stderr)", errErr)
	}
	res.ExitCode = code
	if code != 0 {
		return res, &ScriptError{Code: code}
	}
	return res, nil
}

func newNonce() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func beginMarker(nonce string) string { return "EOS-VMTEST-" + nonce + "-BEGIN\n" }
func endMarker(nonce string) string   { return "\nEOS-VMTEST-" + nonce + "-END " }

// extract returns what lies between the begin and end markers of one serial
// port and the exit status the end marker carries. Without an end marker it
// returns what followed the begin marker along with ErrNoOutput. The end marker starts
// with a newline the init adds, so output without a final newline still
// ends cleanly and output with one keeps it.
func extract(data []byte, nonce string) ([]byte, int, error) {
	b := []byte(beginMarker(nonce))
	i := bytes.Index(data, b)
	if i < 0 {
		return nil, 0, fmt.Errorf("%w: no begin marker", ErrNoOutput)
	}
	body := data[i+len(b):]
	e := []byte(endMarker(nonce))
	j := bytes.LastIndex(body, e)
	if j < 0 {
		// What the script printed before the guest died is often the
		// best clue why, so it comes back with the error.
		return bytes.Clone(body), 0, fmt.Errorf("%w: no end marker after %d bytes", ErrNoOutput, len(body))
	}
	rest := body[j+len(e):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		return nil, 0, fmt.Errorf("%w: truncated end marker", ErrNoOutput)
	}
	code, err := strconv.Atoi(string(bytes.TrimSpace(rest[:nl])))
	if err != nil || code < 0 || code > 255 {
		return nil, 0, fmt.Errorf("%w: bad exit status %q", ErrNoOutput, rest[:nl])
	}
	return bytes.Clone(body[:j]), code, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// buildInitramfs writes the guest's root: busybox, modules, files, tools,
// the script and the init that runs it.
func buildInitramfs(ctx context.Context, out string, a Assets, cfg *Config, nonce string) error {
	t := newTree()
	for _, d := range []string{"proc", "sys", "dev", "run", "tmp", "root", "etc", "bb", "vmtest"} {
		t.Dir(d)
	}
	t.Char("dev/console", 0o600, 5, 1)
	t.Host("bin/busybox", a.Busybox, 0o755)
	t.Link("bin/sh", "busybox")
	// The kernel runs /sbin/modprobe itself when a driver asks for a
	// module (crc32c for ext4, for instance).
	t.Link("sbin/modprobe", "../bin/busybox")
	if err := t.HostTree(filepath.Join(a.Modules, "lib", "modules"), "lib/modules"); err != nil {
		return fmt.Errorf("%w: modules: %v", ErrAssets, err)
	}
	t.Data("etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	t.Data("etc/group", []byte("root:x:0:\n"), 0o644)

	for _, f := range cfg.Files {
		dst := f.Dst
		if dst == "" {
			dst = "/usr/local/bin/" + filepath.Base(f.Src)
		}
		t.Host(dst, f.Src, 0o644)
	}
	libDirs := map[string]bool{}
	for _, name := range cfg.Tools {
		p, err := testenv.LookTool(name)
		if err != nil {
			return fmt.Errorf("vmtest: tool %s: %w", name, err)
		}
		t.Host(p, p, 0o755)
		libs, err := sharedLibs(ctx, p)
		if err != nil {
			return fmt.Errorf("vmtest: tool %s: %w", name, err)
		}
		for _, l := range libs {
			t.Host(l, l, 0o755)
			libDirs[path.Dir(l)] = true
		}
	}
	dirs := make([]string, 0, len(libDirs))
	for d := range libDirs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)

	t.Data("vmtest/script", []byte(cfg.Script), 0o755)
	mods := cfg.Modules
	if mods == nil {
		mods = defaultModules
	}
	t.Data("init", []byte(initScript(nonce, mods, len(cfg.Disks), dirs)), 0o755)

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := t.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("vmtest: initramfs: %w", err)
	}
	return f.Close()
}

// initScript is the guest's PID 1. It never exits (that would panic the
// kernel and lose the output): it always ends in poweroff -f. Kernel chatter
// stays on ttyS0; the script's stdout and stderr get ttyS1 and ttyS2 to
// themselves, in raw mode so no \r is added.
func initScript(nonce string, modules []string, disks int, libDirs []string) string {
	var b strings.Builder
	b.WriteString(`#!/bin/busybox sh
/bin/busybox --install -s /bb
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/bb
export HOME=/root
`)
	if len(libDirs) > 0 {
		fmt.Fprintf(&b, "export LD_LIBRARY_PATH=%s\n", strings.Join(libDirs, ":"))
	}
	b.WriteString(`mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run/lock
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mkdir -p /run/lock
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
echo 1 >/proc/sys/kernel/printk
log() { echo "vmtest: $*" >/dev/console; }
`)
	for _, m := range modules {
		fmt.Fprintf(&b, "modprobe %s || log 'modprobe %s failed'\n", m, strings.Fields(m)[0])
	}
	fmt.Fprintf(&b, `want=%d
i=0
while :; do
	n=0
	for d in /sys/block/*; do [ -e "$d/device" ] && n=$((n+1)); done
	[ "$n" -ge "$want" ] && break
	i=$((i+1))
	if [ "$i" -ge 600 ]; then log "only $n of $want disks appeared"; break; fi
	sleep 0.1
done
log "modules loaded, $n disks"
stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 raw -echo
printf '%%s' '%s' >/dev/ttyS1
printf '%%s' '%s' >/dev/ttyS2
cd /tmp
/bin/sh /vmtest/script </dev/null >/dev/ttyS1 2>/dev/ttyS2
rc=$?
printf '%%s%%d\n' '%s' "$rc" >/dev/ttyS1
printf '%%s%%d\n' '%s' "$rc" >/dev/ttyS2
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 3600
`, disks, beginMarker(nonce), beginMarker(nonce), endMarker(nonce), endMarker(nonce))
	return b.String()
}
