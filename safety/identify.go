package safety

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"golang.org/x/sys/unix"
)

// IdentityOf reads the identity of what is at path now: maj:min and
// diskseq from the node and sysfs, serial and WWN from the disk's sysfs
// device directory, and the partition-table UUID from the device itself.
// For a regular file it gives st_dev and the inode. Sysfs is the live one
// unless WithRoot says otherwise (the other CheckOptions do not apply).
//
// A block device whose sysfs entry or identity attributes exist but cannot
// be read is an error (with what could be read): an identity missing its
// strong keys would let recovery take a different disk for the journaled one.
func IdentityOf(ctx context.Context, path string, opts ...CheckOption) (Identity, error) {
	root, err := rootOf(opts)
	if err != nil {
		return Identity{}, err
	}
	return identityAt(ctx, root, path, openDevice)
}

// rootOf is the sysfs root that CheckOptions select (the live one by default).
func rootOf(opts []CheckOption) (sysfs.Root, error) {
	c, err := newCheckConfig(OpWipe, opts)
	if err != nil {
		return sysfs.Root{}, err
	}
	return c.root, nil
}

// identityAt reads the device itself (for the table UUID) through open, in
// a goroutine bounded by ctx: a device that does not answer must not hang
// the caller (DESIGN.md principle 6).
func identityAt(ctx context.Context, root sysfs.Root, path string, open DeviceOpener) (Identity, error) {
	if err := ctx.Err(); err != nil {
		return Identity{}, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Identity{}, fmt.Errorf("safety: identify %s: %w", path, os.NewSyscallError("stat", err))
	}
	id := Identity{Path: path, BootID: bootID(root)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		id.Major, id.Minor, id.Inode = unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino
		return id, nil
	case unix.S_IFBLK:
	default:
		return id, fmt.Errorf("%w: %s is neither a block device nor a regular file", ErrInvalid, path)
	}
	id.Major, id.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	mm := fmt.Sprintf("%d:%d", id.Major, id.Minor)
	dir, err := filepath.EvalSymlinks(root.Sys("dev", "block", mm))
	if err != nil {
		return id, fmt.Errorf("safety: identify %s: sysfs entry of %s: %w", path, mm, err)
	}
	disk := dir
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		disk = filepath.Dir(dir)
	}
	// optional reads an attribute the kernel may lack; a failed read of one
	// that exists is an error.
	var errs []error
	optional := func(rel ...string) string {
		v, err := sysfs.ReadAttr(filepath.Join(append([]string{disk}, rel...)...))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		return v
	}
	if v := optional("diskseq"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("diskseq %q: %w", v, err))
		}
		id.DiskSeq = n
	}
	id.Serial = optional("device", "serial")
	if id.WWN = optional("device", "wwid"); id.WWN == "" {
		id.WWN = optional("wwid")
	}
	pt, err := readPTUUIDCtx(ctx, path, open)
	if err != nil {
		errs = append(errs, fmt.Errorf("partition-table UUID: %w", err))
	}
	id.PTUUID = pt
	if len(errs) > 0 {
		return id, fmt.Errorf("safety: identify %s: %w", path, errors.Join(errs...))
	}
	return id, nil
}

// bootID is the kernel's id of this boot, "" when the kernel does not say
// (then identities are compared as if within one boot).
func bootID(root sysfs.Root) string {
	v, err := sysfs.ReadAttr(root.Proc("sys", "kernel", "random", "boot_id"))
	if err != nil {
		return ""
	}
	return v
}

// readPTUUIDCtx reads the partition-table UUID of path, giving up when ctx
// ends (the read goes on in its goroutine and ends on its own). A device
// that cannot be opened has no UUID to compare: "".
func readPTUUIDCtx(ctx context.Context, path string, open DeviceOpener) (string, error) {
	ch := make(chan string, 1)
	go func() {
		d, err := open(path, os.O_RDONLY)
		if err != nil {
			ch <- ""
			return
		}
		defer d.Close()
		ch <- readPTUUID(d)
	}()
	select {
	case s := <-ch:
		return s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// readPTUUID reads the partition-table UUID as blkid prints it: the GPT disk
// GUID (header at 512 or 4096), else the MBR disk signature as 8 hex digits.
func readPTUUID(f io.ReaderAt) string {
	buf := make([]byte, 8192)
	n, _ := f.ReadAt(buf, 0)
	buf = buf[:n]
	for _, off := range []int{512, 4096} {
		if len(buf) >= off+72 && string(buf[off:off+8]) == "EFI PART" {
			return guidString(buf[off+56 : off+72])
		}
	}
	if len(buf) >= 512 && buf[510] == 0x55 && buf[511] == 0xAA {
		if sig := binary.LittleEndian.Uint32(buf[440:444]); sig != 0 {
			return fmt.Sprintf("%08x", sig)
		}
	}
	return ""
}

// guidString formats a GPT mixed-endian GUID.
func guidString(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}
