package plugin

import (
	"context"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Technology is a kind of thing a backend manages.
type Technology string

const (
	// TechVolume is plain (thick or backend-native) volumes.
	TechVolume Technology = "volume"
	// TechThin is thin-provisioned volumes (CreateRequest.Thin).
	TechThin Technology = "thin"
	// TechShrink is reducing a volume's size (ModeModify only).
	TechShrink Technology = "shrink"
	// TechSnapshot is point-in-time snapshots of volumes.
	TechSnapshot Technology = "snapshot"
	// TechClone is a volume created from a snapshot (ModeCreate only).
	TechClone Technology = "clone"
	// TechBlock is volumes exposed as block devices (Volume.Device).
	TechBlock Technology = "block"
	// TechDirectory is volumes exposed as directories (Volume.Path).
	TechDirectory Technology = "directory"
)

// Mode is what is done with a technology.
type Mode string

const (
	ModeCreate Mode = "create"
	ModeRemove Mode = "remove"
	ModeModify Mode = "modify"
	ModeQuery  Mode = "query"
)

// Capability says whether one technology × mode works on this machine.
type Capability struct {
	Technology Technology `json:"technology"`
	Mode       Mode       `json:"mode"`
	Available  bool       `json:"available"`
	// Reason says why it is unavailable ("zfs-fuse has no zvols").
	Reason string `json:"reason,omitempty"`
	// MissingTool names the program whose absence makes it unavailable.
	MissingTool string `json:"missing_tool,omitempty"`
}

// Capabilities is a backend's whole answer.
type Capabilities []Capability

// Can reports whether t × m is available.
func (c Capabilities) Can(t Technology, m Mode) bool {
	for _, x := range c {
		if x.Technology == t && x.Mode == m {
			return x.Available
		}
	}
	return false
}

// Lookup returns the entry for t × m, if the backend listed one.
func (c Capabilities) Lookup(t Technology, m Mode) (Capability, bool) {
	for _, x := range c {
		if x.Technology == t && x.Mode == m {
			return x, true
		}
	}
	return Capability{}, false
}

// Pool is where a backend carves volumes from (a VG or thin pool, a btrfs
// filesystem, a zpool, a directory).
type Pool struct {
	Name    string `json:"name"`
	Backend string `json:"backend"`
	// CapacityBytes is the pool's size; FreeBytes what a new thick volume
	// could still take.
	CapacityBytes int64 `json:"capacity_bytes"`
	FreeBytes     int64 `json:"free_bytes"`
	// AllocatedBytes is the sum of the volumes' sizes; with thin volumes it
	// can exceed CapacityBytes.
	AllocatedBytes int64 `json:"allocated_bytes"`
	// OverProvisioning is AllocatedBytes/CapacityBytes (0 when empty).
	OverProvisioning float64 `json:"over_provisioning"`
	Thin             bool    `json:"thin,omitempty"`
}

// Volume is one volume of a backend.
type Volume struct {
	// ID is the backend-unique name, "pool/name" for the in-tree backends;
	// it is what every other call takes.
	ID        string `json:"id"`
	Name      string `json:"name"`
	Pool      string `json:"pool"`
	SizeBytes int64  `json:"size_bytes"`
	// UsedBytes is what the volume really uses (-1 unknown).
	UsedBytes int64 `json:"used_bytes"`
	// Device is the block device for block volumes; Path the directory for
	// directory volumes (a btrfs subvolume, a ZFS dataset's mountpoint).
	Device string `json:"device,omitempty"`
	Path   string `json:"path,omitempty"`
	Thin   bool   `json:"thin,omitempty"`
	// SnapshotOf is the ID of the snapshot this volume was cloned from.
	SnapshotOf string   `json:"snapshot_of,omitempty"`
	Tags       []string `json:"tags,omitempty"`
}

// Snapshot is a point-in-time copy of a volume.
type Snapshot struct {
	// ID is backend-unique ("pool/volume@name" for the in-tree backends).
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	SourceID string    `json:"source_id"`
	Size     int64     `json:"size_bytes"`
	ReadOnly bool      `json:"read_only"`
	Created  time.Time `json:"created,omitempty"`
}

// CreateRequest asks for a volume.
type CreateRequest struct {
	Pool      string `json:"pool"`
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	Thin      bool   `json:"thin,omitempty"`
	// FromSnapshot, when set, clones the volume from that snapshot ID.
	FromSnapshot string   `json:"from_snapshot,omitempty"`
	Tags         []string `json:"tags,omitempty"`
	// Kind asks a backend that offers both for a block volume (TechBlock)
	// or a directory volume (TechDirectory); empty means the backend's
	// default. A kind the backend does not offer is ErrNotSupported.
	Kind Technology `json:"kind,omitempty"`
}

// Backend is a volume manager. Implementations are safe for concurrent use.
// Read calls answer from the system as it is now; mutating calls validate
// their arguments, decide what is needed, and return the operations that do
// it (none when the desired state already holds). The caller runs them
// through a sched.Scheduler (Apply does that for one call).
type Backend interface {
	// Name is the backend's registered name ("lvm", "btrfs", "zfs").
	Name() string
	// Capabilities checks the machine now: tools, kernel features, pools.
	Capabilities(ctx context.Context) (Capabilities, error)
	// Limits gives the name rules and size granularity.
	Limits() Limits
	Pools(ctx context.Context) ([]Pool, error)
	// Volumes lists a pool's volumes ("" for every pool).
	Volumes(ctx context.Context, pool string) ([]Volume, error)
	// Volume returns one volume, or an error wrapping ErrNotFound.
	Volume(ctx context.Context, id string) (*Volume, error)
	// Snapshots lists a volume's snapshots ("" for every volume).
	Snapshots(ctx context.Context, volumeID string) ([]Snapshot, error)

	CreateVolume(ctx context.Context, req CreateRequest) ([]sched.Operation, error)
	// ResizeVolume grows (or, with TechShrink, shrinks) a volume to
	// newBytes, rounded up to the backend's granularity.
	ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error)
	DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error)
	CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error)
	DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error)
}

// Limits are a backend's rules for names and sizes.
type Limits struct {
	// MaxNameLen is the longest volume or snapshot name accepted.
	MaxNameLen int `json:"max_name_len"`
	// NameChars lists the characters allowed besides ASCII letters and
	// digits ("+_.-" for LVM).
	NameChars string `json:"name_chars"`
	// Granularity is what sizes are rounded up to (the extent size).
	Granularity int64 `json:"granularity"`
	// MinSize is the smallest volume.
	MinSize int64 `json:"min_size"`
}
