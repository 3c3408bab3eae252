package btrfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// Device is one member device of the filesystem.
type Device struct {
	Devid uint64    `json:"devid"`
	UUID  uuid.UUID `json:"uuid"` // the device's own uuid (dev_item.uuid)
	Path  string    `json:"path"`
	Size  int64     `json:"size_bytes"` // the size btrfs uses on the device
	Used  int64     `json:"used_bytes"` // allocated to chunks
	// Usage is the allocation by chunk type and profile (DeviceUsage
	// only), in the order data, metadata, system.
	Usage []Allocation `json:"usage,omitempty"`
}

// Allocation is the bytes of one chunk type and profile on one device.
type Allocation struct {
	Type    string `json:"type"`    // data, metadata, system (or data+metadata on mixed)
	Profile string `json:"profile"` // single, dup, raid0, raid1, raid10, raid5, raid6, raid1c3, raid1c4
	Bytes   int64  `json:"bytes"`
}

// Devices lists the member devices (BTRFS_IOC_FS_INFO, then
// BTRFS_IOC_DEV_INFO for every id up to the highest).
func (f *FS) Devices(ctx context.Context) ([]Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info, err := fsioctl.BtrfsFSInfo(f.fd)
	if err != nil {
		return nil, wrap(f.mountpoint, err)
	}
	var out []Device
	for id := uint64(1); id <= info.MaxID; id++ {
		d, err := fsioctl.BtrfsDevInfo(f.fd, id)
		if errors.Is(err, unix.ENODEV) {
			continue
		}
		if err != nil {
			return nil, wrap(f.mountpoint, err)
		}
		p := d.Path[:]
		if i := bytes.IndexByte(p, 0); i >= 0 {
			p = p[:i]
		}
		out = append(out, Device{Devid: d.Devid, UUID: uuid.UUID(d.UUID), Path: string(p), Size: clamp(d.TotalBytes), Used: clamp(d.BytesUsed)})
	}
	return out, nil
}

// ChunkType names a chunk's type bits.
func ChunkType(flags uint64) string {
	d, m, s := flags&fsioctl.BtrfsBlockGroupData != 0, flags&fsioctl.BtrfsBlockGroupMetadata != 0, flags&fsioctl.BtrfsBlockGroupSystem != 0
	switch {
	case d && m:
		return "data+metadata"
	case d:
		return "data"
	case m:
		return "metadata"
	case s:
		return "system"
	}
	return "unknown"
}

var profiles = []struct {
	bit  uint64
	name string
}{
	{fsioctl.BtrfsBlockGroupRAID0, "raid0"}, {fsioctl.BtrfsBlockGroupRAID1, "raid1"}, {fsioctl.BtrfsBlockGroupDUP, "dup"},
	{fsioctl.BtrfsBlockGroupRAID10, "raid10"}, {fsioctl.BtrfsBlockGroupRAID5, "raid5"}, {fsioctl.BtrfsBlockGroupRAID6, "raid6"},
	{fsioctl.BtrfsBlockGroupRAID1C3, "raid1c3"}, {fsioctl.BtrfsBlockGroupRAID1C4, "raid1c4"},
}

// Profile names a chunk's profile bits ("single" when none is set).
func Profile(flags uint64) string {
	for _, p := range profiles {
		if flags&p.bit != 0 {
			return p.name
		}
	}
	return "single"
}

// profileBits is Profile's inverse, for a balance convert target.
func profileBits(name string) (uint64, error) {
	if name == "single" {
		return fsioctl.BtrfsAvailAllocBitSingle, nil
	}
	for _, p := range profiles {
		if p.name == name {
			return p.bit, nil
		}
	}
	return 0, fmt.Errorf("%w: profile %q (single, dup, raid0, raid1, raid10, raid5, raid6, raid1c3, raid1c4)", ErrInvalid, name)
}

// Chunks reads the chunk tree: every chunk by its logical start.
func (f *FS) Chunks(ctx context.Context) (map[uint64]Chunk, error) {
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsChunkTreeObjectID)
	key.MinObjectID, key.MaxObjectID = fsioctl.BtrfsFirstChunkTreeObjID, fsioctl.BtrfsFirstChunkTreeObjID
	key.MinType, key.MaxType = fsioctl.BtrfsChunkItemKey, fsioctl.BtrfsChunkItemKey
	out := map[uint64]Chunk{}
	err := f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
		if h.Type != fsioctl.BtrfsChunkItemKey {
			return nil
		}
		c, err := ParseChunk(item)
		if err != nil {
			return fmt.Errorf("chunk at %d: %w", h.Offset, err)
		}
		out[h.Offset] = c
		return nil
	})
	return out, err
}

