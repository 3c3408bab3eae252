package blockdev

import "github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"

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
// read-ahead, zoned, dax) and ro/rm of a partition come from its whole disk,
// as lsblk reports them.
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

	Model     string
	Vendor    string
	Serial    string
	Revision  string
	WWN       string
	Transport string // sata, ata, sas, nvme, usb, virtio, mmc, iscsi, fc, fcoe, spi, sbp, loop
	HCTL      string // SCSI host:channel:target:lun

	PartNumber *uint64 // partitions only
	Start      *uint64 // partitions only: first sector, in 512-byte units

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
	// for this device (never on machines without udev).
	Udev map[string]string

	// Errs lists attributes that exist but could not be read. Each is an
	// *AttrError and matches ErrAttribute.
	Errs []error
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
