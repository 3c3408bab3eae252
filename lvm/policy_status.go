package lvm

import (
	"strconv"
	"strings"
)

// ThinMetadataBlockBytes is the size of a thin-pool metadata block: the
// kernel's dm-thin metadata is always in 4 KiB blocks, whatever the data
// block (chunk) size.
const ThinMetadataBlockBytes = 4096

// ThinPoolStatus is a thin-pool target's status line, parsed in full
// (kernel Documentation/admin-guide/device-mapper/thin-provisioning.rst):
//
//	<transaction id> <used metadata blocks>/<total metadata blocks>
//	<used data blocks>/<total data blocks> <held metadata root>
//	ro|rw|out_of_data_space [no_]discard_passdown
//	[error|queue]_if_no_space needs_check|- <metadata low watermark>
//
// Older kernels stop earlier; the fields they do not print keep their zero
// values. A pool whose status is "Fail" or "Error" has no counts: Mode says
// so and the counts are zero.
type ThinPoolStatus struct {
	TransactionID        uint64
	UsedMetaBlocks       uint64
	TotalMetaBlocks      uint64
	UsedDataBlocks       uint64
	TotalDataBlocks      uint64
	HeldRoot             string // "-" when none
	Mode                 string // "rw", "ro", "out_of_data_space", "Fail", "Error"
	DiscardPassdown      bool
	ErrorIfNoSpace       bool // error_if_no_space: writes fail at once when full
	NeedsCheck           bool
	MetadataLowWatermark uint64
}

// Failed reports a pool the kernel marked "Fail" or "Error", or read-only
// after a metadata failure.
func (s ThinPoolStatus) Failed() bool { return s.Mode == "Fail" || s.Mode == "Error" || s.Mode == "ro" }

// ParseThinPoolStatus parses a thin-pool status line. Anything else is a
// *MalformedError, never a panic.
func ParseThinPoolStatus(line string) (ThinPoolStatus, error) {
	f := strings.Fields(line)
	if len(f) == 1 && (f[0] == "Fail" || f[0] == "Error") {
		return ThinPoolStatus{Mode: f[0]}, nil
	}
	if len(f) < 3 {
		return ThinPoolStatus{}, malformed("thin-pool status", 0, "%q: want at least 3 fields", line)
	}
	var s ThinPoolStatus
	var err error
	if s.TransactionID, err = strconv.ParseUint(f[0], 10, 64); err != nil {
		return ThinPoolStatus{}, malformed("thin-pool status", 0, "transaction id %q", f[0])
	}
	if s.UsedMetaBlocks, s.TotalMetaBlocks, err = usedTotal(f[1]); err != nil {
		return ThinPoolStatus{}, err
	}
	if s.UsedDataBlocks, s.TotalDataBlocks, err = usedTotal(f[2]); err != nil {
		return ThinPoolStatus{}, err
	}
	s.Mode = "rw"
	if len(f) > 3 {
		s.HeldRoot = f[3]
	}
	if len(f) > 4 {
		switch f[4] {
		case "rw", "ro", "out_of_data_space":
			s.Mode = f[4]
		default:
			return ThinPoolStatus{}, malformed("thin-pool status", 0, "mode %q", f[4])
		}
	}
	for _, w := range f[min(len(f), 5):] {
		switch w {
		case "discard_passdown":
			s.DiscardPassdown = true
		case "no_discard_passdown", "queue_if_no_space", "-":
		case "error_if_no_space":
			s.ErrorIfNoSpace = true
		case "needs_check":
			s.NeedsCheck = true
		default:
			n, err := strconv.ParseUint(w, 10, 64)
			if err != nil {
				return ThinPoolStatus{}, malformed("thin-pool status", 0, "field %q", w)
			}
			s.MetadataLowWatermark = n
		}
	}
	return s, nil
}

func usedTotal(s string) (used, total uint64, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, malformed("thin-pool status", 0, "%q is not used/total", s)
	}
	u, err1 := strconv.ParseUint(a, 10, 64)
	t, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || t == 0 || u > t {
		return 0, 0, malformed("thin-pool status", 0, "%q", s)
	}
	return u, t, nil
}

// thinPoolBlockSectors reads the data block size (in 512-byte sectors)
// from a thin-pool table line: "<metadata dev> <data dev> <data block
// size> <low water mark> [<feature count> <features>...]".
func thinPoolBlockSectors(table string) (uint64, error) {
	f := strings.Fields(table)
	if len(f) < 4 {
		return 0, malformed("thin-pool table", 0, "%q", table)
	}
	n, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil || n == 0 {
		return 0, malformed("thin-pool table", 0, "data block size %q", f[2])
	}
	return n, nil
}
