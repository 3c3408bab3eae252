package fsioctl

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// iocEncoding is one architecture family's _IOC layout.
type iocEncoding struct {
	none, write, read   uintptr
	dirShift, sizeShift uintptr
	sizeBits            uintptr
}

// genericIOC is asm-generic/ioctl.h (x86, arm, arm64, riscv, s390, ...):
// 2 direction bits at 30, 14 size bits.
var genericIOC = iocEncoding{none: 0, write: 1, read: 2, dirShift: 30, sizeShift: 16, sizeBits: 14}

// threeBitDirIOC is powerpc, mips and sparc: 3 direction bits at 29, 13
// size bits.
var threeBitDirIOC = iocEncoding{none: 1, write: 4, read: 2, dirShift: 29, sizeShift: 16, sizeBits: 13}

func (e iocEncoding) ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<e.dirShift | (size&(1<<e.sizeBits-1))<<e.sizeShift | typ<<8 | nr
}

func (e iocEncoding) ior(typ, nr, size uintptr) uintptr  { return e.ioc(e.read, typ, nr, size) }
func (e iocEncoding) iow(typ, nr, size uintptr) uintptr  { return e.ioc(e.write, typ, nr, size) }
func (e iocEncoding) iowr(typ, nr, size uintptr) uintptr { return e.ioc(e.read|e.write, typ, nr, size) }

// ioctl issues req on fd with arg pointing at a struct; the errno is wrapped
// with the request's name so an error message says which call failed.
func ioctl(fd int, name string, req uintptr, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	if errno != 0 {
		return os.NewSyscallError("ioctl "+name, errno)
	}
	return nil
}
