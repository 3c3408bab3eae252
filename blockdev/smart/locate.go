package smart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// target is a device resolved to its whole disk and protocol.
type target struct {
	name     string // kernel name of the whole disk ("sda", "nvme0n1")
	node     string // device node to open
	sysDir   string // its /sys/class/block entry, resolved
	protocol Protocol
}

// locate finds the disk behind devicePath in sysfs and decides the protocol
// from the subsystem the disk's device belongs to. A partition resolves to
// its disk: SMART belongs to the drive.
func (c *config) locate(devicePath string) (*target, error) {
	name := filepath.Base(devicePath)
	if c.root.IsLive() {
		if p, err := filepath.EvalSymlinks(devicePath); err == nil {
			name = filepath.Base(p)
		}
	}
	var sysDir string
	// Key by major:minor when the node is a block device, by name otherwise.
	var st unix.Stat_t
	if err := unix.Stat(c.root.Path(devicePath), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		p := c.root.Sys("dev", "block", fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))))
		if r, err := filepath.EvalSymlinks(p); err == nil {
			sysDir = r
		}
	}
	if sysDir == "" {
		r, err := filepath.EvalSymlinks(c.root.Sys("class", "block", name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return c.locateChar(devicePath, name)
			}
			return nil, fmt.Errorf("smart: %s: %w", devicePath, err)
		}
		sysDir = r
	}
	if _, err := os.Stat(filepath.Join(sysDir, "partition")); err == nil {
		sysDir = filepath.Dir(sysDir)
	}
	t := &target{name: filepath.Base(sysDir), sysDir: sysDir}
	t.node = c.root.Dev(t.name)
	if c.protocol != ProtocolAuto {
		t.protocol = c.protocol
		return t, nil
	}
	sub, err := os.Readlink(filepath.Join(sysDir, "device", "subsystem"))
	if err != nil {
		// loop, zram, device-mapper and md disks have no backing device.
		return nil, fmt.Errorf("%w: %s is a virtual block device with no drive behind it", ErrNotSupported, t.name)
	}
	switch s := filepath.Base(sub); s {
	case "nvme", "nvme-subsystem":
		t.protocol = ProtocolNVMe
	case "scsi":
		// libata, SAS, USB bridges and virtio-scsi all present SCSI disks;
		// SAT answers for the ones with an ATA drive behind them and the
		// rest refuse ATA PASS-THROUGH, which becomes ErrNotSupported.
		t.protocol = ProtocolATA
	default:
		return nil, fmt.Errorf("%w: %s is on the %s bus, which has no SMART passthrough", ErrNotSupported, t.name, s)
	}
	return t, nil
}

// locateChar accepts the character devices smartctl users also name: an
// NVMe controller (/dev/nvme0) and a SCSI generic node (/dev/sg0).
func (c *config) locateChar(devicePath, name string) (*target, error) {
	if r, err := filepath.EvalSymlinks(c.root.Sys("class", "nvme", name)); err == nil {
		p := c.protocol
		if p == ProtocolAuto {
			p = ProtocolNVMe
		}
		return &target{name: name, node: c.root.Dev(name), sysDir: r, protocol: p}, nil
	}
	r, err := filepath.EvalSymlinks(c.root.Sys("class", "scsi_generic", name))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is neither a block device, an NVMe controller nor a SCSI generic node", ErrNotFound, devicePath)
	}
	t := &target{name: name, node: c.root.Dev(name), sysDir: r, protocol: c.protocol}
	if t.protocol != ProtocolAuto {
		return t, nil
	}
	sub, err := os.Readlink(filepath.Join(r, "device", "subsystem"))
	if err != nil || filepath.Base(sub) != "scsi" {
		return nil, fmt.Errorf("%w: %s is not a SCSI device", ErrNotSupported, name)
	}
	t.protocol = ProtocolATA
	return t, nil
}