// DeviceUsage is Devices with each device's allocation by chunk type and
// profile: its dev extents (device tree) joined with their chunks (chunk
// tree), as `btrfs device usage` shows it.
func (f *FS) DeviceUsage(ctx context.Context) ([]Device, error) {
	devs, err := f.Devices(ctx)
	if err != nil {
		return nil, err
	}
	chunks, err := f.Chunks(ctx)
	if err != nil {
		return nil, err
	}
	for i := range devs {
		d := &devs[i]
		sums := map[[2]string]int64{}
		key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsDevTreeObjectID)
		key.MinObjectID, key.MaxObjectID = d.Devid, d.Devid
		key.MinType, key.MaxType = fsioctl.BtrfsDevExtentKey, fsioctl.BtrfsDevExtentKey
		err := f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
			if h.Type != fsioctl.BtrfsDevExtentKey || h.ObjectID != d.Devid {
				return nil
			}
			e, err := ParseDevExtent(item)
			if err != nil {
				return fmt.Errorf("dev extent %d at %d: %w", d.Devid, h.Offset, err)
			}
			c, ok := chunks[e.ChunkOffset]
			if !ok {
				return fmt.Errorf("%w: dev extent %d at %d names no chunk (%d)", ErrMalformed, d.Devid, h.Offset, e.ChunkOffset)
			}
			sums[[2]string{ChunkType(c.Type), Profile(c.Type)}] += clamp(e.Length)
			return nil
		})
		if err != nil {
			return nil, err
		}
		for k, v := range sums {
			d.Usage = append(d.Usage, Allocation{Type: k[0], Profile: k[1], Bytes: v})
		}
		rank := map[string]int{"data": 0, "data+metadata": 0, "metadata": 1, "system": 2}
		sort.Slice(d.Usage, func(a, b int) bool {
			x, y := d.Usage[a], d.Usage[b]
			if rank[x.Type] != rank[y.Type] {
				return rank[x.Type] < rank[y.Type]
			}
			return x.Profile < y.Profile
		})
	}
	return devs, nil
}

// AddDevice adds the block device at path to the filesystem
// (BTRFS_IOC_ADD_DEV). The kernel overwrites whatever the device held: run
// the safety preflight first (DeviceAddOp does).
func (f *FS) AddDevice(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsAddDev(f.fd, path))
}

// minDevices is the fewest devices each profile needs.
var minDevices = map[string]int{"raid1": 2, "raid10": 2, "raid0": 1, "raid5": 2, "raid6": 3, "raid1c3": 3, "raid1c4": 4}

// PlanRemove says why removing devid must be refused: it is the last
// device (RefuseLastDevice), or a profile in use needs more devices than
// would be left ("raid_min_devices"). Neither can be overridden.
func (f *FS) PlanRemove(ctx context.Context, devid uint64) error {
	devs, err := f.Devices(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, d := range devs {
		found = found || d.Devid == devid
	}
	if !found {
		return fmt.Errorf("%w: %s has no device %d", ErrInvalid, f.mountpoint, devid)
	}
	if len(devs) == 1 {
		return &RefusedError{Code: RefuseLastDevice, Reason: fmt.Sprintf("device %d is the only device of %s", devid, f.mountpoint)}
	}
	chunks, err := f.Chunks(ctx)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		p := Profile(c.Type)
		if n := minDevices[p]; n > len(devs)-1 {
			return &RefusedError{Code: "raid_min_devices", Reason: fmt.Sprintf(
				"%s chunks are %s, which needs %d devices; %d would be left (convert them first)", ChunkType(c.Type), p, n, len(devs)-1)}
		}
	}
	return nil
}

// RemoveDevice removes device devid (BTRFS_IOC_RM_DEV_V2): its chunks are
// relocated to the other devices first, which may take long and cannot be
// interrupted. PlanRemove's refusals come first.
func (f *FS) RemoveDevice(ctx context.Context, devid uint64) error {
	if err := f.PlanRemove(ctx, devid); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsRmDev(f.fd, devid))
}

// Resize sets the size btrfs uses on device devid to size bytes, or the
// whole device when size is 0 (BTRFS_IOC_RESIZE "devid:size",
// "devid:max"). A shrink relocates the chunks past the new end first and
// cannot be interrupted.
func (f *FS) Resize(ctx context.Context, devid uint64, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if devid == 0 || size < 0 {
		return fmt.Errorf("%w: resize device %d to %d bytes", ErrInvalid, devid, size)
	}
	spec := fmt.Sprintf("%d:max", devid)
	if size > 0 {
		spec = fmt.Sprintf("%d:%d", devid, size)
	}
	return wrap(f.mountpoint, fsioctl.BtrfsResize(f.fd, spec))
}

// ResizeAll resizes every device to size (0: each to its whole device),
// one after the other; it stops at the first failure, leaving the devices
// before it resized.
func (f *FS) ResizeAll(ctx context.Context, size int64) error {
	devs, err := f.Devices(ctx)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if err := f.Resize(ctx, d.Devid, size); err != nil {
			return fmt.Errorf("device %d: %w", d.Devid, err)
		}
	}
	return nil
}
