package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// CacheEnv overrides where scripts/vm-assets.sh keeps the guest assets.
const CacheEnv = "EOS_STORAGE_VM_CACHE"

// DefaultCacheDir is the asset cache when CacheEnv is unset.
const DefaultCacheDir = "/var/cache/eos-storage/vm"

// Assets are the guest's kernel, modules and busybox, as scripts/vm-assets.sh
// lays them out.
type Assets struct {
	Dir           string // the cache directory
	Kernel        string // vmlinux when the cache has it (faster to boot), else vmlinuz
	KernelVersion string // the directory name under lib/modules
	Modules       string // the tree holding lib/modules/<version>
	Busybox       string // a static busybox
}

// CacheDir returns the asset cache in use: $EOS_STORAGE_VM_CACHE or the default.
func CacheDir() string {
	if d := os.Getenv(CacheEnv); d != "" {
		return d
	}
	return DefaultCacheDir
}

// LoadAssets reads the assets in dir without preparing anything.
func LoadAssets(dir string) (Assets, error) {
	a := Assets{
		Dir:     dir,
		Kernel:  filepath.Join(dir, "vmlinuz"),
		Modules: filepath.Join(dir, "modules"),
		Busybox: filepath.Join(dir, "busybox"),
	}
	kver, err := os.ReadFile(filepath.Join(dir, "kver"))
	if err != nil {
		return Assets{}, fmt.Errorf("%w: %v", ErrAssets, err)
	}
	a.KernelVersion = strings.TrimSpace(string(kver))
	// The uncompressed kernel boots through its PVH entry and skips the
	// bzImage decompressor, which takes about ten seconds under TCG.
	if fi, err := os.Stat(filepath.Join(dir, "vmlinux")); err == nil && fi.Size() > 0 {
		a.Kernel = filepath.Join(dir, "vmlinux")
	}
	for _, p := range []string{a.Kernel, a.Busybox, filepath.Join(a.Modules, "lib", "modules", a.KernelVersion, "modules.dep")} {
		if _, err := os.Stat(p); err != nil {
			return Assets{}, fmt.Errorf("%w: %v", ErrAssets, err)
		}
	}
	return a, nil
}

// AssetsScript is the path of scripts/vm-assets.sh in the source tree this
// package was built from ("" when the source is not there).
func AssetsScript() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	p := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "vm-assets.sh")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// EnsureAssets runs scripts/vm-assets.sh (quick when the cache is complete)
// and loads the result. Without the script it uses whatever the cache holds.
func EnsureAssets(ctx context.Context, logger *slog.Logger) (Assets, error) {
	logger = orDiscard(logger)
	dir := CacheDir()
	script := AssetsScript()
	if script == "" {
		return LoadAssets(dir)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		return LoadAssets(dir)
	}
	cmd := exec.CommandContext(ctx, bash, script)
	cmd.Env = append(os.Environ(), "LC_ALL=C", CacheEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return Assets{}, fmt.Errorf("%w: %s: %v: %s", ErrAssets, script, err, strings.TrimSpace(out.String()))
	}
	if out.Len() > 0 {
		logger.Info("vm assets prepared", "dir", dir, "log", strings.TrimSpace(out.String()))
	}
	return LoadAssets(dir)
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// HasModule reports whether the cached modules include the named one
// (modules.dep lists it), so a test can use a module that only some caches
// carry, such as scsi_debug.
func (a Assets) HasModule(name string) bool {
	dep, err := os.ReadFile(filepath.Join(a.Modules, "lib", "modules", a.KernelVersion, "modules.dep"))
	if err != nil {
		return false
	}
	alt := strings.ReplaceAll(name, "_", "-")
	for _, line := range strings.Split(string(dep), "\n") {
		mod, _, _ := strings.Cut(line, ":")
		base := strings.TrimSuffix(filepath.Base(mod), ".ko")
		if base == name || base == alt {
			return true
		}
	}
	return false
}
