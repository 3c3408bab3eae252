//go:build ppc || ppc64 || ppc64le || mips || mipsle || mips64 || mips64le || sparc || sparc64

package nvmeioctl

// powerpc, mips and sparc: 3 direction bits at 29, 13 size bits at 16, and
// _IOC_NONE is 1, not 0.
const (
	iocNone  = 1
	iocWrite = 4
	iocRead  = 2

	iocDirShift  = 29
	iocSizeShift = 16
	iocSizeBits  = 13
)
