package nvmeioctl

// iocEncoding is one architecture family's _IOC layout.
type iocEncoding struct {
	none, write, read   uintptr
	dirShift, sizeShift uintptr
	sizeBits            uintptr
}

// genericIOC is asm-generic/ioctl.h: 2 direction bits at 30, 14 size bits.
var genericIOC = iocEncoding{none: 0, write: 1, read: 2, dirShift: 30, sizeShift: 16, sizeBits: 14}

// threeBitDirIOC is powerpc, mips and sparc: 3 direction bits at 29, 13
// size bits, and _IOC_NONE is 1, not 0.
var threeBitDirIOC = iocEncoding{none: 1, write: 4, read: 2, dirShift: 29, sizeShift: 16, sizeBits: 13}

// ioc is the kernel's _IOC(dir, type, nr, size) under encoding e.
func (e iocEncoding) ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<e.dirShift | (size&(1<<e.sizeBits-1))<<e.sizeShift | typ<<8 | nr
}

func ioc(dir, typ, nr, size uintptr) uintptr { return archIOC.ioc(dir, typ, nr, size) }

var (
	iocNone  = archIOC.none
	iocWrite = archIOC.write
	iocRead  = archIOC.read
)
