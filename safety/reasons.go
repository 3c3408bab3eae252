package safety

// Code is a stable, machine-readable refusal reason. The strings never change.
type Code string

const (
	CodeNotFound       Code = "not_found"        // the path does not exist
	CodeNotBlockDevice Code = "not_block_device" // the path is not a block device
	CodeMounted        Code = "mounted"          // the device, a partition or something stacked on it is mounted
	CodeSwapActive     Code = "swap_active"      // the device or a partition is active swap
	CodeHasHolders     Code = "has_holders"      // dm, md or another driver holds the device
	CodeInUse          Code = "in_use"           // an O_EXCL open fails with EBUSY
	CodeProtected      Code = "protected"        // under /, /boot, /boot/efi or on the caller's list
	CodeReadOnly       Code = "read_only"        // the kernel marks the device read-only
	CodeNotEmpty       Code = "not_empty"        // a signature or partition table was found
	// CodeUnrecognizedData: no signature was recognised, but the places where
	// on-disk formats keep metadata hold nonzero bytes, so the device is not
	// positively blank.
	CodeUnrecognizedData Code = "unrecognized_data"
	CodeUnreadable       Code = "unreadable"   // the device could not be read, so emptiness is unproven
	CodeTooSmall         Code = "too_small"    // smaller than the operation needs
	CodeLVMMember        Code = "lvm_member"   // an LVM physical volume
	CodeMDMember         Code = "md_member"    // an md member, or firmware RAID metadata (IMSM, DDF...)
	CodeToolMissing      Code = "tool_missing" // a program the operation runs is not installed
	CodeLockedDown       Code = "locked_down"  // a failed undo locked the device down
	// CodePendingRecovery: an interrupted mutation of the device awaits
	// Journal.Recover; nothing else may touch it first.
	CodePendingRecovery Code = "pending_recovery"
)

// Overridable reports whether an operator may override the code. Facts
// that make the operation meaningless or impossible (no device, a tool
// missing, a read-only device) and lock-down (lifted only by Journal.Clear)
// cannot be overridden.
func (c Code) Overridable() bool {
	switch c {
	case CodeNotFound, CodeNotBlockDevice, CodeToolMissing, CodeReadOnly, CodeLockedDown, CodePendingRecovery:
		return false
	}
	return true
}
