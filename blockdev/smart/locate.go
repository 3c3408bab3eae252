package smart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"golang.org/x/sys/unix"
)

// target is a device resolved to its whole disk and protocol.
type target struct {
	name   string // kernel name of the whole disk ("sda", "nvme0n1")
	node   string // device node to open
	sysDir string // its /sys/class/block (or scsi_generic) entry, resolved
	// protocol is the one forced, NVMe for a disk on the NVMe bus, or
	// ProtocolAuto for a SCSI device, which classify decides by asking.
	protocol Protocol
	forced   bool
	bus      string     // subsystem of the disk's device: "scsi", "nvme"
	usb      *USBBridge // the USB device above a SCSI device, from sysfs
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
	sub, err := os.Readlink(filepath.Join(sysDir, "device", "subsystem"))
	if err == nil {
		t.bus = filepath.Base(sub)
	}
	if c.protocol != ProtocolAuto {
		t.protocol, t.forced = c.protocol, true
		if t.bus == "scsi" {
			t.usb = c.usbBridge(filepath.Join(sysDir, "device"))
		}
		return t, nil
	}
	if err != nil {
		// loop, zram, device-mapper and md disks have no backing device.
		return nil, fmt.Errorf("%w: %s is a virtual block device with no drive behind it", ErrNotSupported, t.name)
	}
	switch t.bus {
	case "nvme", "nvme-subsystem":
		t.protocol = ProtocolNVMe
	case "scsi":
		// libata, SAS, USB bridges and virtio-scsi all present SCSI
		// devices; which protocol answers is for classify to find out, as
		// smartctl does: from the USB bridge's id, or from INQUIRY and
		// whether ATA PASS-THROUGH is answered.
		t.protocol = ProtocolAuto
		t.usb = c.usbBridge(filepath.Join(sysDir, "device"))
	default:
		return nil, fmt.Errorf("%w: %s is on the %s bus, which has no SMART passthrough", ErrNotSupported, t.name, t.bus)
	}
	return t, nil
}

// usbBridge walks up from a SCSI device's sysfs directory to the USB
// device it sits on, if any: the first ancestor on the usb bus that has
// idVendor (the device, not its interface). It reads only sysfs.
func (c *config) usbBridge(devLink string) *USBBridge {
	dir, err := filepath.EvalSymlinks(devLink)
	if err != nil {
		return nil
	}
	top := c.root.Sys("devices")
	for ; len(dir) > len(top) && strings.HasPrefix(dir, top); dir = filepath.Dir(dir) {
		sub, err := os.Readlink(filepath.Join(dir, "subsystem"))
		if err != nil || filepath.Base(sub) != "usb" {
			continue
		}
		id := func(name string) (uint16, bool) {
			s, err := sysfs.ReadAttr(filepath.Join(dir, name))
			if err != nil {
				return 0, false
			}
			v, err := strconv.ParseUint(s, 16, 16)
			return uint16(v), err == nil
		}
		vendor, ok1 := id("idVendor")
		product, ok2 := id("idProduct")
		if !ok1 || !ok2 {
			continue // a USB interface: its device is further up
		}
		rev, _ := id("bcdDevice")
		return lookupUSBBridge(vendor, product, rev)
	}
	return nil
}

// locateChar accepts the character devices smartctl users also name: an
// NVMe controller (/dev/nvme0) and a SCSI generic node (/dev/sg0).
func (c *config) locateChar(devicePath, name string) (*target, error) {
	if r, err := filepath.EvalSymlinks(c.root.Sys("class", "nvme", name)); err == nil {
		p := c.protocol
		if p == ProtocolAuto {
			p = ProtocolNVMe
		}
		return &target{name: name, node: c.root.Dev(name), sysDir: r, protocol: p, forced: c.protocol != ProtocolAuto, bus: "nvme"}, nil
	}
	r, err := filepath.EvalSymlinks(c.root.Sys("class", "scsi_generic", name))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is neither a block device, an NVMe controller nor a SCSI generic node", ErrNotFound, devicePath)
	}
	t := &target{name: name, node: c.root.Dev(name), sysDir: r, protocol: c.protocol, forced: c.protocol != ProtocolAuto}
	sub, err := os.Readlink(filepath.Join(r, "device", "subsystem"))
	if err == nil {
		t.bus = filepath.Base(sub)
	}
	if t.bus == "scsi" {
		t.usb = c.usbBridge(filepath.Join(r, "device"))
	}
	if t.forced {
		return t, nil
	}
	if t.bus != "scsi" {
		return nil, fmt.Errorf("%w: %s is not a SCSI device", ErrNotSupported, name)
	}
	return t, nil
}
