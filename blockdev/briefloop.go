package blockdev

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// loopMajor is LOOP_MAJOR, the number the kernel reserves for loop devices.
const loopMajor = 7

// briefing reports whether detached loop devices are read in brief: asked
// for, and listed at all (with WithEmpty(false) or WithDetachedLoops(false)
// they are left out before anything else of them is read).
func (x *discovery) briefing() bool {
	return x.cfg.briefLoops && x.cfg.empty && x.cfg.detached
}

// briefLoop reads the /sys/block entry name in brief when it is a detached
// loop device (WithBriefDetachedLoops), and returns nil when it is not one
// or cannot be shown to be one: the caller then reads it in full, taking
// the dev and size read here from x instead of reading them again.
//
// The number comes from /proc/diskstats (x.nums) when it lists the name: a
// loop device's number follows from its name for as long as the name
// exists (LOOP_MAJOR, the index shifted by the partition bits fixed when
// the driver loaded), so the table, unlike a disk's partition numbers,
// cannot be out of date for it. The rest is read through block
// (/sys/block/NAME/ATTR) without opening or listing the device's
// directory: a detached loop device has nothing there a listing would
// tell (no partitions, no dm/, md/ or device link).
func (x *discovery) briefLoop(block *sysfs.Dir, name, sysPath string) *Device {
	if !strings.HasPrefix(sysPath, "/sys/devices/virtual/") {
		// Loop devices have no parent device; anything else is not one.
		return nil
	}
	m, known := x.nums[name]
	if !known {
		if !x.haveDiskDev {
			x.opens++
			v, err := block.ReadAttr(name + "/dev")
			x.diskDev, x.haveDiskDev = v, err == nil
		}
		var err error
		if m, err = ParseMajMin(x.diskDev); !x.haveDiskDev || err != nil {
			return nil // read again, and its error recorded, in full
		}
	}
	if m.Major != loopMajor {
		return nil
	}
	// The loop driver adds loop/ when it binds a file and removes it on
	// release: no loop/ is detached; any other answer (an error) is not
	// known to be.
	x.opens++
	var st unix.Stat_t
	if err := block.Fstatat(name+"/loop", &st); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	switch {
	case x.sized != nil:
		// Not in /proc/partitions, read before any device: its size was
		// zero then, and with no loop/ now it is unbound.
		if x.sized[name] {
			return nil
		}
	default:
		if !x.haveDiskSize {
			x.opens++
			v, err := block.ReadAttr(name + "/size")
			x.diskSize, x.haveDiskSize = v, err == nil
		}
		if !x.haveDiskSize || x.diskSize != "0" {
			// A size, and no loop/: bound a moment ago, or
			// being bound (older kernels set the size before
			// they add loop/); or a size that cannot be read.
			return nil
		}
	}
	zero, no := uint64(0), false
	d := &Device{Name: name, KName: name, Path: filepath.Join("/dev", name), SysPath: sysPath,
		MajMin: m, Type: TypeLoop, Size: &zero, Removable: &no}
	if x.cfg.attrs&AttrHardware != 0 {
		// What kind and hardware give a device of the loop major with no
		// loop/ under /sys/devices/virtual, where no bus is above it.
		d.Transport = "loop"
		d.Hotplug = &no
	}
	return d
}

// sizedNames returns the names /proc/partitions lists ("major minor
// #blocks name" after two header lines): the kernel lists a disk or
// partition there only while its size is not zero (and the disk is not
// hidden). nil when it cannot be read; a line that does not parse names
// nothing, so its device is read in full.
func sizedNames(path string) map[string]bool {
	data, err := sysfs.ReadFile(path)
	if err != nil {
		return nil
	}
	names := map[string]bool{}
	for line := range strings.Lines(string(data)) {
		f0, rest := nextField(line)
		f1, rest := nextField(rest)
		f2, rest := nextField(rest)
		f3, _ := nextField(rest)
		if f3 == "" || !isDigits(f0) || !isDigits(f1) || !isDigits(f2) {
			continue
		}
		names[f3] = true
	}
	return names
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
