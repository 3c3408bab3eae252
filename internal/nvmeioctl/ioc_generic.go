//go:build !(ppc || ppc64 || ppc64le || mips || mipsle || mips64 || mips64le || sparc || sparc64)

package nvmeioctl

// The asm-generic _IOC layout: 2 direction bits at 30, 14 size bits at 16.
const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2

	iocDirShift  = 30
	iocSizeShift = 16
	iocSizeBits  = 14
)
