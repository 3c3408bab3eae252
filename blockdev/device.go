package blockdev

import (
	"io/fs"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// Type is what kind of block device a Device is, in lsblk's words.
type Type string

// Device types as lsblk prints them. md devices report their RAID level
// ("raid0", "raid1", "raid4", "raid5", "raid6", "raid10", "linear"), dm
// devices the lower-cased prefix of their dm uuid ("lvm", "crypt", "mpath",
// "part"...) or TypeDM when they have none.
const (
	TypeDisk  Type = "disk"
	TypePart  Type = "part"
	TypeLoop  Type = "loop"
	TypeLVM   Type = "lvm"
	TypeCrypt Type = "crypt"
	TypeDM    Type = "dm"
	TypeMpath Type = "mpath"
	TypeMD    Type = "md" // an md device whose level is unknown (not yet assembled)
	TypeROM   Type = "rom"
)

// Device is one block device as the kernel describes it. A pointer or empty
// string means the kernel does not have that attribute for this device; it is
// never filled with placeholder text. When an attribute exists but could not
// be read, it is absent and an *AttrError is in Errs.
//
// Attributes of the request queue (sectors, I/O sizes, discard, scheduler,
// read-ahead, zoned, dax, add_random, write-same, zone limits) and ro/rm of
// a partition come from its whole disk, as lsblk reports them. Fields
// marked with an AttrGroup are read only when that group is asked for
// (WithAttributes); the default groups are AttrDefault.
type Device struct {
	Name    string // display name: the dm name for device-mapper devices, else the kernel name
	KName   string // kernel name, as in /sys/block
	Path    string // device node, /dev/<Name> (/dev/mapper/<Name> for dm)
	MajMin  MajMin
	DiskSeq *uint64 // the kernel's diskseq (Linux 5.15+), unique per boot
	Type    Type
	SysPath string // the device's directory under /sys/devices (symlinks resolved), without the root prefix

	Size       *uint64 // bytes
	ReadOnly   *bool
	Removable  *bool
	Rotational *bool
	Hotplug    *bool

	LogicalSectorSize  *uint64
	PhysicalSectorSize *uint64
	MinIO              *uint64
	OptIO              *uint64
	Alignment          *int64 // alignment_offset; -1 means misaligned
	DiscardAlignment   *int64
	DiscardGranularity *uint64
	DiscardMax         *uint64
	DiscardZeroes      *bool
	Scheduler          string // the active I/O scheduler; "" when the queue has none
	NrRequests         *uint64
	ReadAheadKiB       *uint64
	Zoned              string // none, host-aware, host-managed
	DAX                *bool

	AddRandom    *bool   // AttrQueueExtra: queue/add_random (the device's timings feed the entropy pool)
	WriteSameMax *uint64 // AttrQueueExtra: queue/write_same_max_bytes

	// AttrZones: the request queue's zone limits. ZoneSize is
	// queue/chunk_sectors in bytes (a zoned device's zone size; for other
	// devices a chunk size the driver asks I/O not to cross, 0 for none).
	ZoneSize             *uint64
	ZoneWriteGranularity *uint64 // bytes
	ZoneAppendMax        *uint64 // bytes
	Zones                *uint64 // nr_zones
	MaxOpenZones         *uint64 // max_open_zones; 0 means no limit
	MaxActiveZones       *uint64 // max_active_zones; 0 means no limit

	Model     string
	Vendor    string
	Serial    string
	Revision  string
	WWN       string
	Transport string // sata, ata, sas, nvme, usb, virtio, mmc, iscsi, fc, fcoe, spi, sbp, loop
	HCTL      string // SCSI host:channel:target:lun
	// SysfsIdentity is the device's model, vendor, revision and serial
	// exactly as sysfs shows them (AttrHardware). SCSI INQUIRY and NVMe
	// Identify strings are fixed-width fields padded with spaces, which
	// Model, Vendor, Revision and Serial above trim (and which udev may
	// replace); lsblk without udev prints them padded.
	SysfsIdentity Identity

	// AttrState: State is the state of the disk's device (device/state:
	// "running", "offline", "blocked" for SCSI, "live" for an NVMe
	// controller...); DMSuspended is dm/suspended of a device-mapper device.
	State       string
	DMSuspended *bool

	// Subsystems lists the subsystems on the device's sysfs path, from the
	// device up, a repeat of the one before left out: block, scsi, pci for
	// a SATA disk (AttrSubsystems).
	Subsystems []string

	// Node is the owner and mode of the device node (AttrNode); nil when
	// the root has no block device node for the device's number at Path.
	Node *Node

	PartNumber *uint64 // partitions only
	Start      *uint64 // partitions only: first sector, in 512-byte units

	// PTType and PTUUID are the partition table's type (gpt, dos...) and
	// identifier: of the table on the device itself, or for a partition
	// without a table of its own, of the table that holds its entry (its
	// disk's), as udev and lsblk report them. They come from the signature
	// probe (Probe, the disk's for a partition's PTUUID) or, when the device
	// was not probed, from its udev properties; "" when neither says.
	PTType string
	PTUUID string

	LoopBackingFile string // loop devices with a backing file
	DMName          string // device-mapper only
	DMUUID          string // device-mapper only
	MDLevel         string // md only: raid1, raid5...

	// Mounts lists every mount of this device found in mountinfo, matched by
	// major:minor (and by source node for filesystems such as btrfs that
	// report an anonymous device number).
	Mounts []Mount
	// Swap is true when the device is active swap (/proc/swaps).
	Swap bool
	// FSUsage is filled for a mounted filesystem on the live system.
	FSUsage *FSUsage

	// Probe is the on-disk signature probe result; nil when probing was off,
	// skipped or failed (then ProbeErr says why).
	Probe    *probe.Result
	ProbeErr error

	// Udev holds the udev database properties when the database has a record
	// for this device (never on machines without udev), or in a fake tree
	// those of the device's property file (WithUdev). UdevKeys lists its
	// keys in the order the record has them: lsblk --sysroot takes the
	// first of several keys that say the same (ID_SERIAL before
	// ID_SERIAL_SHORT when the file lists it first).
	Udev     map[string]string
	UdevKeys []string

	// Errs lists attributes that exist but could not be read. Each is an
	// *AttrError and matches ErrAttribute.
	Errs []error
}

// Identity holds a device's identity strings (Device.SysfsIdentity).
type Identity struct {
	Model, Vendor, Revision, Serial string
}

// Node is a device node's owner and permissions, from stat(2) of
// Device.Path under the root.
type Node struct {
	UID, GID uint32
	// Owner and Group are the names of UID and GID in the root's
	// /etc/passwd and /etc/group; "" when the file has none.
	Owner, Group string
	// Mode has fs.ModeDevice, the permission bits and the setuid,
	// setgid and sticky bits (a block node never has
	// fs.ModeCharDevice). Mode.String() writes it Go's way
	// ("Drw-rw----"), ModeString as ls and lsblk do ("brw-rw----").
	Mode fs.FileMode
}

// ModeString is the node's mode as ls -l and lsblk's MODE column print
// it: "brw-rw----".
func (n *Node) ModeString() string {
	s := []byte((n.Mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)).String())
	// fs.FileMode writes setuid, setgid and sticky as leading letters;
	// ls folds them into the execute columns.
	perm := []byte("b---------")
	copy(perm[1:], s[len(s)-9:])
	if n.Mode&fs.ModeSetuid != 0 {
		perm[3] = sOr(perm[3], 's', 'S')
	}
	if n.Mode&fs.ModeSetgid != 0 {
		perm[6] = sOr(perm[6], 's', 'S')
	}
	if n.Mode&fs.ModeSticky != 0 {
		perm[9] = sOr(perm[9], 't', 'T')
	}
	return string(perm)
}

