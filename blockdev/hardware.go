package blockdev

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// hardware reads the identity of the device behind a disk (model, vendor,
// serial, revision, WWN) and works out its transport and SCSI address from
// the sysfs device link and the subsystems on the device's path.
func (x *discovery) hardware(d *Device) {
	if x.cur == nil || (x.present != nil && !x.present["device"]) {
		return // virtual devices (loop, dm, md, zram) have no device link
	}
	target, err := x.cur.Readlink("device")
	if err != nil {
		return
	}
	// Read as the kernel shows them, padding and all; the typed fields
	// are the same strings trimmed.
	raw := func(name string) string { v, _ := x.rawAttr(d, name); return v }
	d.SysfsIdentity = Identity{Model: raw("device/model"), Vendor: raw("device/vendor"),
		Revision: raw("device/rev"), Serial: raw("device/serial")}
	d.Model = trimBlank(d.SysfsIdentity.Model)
	d.Vendor = trimBlank(d.SysfsIdentity.Vendor)
	d.Revision = trimBlank(d.SysfsIdentity.Revision)
	d.Serial = trimBlank(d.SysfsIdentity.Serial)
	if w, ok := x.attr(d, "device/wwid"); ok {
		d.WWN = wwnFromSCSI(w)
	} else if w, ok := x.attr(d, "wwid"); ok {
		d.WWN = strings.TrimSpace(w) // an NVMe namespace's identifier, as udev's ID_WWN takes it
	}
	sub := x.subsystem("device/")
	x.devDepth, x.devSub = linkDepth(d.SysPath, target), sub
	if sub == "scsi" {
		if h, ok := parseHCTL(filepath.Base(target)); ok {
			d.HCTL = filepath.Base(target)
			d.Transport = x.scsiTransport(d, h)
		}
		return
	}
	switch sub {
	case "nvme", "nvme-subsystem":
		d.Transport = "nvme"
	case "virtio":
		d.Transport = "virtio"
	case "mmc":
		d.Transport = "mmc"
	}
}

// trimBlank trims ASCII white space, as sysfs.ReadAttr does.
func trimBlank(s string) string { return strings.Trim(s, " \t\n\r\v\f") }

// deviceHas reports whether the disk's device directory has the entry name:
// from its listing, or asked of the kernel when it could not be listed.
// Called only for a disk that has a device link.
func (x *discovery) deviceHas(name string) bool {
	if l := x.deviceList(); l != nil {
		return l[name]
	}
	return x.cur.Exists("device/" + name)
}

// subsystem returns the name of the subsystem of the directory rel (relative
// to the current disk's directory, "" or ending in '/'), from its subsystem
// link; "" when it has none.
func (x *discovery) subsystem(rel string) string {
	l, err := x.cur.Readlink(rel + "subsystem")
	if err != nil {
		return ""
	}
	return filepath.Base(l)
}

// wwnFromSCSI turns the SCSI device identification designator the kernel
// shows in device/wwid into a WWN as udev's ID_WWN and lsblk print it: NAA
// and EUI-64 designators as 0x-prefixed hex. A T10 vendor designator
// ("t10.ATA     MODEL   SERIAL") names a product, not a world-wide name,
// and gives none.
func wwnFromSCSI(w string) string {
	w = strings.TrimSpace(w)
	for _, p := range []string{"naa.", "eui."} {
		if rest, ok := strings.CutPrefix(w, p); ok && rest != "" {
			return "0x" + strings.ToLower(rest)
		}
	}
	return ""
}

func parseHCTL(s string) (host int, ok bool) {
	f := strings.Split(s, ":")
	if len(f) != 4 {
		return 0, false
	}
	for _, p := range f {
		if _, err := strconv.ParseUint(p, 10, 32); err != nil {
			return 0, false
		}
	}
	h, _ := strconv.Atoi(f[0])
	return h, true
}

// scsiTransport follows lsblk: the SCSI host's class (fc_host, sas_host,
// iscsi_host) decides, then a USB ancestor, then the host driver's name.
func (x *discovery) scsiTransport(d *Device, host int) string {
	hn := "host" + strconv.Itoa(host)
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	switch {
	case exists(x.root.Sys("class", "spi_transport")) && exists(x.root.Sys("class", "spi_host", hn)):
		return "spi"
	case exists(x.root.Sys("class", "fc_host", hn)):
		if name, err := sysfs.ReadAttr(x.root.Sys("class", "fc_host", hn, "symbolic_name")); err == nil && strings.Contains(name, " over ") {
			return "fcoe"
		}
		return "fc"
	case exists(x.root.Sys("class", "sas_host", hn)) || x.deviceHas("sas_device"):
		return "sas"
	case x.deviceHas("ieee1394_id"):
		return "sbp"
	case exists(x.root.Sys("class", "iscsi_host", hn)):
		return "iscsi"
	case strings.Contains(d.SysPath, "/usb"):
		return "usb"
	}
	x.opens++
	proc, err := sysfs.ReadAttr(x.root.Sys("class", "scsi_host", hn, "proc_name"))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.addErr("scsi_host/"+hn+"/proc_name", err)
		}
		return ""
	}
	switch {
	case strings.HasPrefix(proc, "ahci"), strings.HasPrefix(proc, "sata"):
		return "sata"
	case strings.Contains(proc, "ata"):
		return "ata"
	}
	return ""
}

