package fsys

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// MountOptions are mount(2)'s per-mount flags and the filesystem's own
// options (Data, one option per element: "noatime" goes in a flag, "commit=30"
// in Data).
type MountOptions struct {
	ReadOnly, Bind, NoExec, NoSuid, NoDev, NoAtime, RelAtime, Sync bool
	Data                                                           []string
}

func (o MountOptions) flags() uintptr {
	var f uintptr
	for _, x := range []struct {
		on   bool
		flag uintptr
	}{
		{o.ReadOnly, unix.MS_RDONLY}, {o.NoExec, unix.MS_NOEXEC}, {o.NoSuid, unix.MS_NOSUID},
		{o.NoDev, unix.MS_NODEV}, {o.NoAtime, unix.MS_NOATIME}, {o.RelAtime, unix.MS_RELATIME},
		{o.Sync, unix.MS_SYNCHRONOUS},
	} {
		if x.on {
			f |= x.flag
		}
	}
	return f
}

// Mount mounts source on target by mount(2) (no mount binary, no fstab, no
// helper programs). target must be an existing absolute directory (or file,
// for a bind of a file), not a symlink and not already a mountpoint. Data is
// checked against the type's allow list first (validateMountData).
//
// A bind mount (Bind) is MS_BIND, then, because the kernel ignores the other
// flags on the bind itself, a remount of the bind with MS_RDONLY and the
// other per-mount flags when any is asked; if that remount fails the bind is
// undone, so a bind meant read-only never stays writable.
//
// EPERM is *PermissionError (CAP_SYS_ADMIN), EBUSY ErrBusy, ENODEV (no
// kernel driver for the type) *NotSupportedError. mount(2) cannot be
// cancelled: ctx is checked before it.
func (m *Manager) Mount(ctx context.Context, source, target string, t Type, o MountOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if source == "" || target == "" || !filepath.IsAbs(target) {
		return fmt.Errorf("%w: mount %q on %q: both needed, target absolute", ErrInvalid, source, target)
	}
	target = filepath.Clean(target)
	fi, err := os.Lstat(target)
	if err != nil {
		return fmt.Errorf("%w: mount target: %w", ErrInvalid, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%w: mount target %s is a symlink", ErrInvalid, target)
	}
	if !o.Bind && !fi.IsDir() {
		return fmt.Errorf("%w: mount target %s is not a directory", ErrInvalid, target)
	}
	if o.NoAtime && o.RelAtime {
		return fmt.Errorf("%w: NoAtime and RelAtime together", ErrInvalid)
	}
	if mounted, err := m.isMountpoint(target); err != nil {
		return err
	} else if mounted {
		return fmt.Errorf("%w: %s is already a mountpoint", ErrMounted, target)
	}
	if o.Bind {
		if len(o.Data) > 0 {
			return fmt.Errorf("%w: a bind mount takes no filesystem options (%v)", ErrInvalid, o.Data)
		}
		return m.bindMount(source, target, o)
	}
	if !mountableType(t) {
		return fmt.Errorf("%w: cannot mount type %q", ErrInvalid, t)
	}
	if !filepath.IsAbs(source) {
		return fmt.Errorf("%w: mount source %q must be an absolute path", ErrInvalid, source)
	}
	data, err := validateMountData(t, o.Data)
	if err != nil {
		return err
	}
	if err := unix.Mount(source, target, string(t), o.flags(), data); err != nil {
		return mountError("mount", source+" on "+target, t, err)
	}
	m.log.Info("mounted", "source", source, "target", target, "type", string(t), "flags", o.flags(), "data", data)
	return nil
}

func (m *Manager) bindMount(source, target string, o MountOptions) error {
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return mountError("mount --bind", source+" on "+target, "", err)
	}
	if f := o.flags(); f != 0 {
		if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_BIND|f, ""); err != nil {
			if uerr := unix.Unmount(target, unix.UMOUNT_NOFOLLOW); uerr != nil {
				m.log.Error("undoing a bind whose remount failed", "target", target, "err", uerr)
			}
			return mountError("remount bind", target, "", err)
		}
	}
	m.log.Info("bind mounted", "source", source, "target", target, "flags", o.flags())
	return nil
}

func mountableType(t Type) bool { return t.IsExt() || t == XFS || t == Btrfs || t == VFAT }

func mountError(op, what string, t Type, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return &PermissionError{Op: op, Path: what, Capability: "CAP_SYS_ADMIN", Have: haveCapability(capSysAdmin), Err: err}
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w: %s %s: %w", ErrBusy, op, what, os.NewSyscallError(op, err))
	case errors.Is(err, unix.ENODEV) && t != "":
		return &NotSupportedError{Type: t, What: "mount", Missing: "the kernel's " + string(t) + " driver"}
	}
	return fmt.Errorf("fsys: %s %s: %w", op, what, os.NewSyscallError(op, err))
}

