package safety

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"golang.org/x/sys/unix"
)

// IdentityOf reads the identity of what is at path now on the live system:
// maj:min and diskseq from the node and sysfs, serial and WWN from the
// disk's sysfs device directory, and the partition-table UUID from the
// device itself. For a regular file it gives st_dev and the inode.
func IdentityOf(ctx context.Context, path string) (Identity, error) {
	return identityAt(ctx, sysfs.Live, path)
}

func identityAt(ctx context.Context, root sysfs.Root, path string) (Identity, error) {
	if err := ctx.Err(); err != nil {
		return Identity{}, err
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Identity{}, fmt.Errorf("safety: identify %s: %w", path, os.NewSyscallError("stat", err))
	}
	id := Identity{Path: path}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		id.Major, id.Minor, id.Inode = unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino
		return id, nil
	case unix.S_IFBLK:
	default:
		return id, fmt.Errorf("%w: %s is neither a block device nor a regular file", ErrInvalid, path)
	}
	id.Major, id.Minor = unix.Major(st.Rdev), unix.Minor(st.Rdev)
	dir, err := filepath.EvalSymlinks(root.Sys("dev", "block", fmt.Sprintf("%d:%d", id.Major, id.Minor)))
	if err == nil {
		disk := dir
		if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
			disk = filepath.Dir(dir)
		}
		if v, err := sysfs.ReadAttr(filepath.Join(disk, "diskseq")); err == nil {
			id.DiskSeq, _ = strconv.ParseUint(v, 10, 64)
		}
		if v, err := sysfs.ReadAttr(filepath.Join(disk, "device", "serial")); err == nil {
			id.Serial = v
		}
		if v, err := sysfs.ReadAttr(filepath.Join(disk, "device", "wwid")); err == nil {
			id.WWN = v
		} else if v, err := sysfs.ReadAttr(filepath.Join(disk, "wwid")); err == nil {
			id.WWN = v
		}
	}
	if f, err := os.Open(path); err == nil {
		id.PTUUID = readPTUUID(f)
		f.Close()
	}
	return id, nil
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
