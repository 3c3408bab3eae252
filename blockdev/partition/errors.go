package partition

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns matches one of them with
// errors.Is.
var (
	// ErrNoTable: the disk carries no partition table we recognise (no MBR
	// signature, no GPT header). Distinct from ErrUnreadable.
	ErrNoTable = errors.New("partition: no partition table")
	// ErrUnreadable: a table is there (a GPT signature, a protective MBR)
	// but no copy of it is intact enough to use.
	ErrUnreadable = errors.New("partition: partition table present but unreadable")
	// ErrInvalidArgument: a bad size, type, number or option.
	ErrInvalidArgument = errors.New("partition: invalid argument")
	// ErrInvalidLayout: an edit or a table fails validation (overlap,
	// bounds, alignment, too many partitions). Nothing was written.
	ErrInvalidLayout = errors.New("partition: invalid layout")
	// ErrNotFound: no partition with that number.
	ErrNotFound = errors.New("partition: not found")
	// ErrNoSpace: no free region large enough.
	ErrNoSpace = errors.New("partition: no free space")
	// ErrUnrepairable: Repair found problems it cannot fix from a good copy.
	ErrUnrepairable = errors.New("partition: cannot repair")
	// ErrNotSupported: the operation does not apply to this label or target.
	ErrNotSupported = errors.New("partition: not supported")
	// ErrKernelNotUpdated: the table on disk was written but the kernel's
	// view of the partitions could not be brought in line.
	ErrKernelNotUpdated = errors.New("partition: kernel partition view not updated")
	// ErrBusy: the change touches a partition that is in use.
	ErrBusy = errors.New("partition: in use")
	// ErrChanged: the table on disk is no longer the one the table being
	// written was read from (another writer got there first). Read again
	// and redo the edit.
	ErrChanged = errors.New("partition: table changed on disk since it was read")
	// ErrUnsafe: a safety check refused the change.
	ErrUnsafe = errors.New("partition: refused by safety check")
)

// Kinds of problem Verify reports. A Problem matches its kind with errors.Is.
var (
	ErrPrimaryHeaderCRC     = errors.New("primary GPT header CRC wrong")
	ErrPrimaryHeaderInvalid = errors.New("primary GPT header missing or invalid")
	ErrPrimaryEntriesCRC    = errors.New("primary GPT entries CRC wrong")
	ErrBackupHeaderCRC      = errors.New("backup GPT header CRC wrong")
	ErrBackupHeaderInvalid  = errors.New("backup GPT header missing or invalid")
	ErrBackupEntriesCRC     = errors.New("backup GPT entries CRC wrong")
	ErrBackupNotAtEnd       = errors.New("backup GPT header not at the last LBA")
	ErrBackupMismatch       = errors.New("backup GPT does not match primary")
	ErrOverlap              = errors.New("partitions overlap")
	ErrOutsideUsable        = errors.New("partition outside the usable range")
	ErrEntriesOverlapUsable = errors.New("GPT entries array overlaps the usable area")
	ErrProtectiveMBRMissing = errors.New("protective MBR missing")
	ErrProtectiveMBRWrong   = errors.New("protective MBR wrong")
	ErrHybridMBR            = errors.New("hybrid MBR")
	ErrDiskGrew             = errors.New("disk grew since the table was written")
	ErrDiskShrank           = errors.New("disk shrank since the table was written")
	ErrBadEBRChain          = errors.New("extended partition chain broken")
	ErrMisaligned           = errors.New("partition not aligned to the physical sector")
	// ErrStaleGPT: a dos table in sector 0 with an intact GPT copy behind
	// it. The dos table is the one in use (the kernel reads a GPT only
	// behind a protective MBR); writing the dos table clears the GPT.
	ErrStaleGPT = errors.New("stale GPT behind a dos MBR")
)

// Problem is one defect Verify found.
type Problem struct {
	Kind   error  // one of the ErrXxx problem kinds above
	Detail string // what exactly, for a person
	// Partitions names the partition numbers involved, if any.
	Partitions []int
}

func (p Problem) Error() string {
	if p.Detail == "" {
		return p.Kind.Error()
	}
	return fmt.Sprintf("%v: %s", p.Kind, p.Detail)
}

func (p Problem) Unwrap() error { return p.Kind }

// LayoutError is an edit or table that failed validation; it matches
// ErrInvalidLayout and each problem's kind.
type LayoutError struct{ Problems []Problem }

func (e *LayoutError) Error() string {
	s := ErrInvalidLayout.Error()
	for i, p := range e.Problems {
		if i == 0 {
			s += ": "
		} else {
			s += "; "
		}
		s += p.Error()
	}
	return s
}

func (e *LayoutError) Unwrap() []error {
	out := []error{ErrInvalidLayout}
	for _, p := range e.Problems {
		out = append(out, p)
	}
	return out
}

// KernelError is returned when the table was written but the kernel could
// not be told; Advice says what a person should do.
type KernelError struct {
	Op        string // "add", "delete", "resize", "reread"
	Partition int
	Err       error
	Advice    string
}

func (e *KernelError) Error() string {
	return fmt.Sprintf("partition: kernel %s of partition %d: %v (%s)", e.Op, e.Partition, e.Err, e.Advice)
}

func (e *KernelError) Unwrap() []error { return []error{ErrKernelNotUpdated, e.Err} }
