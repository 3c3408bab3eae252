package nvmeioctl

// ioc is the kernel's _IOC(dir, type, nr, size) for this architecture.
func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<iocDirShift | (size&(1<<iocSizeBits-1))<<iocSizeShift | typ<<8 | nr
}
