package perf

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// SCSIErrors are the SCSI midlayer's per-device command counters
// (/sys/class/block/DEV/device/{iorequest,iodone,ioerr}_cnt). Only SCSI disks
// (sd, which includes SATA and USB storage) have them; IOErrors counts
// commands that completed with an error. The kernel keeps them as 32-bit
// counters printed in hex.
type SCSIErrors struct {
	IORequests, IODone, IOErrors uint64
}

// ReadSCSIErrors reads the counters of a whole-disk device under rootDir
// ("" for the live system). A device without them (NVMe, virtio, loop)
// gives ErrNotSupported.
func ReadSCSIErrors(rootDir, device string) (SCSIErrors, error) {
	root, err := newRoot(rootDir)
	if err != nil {
		return SCSIErrors{}, err
	}
	return readSCSIErrors(root, device)
}

func readSCSIErrors(root sysfs.Root, device string) (SCSIErrors, error) {
	if device == "" || containsSlash(device) || device == "." || device == ".." {
		return SCSIErrors{}, optErr("device name %q", device)
	}
	var out SCSIErrors
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"iorequest_cnt", &out.IORequests}, {"iodone_cnt", &out.IODone}, {"ioerr_cnt", &out.IOErrors}} {
		s, err := sysfs.ReadAttr(root.Sys("class", "block", device, "device", f.name))
		if errors.Is(err, fs.ErrNotExist) {
			return SCSIErrors{}, fmt.Errorf("%w: %s has no SCSI counters", ErrNotSupported, device)
		}
		if err != nil {
			return SCSIErrors{}, err
		}
		v, err := strconv.ParseUint(s, 0, 64) // "0x1f"
		if err != nil {
			return SCSIErrors{}, fmt.Errorf("%w: %s/%s = %q", ErrMalformed, device, f.name, s)
		}
		*f.dst = v
	}
	return out, nil
}