// UnmountOptions: Lazy detaches now and frees when the last user goes
// (MNT_DETACH); Force aborts pending requests (MNT_FORCE, for a dead network
// filesystem); Protected adds mountpoints that must never be unmounted.
type UnmountOptions struct {
	Lazy      bool
	Force     bool
	Protected []string
}

// protectedMountpoints are never unmounted by Unmount, whatever the caller
// passes: the system would stop working.
var protectedMountpoints = []string{"/", "/boot", "/boot/efi", "/usr", "/var", "/home", "/etc"}

// Unmount unmounts target by umount2(2) with UMOUNT_NOFOLLOW. It refuses
// (*RefusedError protected_mountpoint) "/", /boot, /boot/efi, /usr, /var,
// /home, /etc and o.Protected, compared after cleaning the path and again
// after resolving symlinks, and a target that is not a mountpoint
// (ErrNotMounted, from mountinfo read through the Manager's root). A busy
// filesystem is ErrBusy unless Lazy was asked: a lazy unmount is never
// chosen for the caller.
func (m *Manager) Unmount(ctx context.Context, target string, o UnmountOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if target == "" || !filepath.IsAbs(target) {
		return fmt.Errorf("%w: unmount target %q must be an absolute path", ErrInvalid, target)
	}
	target = filepath.Clean(target)
	candidates := []string{target}
	if r, err := filepath.EvalSymlinks(target); err == nil && r != target {
		candidates = append(candidates, r)
	}
	for _, c := range candidates {
		if p, ok := isProtected(c, o.Protected); ok {
			return &RefusedError{Code: "protected_mountpoint", Reason: fmt.Sprintf("%s is protected (%s)", target, p)}
		}
	}
	mounted, err := m.isMountpoint(target)
	if err != nil {
		return err
	}
	if !mounted {
		return fmt.Errorf("%w: %s is not a mountpoint", ErrNotMounted, target)
	}
	flags := unix.UMOUNT_NOFOLLOW
	if o.Lazy {
		flags |= unix.MNT_DETACH
	}
	if o.Force {
		flags |= unix.MNT_FORCE
	}
	if err := unix.Unmount(target, flags); err != nil {
		switch {
		case errors.Is(err, unix.EBUSY):
			return fmt.Errorf("%w: %s is in use (UnmountOptions.Lazy detaches it anyway): %w", ErrBusy, target, os.NewSyscallError("umount2", err))
		case errors.Is(err, unix.EINVAL):
			return fmt.Errorf("%w: %s: %w", ErrNotMounted, target, os.NewSyscallError("umount2", err))
		}
		return mountError("umount2", target, "", err)
	}
	m.log.Info("unmounted", "target", target, "lazy", o.Lazy, "force", o.Force)
	return nil
}

func isProtected(p string, extra []string) (string, bool) {
	for _, x := range protectedMountpoints {
		if p == x {
			return x, true
		}
	}
	for _, x := range extra {
		if x != "" && filepath.Clean(x) == p {
			return x, true
		}
	}
	return "", false
}