// hotplug is lsblk's rule: removable media, or a device reached through a
// bus whose devices can come and go (usb, ieee1394, pcmcia, mmc, ccw). The
// ancestors are reached with "../" from the open disk directory, which the
// kernel resolved to its real place under /sys/devices.
func (x *discovery) hotplug(d *Device) *bool {
	t, f := true, false
	if d.Removable != nil && *d.Removable {
		return &t
	}
	if x.cfg.attrs&AttrSubsystems != 0 {
		// The same walk, done already.
		for _, sub := range d.Subsystems {
			if hotplugSubsystem(sub) {
				return &t
			}
		}
		return &f
	}
	rest, ok := strings.CutPrefix(d.SysPath, "/sys/devices/")
	if !ok || x.cur == nil || strings.HasPrefix(rest, "virtual/") {
		// The kernel places a device with no parent device under
		// /sys/devices/virtual: there is no bus above it to look at (loop,
		// zram, dm and md devices), and no readlink need fail to say so.
		return &f
	}
	up := ""
	for depth := 1; depth <= strings.Count(rest, "/"); depth++ {
		up += "../"
		var sub string
		switch {
		case depth < x.devDepth:
			continue // a class directory between the disk and its device
		case depth == x.devDepth:
			sub = x.devSub
		default:
			sub = x.subsystem(up)
		}
		if hotplugSubsystem(sub) {
			return &t
		}
	}
	return &f
}

// hotplugSubsystem: a bus whose devices can come and go (lsblk's list).
func hotplugSubsystem(sub string) bool {
	switch sub {
	case "usb", "ieee1394", "pcmcia", "mmc", "ccw":
		return true
	}
	return false
}

// subsystems walks the current disk's sysfs path up, as lsblk's SUBSYSTEMS
// does: the subsystem link of the disk's directory, then of each directory
// above it up to /sys/devices, a repeat of the last one left out. The
// directories between the disk and its device (the kernel's class
// directories, "block") are not devices and have no link; the device's own
// subsystem was read by hardware when the hardware group is on.
func (x *discovery) subsystems(d *Device) []string {
	if x.cur == nil {
		return nil
	}
	var out []string
	add := func(sub string) {
		if sub != "" && (len(out) == 0 || out[len(out)-1] != sub) {
			out = append(out, sub)
		}
	}
	if x.present == nil || x.present["subsystem"] {
		x.opens++
		add(x.subsystem(""))
	}
	rest, ok := strings.CutPrefix(d.SysPath, "/sys/devices/")
	if !ok {
		return out
	}
	up := ""
	for depth := 1; depth <= strings.Count(rest, "/"); depth++ {
		up += "../"
		switch {
		case depth < x.devDepth:
			continue
		case depth == x.devDepth:
			add(x.devSub)
		default:
			x.opens++
			add(x.subsystem(up))
		}
	}
	return out
}

// partSubsystems is a partition's chain: its own subsystem link (block),
// then its disk's chain.
func (x *discovery) partSubsystems(disk *Device) []string {
	var out []string
	if x.cur != nil {
		x.opens++
		if sub := x.subsystem(x.prefix); sub != "" {
			out = append(out, sub)
		}
	}
	for _, sub := range disk.Subsystems {
		if len(out) == 0 || out[len(out)-1] != sub {
			out = append(out, sub)
		}
	}
	return out
}

// linkDepth is how many directories up from the directory sysPath the
// relative link target (read from sysPath's entry "device") points: 2 for
// "../../../virtio1" from .../virtio1/block/vda. 0 when the target is not
// an ancestor of sysPath.
func linkDepth(sysPath, target string) int {
	if filepath.IsAbs(target) {
		return 0
	}
	dev := filepath.Join(sysPath, target)
	rel, ok := strings.CutPrefix(sysPath, dev+"/")
	if !ok {
		return 0
	}
	return strings.Count(rel, "/") + 1
}