// sOr is the letter ls prints for a special bit over an execute column:
// lower case when execute is set too.
func sOr(x, set, unset byte) byte {
	if x == 'x' {
		return set
	}
	return unset
}

// Mount is one line of /proc/self/mountinfo that mounts a device.
type Mount struct {
	MountPoint string // unescaped
	Root       string // the subtree of the filesystem that is mounted (btrfs subvolumes, bind mounts)
	FSType     string
	Source     string
	Options    string // per-mount options
	SuperOpts  string // per-superblock options
}

// FSUsage is statfs of a mounted filesystem, in bytes, as lsblk's FSSIZE,
// FSUSED and FSAVAIL columns report it.
type FSUsage struct {
	Size, Used, Avail uint64
}

// MountPoints returns the mountpoints of d as lsblk's MOUNTPOINTS column
// lists them: the most recent mount first (lsblk walks mountinfo backwards),
// and "[SWAP]" for active swap.
func (d *Device) MountPoints() []string {
	var out []string
	if d.Swap {
		out = append(out, "[SWAP]")
	}
	for i := len(d.Mounts) - 1; i >= 0; i-- {
		out = append(out, d.Mounts[i].MountPoint)
	}
	return out
}

// InUse reports whether d itself is mounted or active swap. Use
// Graph.InUse to include everything stacked on it. false proves nothing
// when the graph's Errs are not empty (a table could not be read).
func (d *Device) InUse() bool { return d.Swap || len(d.Mounts) > 0 }

func (d *Device) addErr(attr string, err error) {
	d.Errs = append(d.Errs, &AttrError{Device: d.KName, Attr: attr, Err: err})
}
