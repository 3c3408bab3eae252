// Package nvmeioctl is the raw NVMe admin passthrough layer under
// blockdev/smart.
//
// It mirrors struct nvme_passthru_cmd (alias nvme_admin_cmd, 72 bytes) and
// struct nvme_passthru_cmd64 (80 bytes) from include/uapi/linux/nvme_ioctl.h,
// and the ioctl numbers built from them with the architecture's _IOC
// encoding (generic, or the powerpc/mips/sparc one, chosen by build tags).
//
// Lifetime hazard: the command carries the data buffer's address as a plain
// 64-bit integer, which the garbage collector does not see. Admin pins the
// buffer with runtime.Pinner for the ioctl and keeps it alive afterwards, so
// the kernel never writes into memory that was moved or freed.
//
// The ioctl's return value is the NVMe completion status when positive
// (status code, status code type, CRD, More, DNR bits, without the phase
// tag); Admin returns it as a *StatusError so callers can tell "the device
// refused" (errors.As) from "the ioctl failed" (a *os.SyscallError).
package nvmeioctl
