package fsys

import (
	"context"
	"errors"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// Capability is one thing a driver may be able to do.
type Capability string

const (
	CapInspect       Capability = "inspect"        // pure Go, from the superblock
	CapMake          Capability = "make"           // mkfs (swap: pure Go)
	CapCheck         Capability = "check"          // read-only consistency check
	CapRepair        Capability = "repair"         // fix what the check found
	CapOnlineGrow    Capability = "online_grow"    // grow while mounted (ioctl)
	CapOnlineShrink  Capability = "online_shrink"  // shrink while mounted (ioctl)
	CapOfflineGrow   Capability = "offline_grow"   // grow while not mounted
	CapOfflineShrink Capability = "offline_shrink" // shrink while not mounted
	CapMinSize       Capability = "min_size"       // the smallest size a shrink may reach
	CapLabelOnline   Capability = "label_online"   // FS_IOC_SETFSLABEL on the mounted filesystem
	CapLabelOffline  Capability = "label_offline"  // the type's tool on the unmounted device
	CapUUIDOnline    Capability = "uuid_online"
	CapUUIDOffline   Capability = "uuid_offline"
	CapFreeze        Capability = "freeze" // FIFREEZE/FITHAW
)

// Capabilities lists every capability in a stable order.
var Capabilities = []Capability{CapInspect, CapMake, CapCheck, CapRepair, CapOnlineGrow, CapOnlineShrink,
	CapOfflineGrow, CapOfflineShrink, CapMinSize, CapLabelOnline, CapLabelOffline, CapUUIDOnline,
	CapUUIDOffline, CapFreeze}

// MkfsOption is an option Make accepts for a type.
type MkfsOption string

const (
	MkfsLabel      MkfsOption = "label"
	MkfsUUID       MkfsOption = "uuid"
	MkfsBlockSize  MkfsOption = "block_size"
	MkfsSectorSize MkfsOption = "sector_size"
	MkfsFeatures   MkfsOption = "features"
	MkfsNoDiscard  MkfsOption = "nodiscard"
	MkfsForce      MkfsOption = "force"
	MkfsPageSize   MkfsOption = "page_size"
	MkfsUndo       MkfsOption = "undo" // mke2fs -z: an undo file e2undo replays
)

// CapStatus says whether the type can do a capability by design, what it
// needs for it, and whether that is present on this machine.
type CapStatus struct {
	Supported bool     `json:"supported"`          // by the type's design and this package
	Tools     []string `json:"tools,omitempty"`    // programs it runs (none: ioctl or pure Go)
	Available bool     `json:"available"`          // supported and every tool present
	Missing   []string `json:"missing,omitempty"`  // tools not installed
	Packages  []string `json:"packages,omitempty"` // the Debian packages that ship them
	Note      string   `json:"note,omitempty"`     // how it is done, or why not
}

// Features is a type's capability matrix.
type Features struct {
	Type Type                     `json:"type"`
	Caps map[Capability]CapStatus `json:"capabilities"`
	Mkfs []MkfsOption             `json:"mkfs_options"`
	// SmallestBytes is the smallest filesystem of the type the mkfs
	// version here makes (a resize below it is refused too).
	SmallestBytes int64 `json:"smallest_bytes"`
	// ResizeMinBytes is the smallest size a resize may reach, when the
	// kernel's is above SmallestBytes (btrfs: BTRFS_IOC_RESIZE refuses
	// below 256 MiB although mkfs.btrfs makes smaller ones).
	ResizeMinBytes int64 `json:"resize_min_bytes,omitempty"`
	// LabelMax is the longest label in bytes.
	LabelMax int `json:"label_max"`
}

// Has reports whether the capability is supported by design.
func (f Features) Has(c Capability) bool { return f.Caps[c].Supported }

// Available returns nil when c is supported and its tools are present,
// else a *NotSupportedError naming what is missing.
func (f Features) Available(c Capability) error {
	s := f.Caps[c]
	switch {
	case !s.Supported:
		return &NotSupportedError{Type: f.Type, What: string(c), Missing: s.Note}
	case !s.Available:
		miss := ""
		for i, t := range s.Missing {
			if i > 0 {
				miss += ", "
			}
			miss += t
			if i < len(s.Packages) && s.Packages[i] != "" {
				miss += " (Debian package " + s.Packages[i] + ")"
			}
		}
		return &NotSupportedError{Type: f.Type, What: string(c), Missing: miss}
	}
	return nil
}

// capRow is one static row of the matrix: tools per capability, or a note
// when the capability is not supported.
type capRow struct {
	tools []string
	note  string
}

type featureRow struct {
	caps      map[Capability]capRow // absent: not supported
	notes     map[Capability]string // why not, for absent ones
	mkfs      []MkfsOption
	smallest  int64
	resizeMin int64
	labelMax  int
}

const mib = 1 << 20

func extRow(t Type) featureRow {
	return featureRow{
		caps: map[Capability]capRow{
			CapInspect: {note: "superblock, pure Go"},
			// The tool make runs: mke2fs -t, which mkfs.ext4 only wraps.
			CapMake:          {tools: []string{"mke2fs"}, note: "mke2fs -t " + string(t)},
			CapCheck:         {tools: []string{"e2fsck"}, note: "e2fsck -fn"},
			CapRepair:        {tools: []string{"e2fsck"}, note: "e2fsck -p, or -y"},
			CapOnlineGrow:    {note: "EXT4_IOC_RESIZE_FS (the kernel needs CAP_SYS_RESOURCE)"},
			CapOfflineGrow:   {tools: []string{"e2fsck", "resize2fs"}, note: "e2fsck -f, then resize2fs"},
			CapOfflineShrink: {tools: []string{"e2fsck", "resize2fs"}, note: "e2fsck -f, then resize2fs"},
			CapMinSize:       {tools: []string{"resize2fs"}, note: "resize2fs -P times the block size"},
			CapLabelOnline:   {note: "FS_IOC_SETFSLABEL (Linux 5.17+)"},
			CapLabelOffline:  {tools: []string{"tune2fs"}},
			CapUUIDOffline:   {tools: []string{"tune2fs"}},
			CapFreeze:        {note: "FIFREEZE"},
		},
		notes: map[Capability]string{
			CapOnlineShrink: "the kernel cannot shrink a mounted ext filesystem",
			CapUUIDOnline:   "not offered: a mounted filesystem's UUID is what fstab and the kernel's view name it by",
		},
		mkfs:     []MkfsOption{MkfsLabel, MkfsUUID, MkfsBlockSize, MkfsFeatures, MkfsNoDiscard, MkfsForce, MkfsUndo},
		smallest: 128 << 10, // mke2fs 1.47 with a journal needs about 108 KiB
		labelMax: 16,
	}
}

var featureRows = map[Type]featureRow{
	Ext2: extRow(Ext2),
	Ext3: extRow(Ext3),
	Ext4: extRow(Ext4),
	XFS: {
		caps: map[Capability]capRow{
			CapInspect:      {note: "superblock, pure Go"},
			CapMake:         {tools: []string{"mkfs.xfs"}},
			CapCheck:        {tools: []string{"xfs_repair"}, note: "xfs_repair -n"},
			CapRepair:       {tools: []string{"xfs_repair"}, note: "xfs_repair; -L (zero the log) only with an override"},
			CapOnlineGrow:   {note: "XFS_IOC_FSGROWFSDATA with the current imaxpct"},
			CapOfflineGrow:  {note: "a private temporary mount, then XFS_IOC_FSGROWFSDATA"},
			CapLabelOnline:  {note: "FS_IOC_SETFSLABEL"},
			CapLabelOffline: {tools: []string{"xfs_admin", "xfs_db"}},
			CapUUIDOffline:  {tools: []string{"xfs_admin", "xfs_db"}},
			CapFreeze:       {note: "FIFREEZE"},
		},
		notes: map[Capability]string{
			CapOnlineShrink:  "XFS cannot shrink (the kernel's last-AG shrink is experimental)",
			CapOfflineShrink: "XFS cannot shrink",
			CapMinSize:       "XFS cannot shrink, so it has no minimum size",
			CapUUIDOnline:    "xfs_admin -U needs the filesystem unmounted",
		},
		mkfs:     []MkfsOption{MkfsLabel, MkfsUUID, MkfsBlockSize, MkfsSectorSize, MkfsFeatures, MkfsNoDiscard, MkfsForce},
		smallest: 300 * mib, // mkfs.xfs 5.19+ refuses smaller filesystems
		labelMax: 12,
	},
	Btrfs: {
		caps: map[Capability]capRow{
			CapInspect:       {note: "superblock, pure Go; devices by BTRFS_IOC_DEV_INFO when mounted"},
			CapMake:          {tools: []string{"mkfs.btrfs"}},
			CapCheck:         {tools: []string{"btrfs"}, note: "btrfs check --readonly (online: scrub)"},
			CapRepair:        {tools: []string{"btrfs"}, note: "btrfs check --repair, only with an override"},
			CapOnlineGrow:    {note: "BTRFS_IOC_RESIZE devid:size"},
			CapOnlineShrink:  {note: "BTRFS_IOC_RESIZE devid:size"},
			CapOfflineGrow:   {note: "a private temporary mount, then BTRFS_IOC_RESIZE"},
			CapOfflineShrink: {note: "a private temporary mount, then BTRFS_IOC_RESIZE"},
			CapMinSize:       {note: "from the device's dev extents (BTRFS_IOC_TREE_SEARCH)"},
			CapLabelOnline:   {note: "FS_IOC_SETFSLABEL"},
			CapLabelOffline:  {tools: []string{"btrfs"}, note: "btrfs filesystem label"},
			CapUUIDOffline:   {tools: []string{"btrfstune"}},
			CapFreeze:        {note: "FIFREEZE"},
		},
		notes: map[Capability]string{
			CapUUIDOnline: "btrfstune needs the filesystem unmounted",
		},
		mkfs:      []MkfsOption{MkfsLabel, MkfsUUID, MkfsSectorSize, MkfsFeatures, MkfsNoDiscard, MkfsForce},
		smallest:  114294784, // mkfs.btrfs: "minimum size for each btrfs device"
		resizeMin: 256 * mib, // btrfs_ioctl_resize: EINVAL below 256 MiB
		labelMax:  255,
	},
	VFAT: {
		caps: map[Capability]capRow{
			CapInspect:      {note: "boot sector and FAT, pure Go"},
			CapMake:         {tools: []string{"mkfs.fat"}},
			CapCheck:        {tools: []string{"fsck.fat"}, note: "fsck.fat -n"},
			CapRepair:       {tools: []string{"fsck.fat"}, note: "fsck.fat -a"},
			CapLabelOffline: {tools: []string{"fatlabel"}},
			CapUUIDOffline:  {tools: []string{"fatlabel"}, note: "fatlabel -i (the volume id)"},
		},
		notes: map[Capability]string{
			CapOnlineGrow:    "FAT has no resize in the kernel",
			CapOnlineShrink:  "FAT has no resize in the kernel",
			CapOfflineGrow:   "no FAT resizer ships in Debian (libblockdev's uses libparted's, which has known bugs)",
			CapOfflineShrink: "no FAT resizer ships in Debian (libblockdev's uses libparted's, which has known bugs)",
			CapMinSize:       "FAT cannot be resized",
			CapLabelOnline:   "the vfat driver has no FS_IOC_SETFSLABEL",
			CapUUIDOnline:    "the vfat driver cannot change the volume id",
			CapFreeze:        "the vfat driver has no freeze_fs",
		},
		mkfs:     []MkfsOption{MkfsLabel, MkfsUUID, MkfsSectorSize, MkfsFeatures, MkfsForce},
		smallest: 64 << 10,
		labelMax: 11,
	},
	Swap: {
		caps: map[Capability]capRow{
			CapInspect:      {note: "swap header, pure Go"},
			CapMake:         {note: "header written in pure Go, as mkswap writes it"},
			CapLabelOffline: {tools: []string{"swaplabel"}},
			CapUUIDOffline:  {tools: []string{"swaplabel"}},
		},
		notes: map[Capability]string{
			CapCheck:         "swap has nothing to check",
			CapRepair:        "swap has nothing to repair",
			CapOnlineGrow:    "swap is remade, not resized (swapoff, Make, swapon)",
			CapOnlineShrink:  "swap is remade, not resized",
			CapOfflineGrow:   "swap is remade, not resized",
			CapOfflineShrink: "swap is remade, not resized",
			CapMinSize:       "swap is remade, not resized",
			CapLabelOnline:   "an active swap area's header is not changed under the kernel",
			CapUUIDOnline:    "an active swap area's header is not changed under the kernel",
			CapFreeze:        "swap is not a mounted filesystem",
		},
		mkfs:     []MkfsOption{MkfsLabel, MkfsUUID, MkfsPageSize},
		smallest: 10 * 4096, // mkswap's minimum: ten pages
		labelMax: 15,        // mkswap keeps the label NUL-terminated and drops a 16th byte
	},
}

// toolLooker is what a runner offers to check tools before running them
// (*command.Exec does; a Replayer does not, and then every tool counts as
// present: the fixtures say what runs).
type toolLooker interface {
	LookPath(tool string) (string, error)
}

// Features returns t's capability matrix with tool presence on this machine.
func (m *Manager) Features(ctx context.Context, t Type) (Features, error) {
	row, ok := featureRows[t]
	if !ok {
		return Features{}, &NotSupportedError{Type: t, What: "filesystem type"}
	}
	f := Features{Type: t, Caps: map[Capability]CapStatus{}, Mkfs: row.mkfs, SmallestBytes: row.smallest, ResizeMinBytes: row.resizeMin, LabelMax: row.labelMax}
	look, _ := m.run.(toolLooker)
	for _, c := range Capabilities {
		r, supported := row.caps[c]
		if !supported {
			f.Caps[c] = CapStatus{Note: row.notes[c]}
			continue
		}
		s := CapStatus{Supported: true, Tools: r.tools, Available: true, Note: r.note}
		for _, tool := range r.tools {
			if look == nil {
				continue
			}
			if _, err := look.LookPath(tool); err != nil {
				var tm *command.ToolMissingError
				pkg := command.DebianPackage(tool)
				if errors.As(err, &tm) && tm.Package != "" {
					pkg = tm.Package
				}
				s.Available = false
				s.Missing = append(s.Missing, tool)
				s.Packages = append(s.Packages, pkg)
			}
		}
		f.Caps[c] = s
	}
	return f, nil
}
