package blkpg

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BLKPG is _IO(0x12, 105) from include/uapi/linux/fs.h.
const BLKPG = 0x1269

// Operations of struct blkpg_ioctl_arg.op (include/uapi/linux/blkpg.h).
const (
	OpAdd    = 1 // BLKPG_ADD_PARTITION
	OpDelete = 2 // BLKPG_DEL_PARTITION
	OpResize = 3 // BLKPG_RESIZE_PARTITION
)

// Sizes of the name fields of struct blkpg_partition.
const (
	DevnameLen = 64 // BLKPG_DEVNAMELTH
	VolnameLen = 64 // BLKPG_VOLNAMELTH
)

// IoctlArg mirrors struct blkpg_ioctl_arg { int op; int flags; int datalen; void __user *data; }.
type IoctlArg struct {
	Op      int32
	Flags   int32
	Datalen int32
	Data    unsafe.Pointer
}

// Partition mirrors struct blkpg_partition { long long start; long long length;
// int pno; char devname[64]; char volname[64]; }. Start and Length are bytes.
type Partition struct {
	Start   int64
	Length  int64
	Pno     int32
	Devname [DevnameLen]byte
	Volname [VolnameLen]byte
}

// ErrBadArgument reports a request the kernel would reject before it is sent.
var ErrBadArgument = errors.New("blkpg: bad argument")

func call(fd uintptr, op int32, p *Partition) error {
	arg := IoctlArg{Op: op, Datalen: int32(unsafe.Sizeof(*p)), Data: unsafe.Pointer(p)}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, BLKPG, uintptr(unsafe.Pointer(&arg)))
	if errno != 0 {
		return os.NewSyscallError("ioctl BLKPG", errno)
	}
	return nil
}

func check(pno int, start, length int64) error {
	if pno < 1 || start < 0 || length < 0 {
		return fmt.Errorf("%w: partition %d start %d length %d", ErrBadArgument, pno, start, length)
	}
	return nil
}

// Add asks the kernel to create partition pno of the whole disk open as fd,
// start and length in bytes.
func Add(fd uintptr, pno int, start, length int64) error {
	if err := check(pno, start, length); err != nil {
		return err
	}
	p := Partition{Start: start, Length: length, Pno: int32(pno)}
	return call(fd, OpAdd, &p)
}

// Delete asks the kernel to forget partition pno. It fails with EBUSY while
// the partition is open (mounted, swap, held).
func Delete(fd uintptr, pno int) error {
	if err := check(pno, 0, 0); err != nil {
		return err
	}
	p := Partition{Pno: int32(pno)}
	return call(fd, OpDelete, &p)
}

// Resize changes the length of partition pno; the kernel refuses a changed start.
func Resize(fd uintptr, pno int, start, length int64) error {
	if err := check(pno, start, length); err != nil {
		return err
	}
	p := Partition{Start: start, Length: length, Pno: int32(pno)}
	return call(fd, OpResize, &p)
}