// isMountpoint reports whether dir is the mountpoint of some entry of
// /proc/self/mountinfo under the Manager's root.
func (m *Manager) isMountpoint(dir string) (bool, error) {
	f, err := os.Open(m.root.Proc("self", "mountinfo"))
	if err != nil {
		return false, fmt.Errorf("fsys: reading mountinfo: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		e, err := mountinfo.ParseLine(s.Text())
		if err != nil {
			continue // a line the parser refuses names no mountpoint we can compare
		}
		if e.MountPoint == dir {
			return true, nil
		}
	}
	if err := s.Err(); err != nil {
		return false, fmt.Errorf("fsys: reading mountinfo: %w", err)
	}
	return false, nil
}

// mountOptKind says what value a filesystem option takes.
type mountOptKind int

const (
	moFlag   mountOptKind = iota // no value
	moUint                       // decimal
	moSize                       // decimal with an optional k/m/g suffix
	moOctal                      // umask-style
	moEnum                       // one of a fixed set
	moPath                       // absolute path
	moSubvol                     // btrfs subvolume path (relative or absolute)
	moWord                       // [A-Za-z0-9_.:-]+
)

type mountOptSpec struct {
	kind  mountOptKind
	enum  []string
	value bool // moFlag options that also accept "=0"/"=1" (ext4 barrier)
}

func mountOptFlags(names ...string) map[string]mountOptSpec {
	m := map[string]mountOptSpec{}
	for _, n := range names {
		m[n] = mountOptSpec{kind: moFlag}
	}
	return m
}

func mountOptWith(m map[string]mountOptSpec, more map[string]mountOptSpec) map[string]mountOptSpec {
	for k, v := range more {
		m[k] = v
	}
	return m
}

// mountOptionAllow is each type's allow list of common options (from
// ext4(5), xfs(5), btrfs(5) and the vfat section of mount(8)). Options that
// take the machine down (errors=panic, fatal_errors=panic) are refused.
var mountOptionAllow = func() map[Type]map[string]mountOptSpec {
	errs := mountOptSpec{kind: moEnum, enum: []string{"continue", "remount-ro"}}
	ext4 := mountOptWith(mountOptFlags("acl", "noacl", "user_xattr", "nouser_xattr", "nobarrier", "discard", "nodiscard",
		"noload", "norecovery", "journal_checksum", "nojournal_checksum", "journal_async_commit",
		"delalloc", "nodelalloc", "auto_da_alloc", "noauto_da_alloc", "init_itable", "noinit_itable",
		"lazytime", "nolazytime", "dax", "nomblk_io_submit", "block_validity", "noblock_validity",
		"grpid", "bsdgroups", "nogrpid", "sysvgroups", "usrquota", "grpquota", "prjquota", "quota", "noquota",
		"i_version", "nombcache", "dioread_lock", "dioread_nolock"), map[string]mountOptSpec{
		"barrier": {kind: moFlag, value: true}, "errors": errs,
		"data":   {kind: moEnum, enum: []string{"journal", "ordered", "writeback"}},
		"commit": {kind: moUint}, "stripe": {kind: moUint}, "resuid": {kind: moUint}, "resgid": {kind: moUint},
		"inode_readahead_blks": {kind: moUint}, "max_batch_time": {kind: moUint}, "min_batch_time": {kind: moUint},
		"journal_ioprio": {kind: moUint}, "init_itable": {kind: moUint, value: true}, "sb": {kind: moUint},
	})
	xfs := mountOptWith(mountOptFlags("attr2", "discard", "nodiscard", "grpid", "bsdgroups", "nogrpid", "sysvgroups",
		"filestreams", "ikeep", "noikeep", "inode32", "inode64", "largeio", "nolargeio", "noalign",
		"norecovery", "nouuid", "noquota", "uquota", "usrquota", "gquota", "grpquota", "pquota", "prjquota",
		"uqnoenforce", "gqnoenforce", "pqnoenforce", "swalloc", "wsync", "dax", "lazytime", "nolazytime"),
		map[string]mountOptSpec{
			"allocsize": {kind: moSize}, "logbufs": {kind: moUint}, "logbsize": {kind: moSize},
			"logdev": {kind: moPath}, "rtdev": {kind: moPath}, "sunit": {kind: moUint}, "swidth": {kind: moUint},
			"dax": {kind: moEnum, enum: []string{"always", "never", "inode"}, value: true},
		})
	btrfs := mountOptWith(mountOptFlags("degraded", "discard", "nodiscard", "space_cache", "nospace_cache", "clear_cache",
		"ssd", "nossd", "ssd_spread", "nossd_spread", "autodefrag", "noautodefrag", "datacow", "nodatacow",
		"datasum", "nodatasum", "barrier", "nobarrier", "flushoncommit", "noflushoncommit", "skip_balance",
		"acl", "noacl", "user_subvol_rm_allowed", "treelog", "notreelog", "enospc_debug", "noenospc_debug",
		"compress", "compress-force", "lazytime", "nolazytime"), map[string]mountOptSpec{
		"compress":       {kind: moWord, value: true},
		"compress-force": {kind: moWord, value: true},
		"discard":        {kind: moEnum, enum: []string{"sync", "async"}, value: true},
		"space_cache":    {kind: moEnum, enum: []string{"v1", "v2"}, value: true},
		"subvol":         {kind: moSubvol}, "subvolid": {kind: moUint}, "device": {kind: moPath},
		"commit": {kind: moUint}, "thread_pool": {kind: moUint}, "max_inline": {kind: moSize},
		"metadata_ratio": {kind: moUint},
		"rescue": {kind: moEnum, enum: []string{"usebackuproot", "nologreplay", "ignorebadroots", "ibadroots",
			"ignoredatacsums", "idatacsums", "ignoremetacsums", "ignoresuperflags", "all"}},
		"fatal_errors": {kind: moEnum, enum: []string{"bug"}},
	})
	vfat := mountOptWith(mountOptFlags("utf8", "quiet", "showexec", "flush", "sys_immutable", "dots", "nodots", "rodir",
		"discard", "usefree", "nocase"), map[string]mountOptSpec{
		"uid": {kind: moUint}, "gid": {kind: moUint}, "umask": {kind: moOctal}, "dmask": {kind: moOctal},
		"fmask": {kind: moOctal}, "allow_utime": {kind: moOctal}, "codepage": {kind: moUint},
		"iocharset": {kind: moWord}, "shortname": {kind: moEnum, enum: []string{"lower", "win95", "winnt", "mixed"}},
		"tz": {kind: moEnum, enum: []string{"UTC"}}, "time_offset": {kind: moWord},
		"errors": errs, "check": {kind: moEnum, enum: []string{"r", "n", "s", "relaxed", "normal", "strict"}},
		"nfs": {kind: moEnum, enum: []string{"stale_rw", "nostale_ro"}, value: true},
	})
	return map[Type]map[string]mountOptSpec{Ext2: ext4, Ext3: ext4, Ext4: ext4, XFS: xfs, Btrfs: btrfs, VFAT: vfat}
}()

// refusedMountOptions take the host down on the first error: never passed.
var refusedMountOptions = map[string]bool{"errors=panic": true, "fatal_errors=panic": true}

// validateMountData checks each option against t's allow list and joins
// them with commas for mount(2). An option the list does not have, a comma
// inside an element, an empty element, a key without a value where one is
// needed, a value where none is taken, a second "=" or a value of the wrong
// form is ErrInvalid naming the option; errors=panic and fatal_errors=panic
// are *RefusedError dangerous_mount_option.
func validateMountData(t Type, data []string) (string, error) {
	allow, ok := mountOptionAllow[t]
	if !ok {
		if len(data) > 0 {
			return "", fmt.Errorf("%w: no filesystem options are known for type %q", ErrInvalid, t)
		}
		return "", nil
	}
	seen := map[string]bool{}
	for _, o := range data {
		if err := validateMountOption(allow, o); err != nil {
			return "", err
		}
		k, _, _ := strings.Cut(o, "=")
		if seen[k] {
			return "", fmt.Errorf("%w: mount option %q given twice", ErrInvalid, k)
		}
		seen[k] = true
	}
	return strings.Join(data, ","), nil
}

func validateMountOption(allow map[string]mountOptSpec, o string) error {
	bad := func(why string) error { return fmt.Errorf("%w: mount option %q: %s", ErrInvalid, o, why) }
	if o == "" {
		return bad("empty")
	}
	if strings.ContainsAny(o, ",\x00\n\t ") {
		return bad("contains a comma, NUL or whitespace (one option per element)")
	}
	if refusedMountOptions[o] {
		return &RefusedError{Code: "dangerous_mount_option", Reason: fmt.Sprintf("%q panics the kernel on the first error", o)}
	}
	k, v, hasV := strings.Cut(o, "=")
	if k == "" {
		return bad("no name before =")
	}
	spec, ok := allow[k]
	if !ok {
		return bad("not an option fsys knows for this type")
	}
	if strings.Contains(v, "=") {
		return bad("more than one =")
	}
	if !hasV {
		if spec.kind == moFlag || spec.value {
			return nil
		}
		return bad("needs a value")
	}
	if v == "" {
		return bad("empty value")
	}
	switch spec.kind {
	case moFlag:
		if spec.value && (v == "0" || v == "1") {
			return nil
		}
		return bad("takes no value")
	case moUint:
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return bad("value is not a decimal number")
		}
	case moSize:
		n := strings.TrimRight(v, "kKmMgG")
		if len(v)-len(n) > 1 {
			return bad("size has more than one suffix")
		}
		if _, err := strconv.ParseUint(n, 10, 64); err != nil {
			return bad("value is not a size")
		}
	case moOctal:
		if _, err := strconv.ParseUint(v, 8, 32); err != nil {
			return bad("value is not octal")
		}
	case moEnum:
		for _, e := range spec.enum {
			if v == e {
				return nil
			}
		}
		return bad("value is not one of " + strings.Join(spec.enum, ", "))
	case moPath:
		if !filepath.IsAbs(v) || filepath.Clean(v) != v {
			return bad("value is not a clean absolute path")
		}
	case moSubvol:
		if strings.Contains("/"+v+"/", "/../") {
			return bad("subvolume path has ..")
		}
	case moWord:
		for _, c := range v {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.:-+", c)) {
				return bad("value has a character outside [A-Za-z0-9_.:+-]")
			}
		}
	}
	return nil
}
