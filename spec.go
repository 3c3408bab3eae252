package storage

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Spec is the desired state: what should exist, not the steps to get
// there. Plan compares it with the Inventory. Anything the Spec does not
// name is left alone; data the Spec may destroy must be marked Disposable.
//
// Devices are named by path ("/dev/sdb1"), by an LV ("/dev/VG/LV"), or by
// a partition of a disk of the Spec: "DISK#N", where DISK is the disk's
// ID in the Spec.
type Spec struct {
	Disks          []DiskSpec          `json:"disks,omitempty"`
	VolumeGroups   []VGSpec            `json:"volume_groups,omitempty"`
	BackendVolumes []BackendVolumeSpec `json:"backend_volumes,omitempty"`
	Filesystems    []FilesystemSpec    `json:"filesystems,omitempty"`
	Mounts         []MountSpec         `json:"mounts,omitempty"`
	// Overrides lift the Engine's own refusals (drive_failing,
	// device_saturated) and safety's preflight codes, each with a reason;
	// every override used is journaled.
	Overrides []OverrideSpec `json:"overrides,omitempty"`
}

// DiskSpec selects a disk by path, serial or WWN (the first given) and
// names the GPT partitions it should hold.
type DiskSpec struct {
	// ID names the disk inside the Spec ("data" makes "data#1").
	ID     string `json:"id"`
	Path   string `json:"path,omitempty"`
	Serial string `json:"serial,omitempty"`
	WWN    string `json:"wwn,omitempty"`
	// Table is "gpt" (the only label the Engine creates).
	Table string `json:"table,omitempty"`
	// Disposable says whatever the disk holds outside a partition table
	// (a filesystem or PV on the whole disk) may be destroyed for the table.
	Disposable bool            `json:"disposable,omitempty"`
	Partitions []PartitionSpec `json:"partitions,omitempty"`
}

// PartitionSpec is one partition. SizeBytes 0 means the rest of the disk.
type PartitionSpec struct {
	Number    int    `json:"number"`
	SizeBytes int64  `json:"size_bytes,omitempty"`
	Name      string `json:"name,omitempty"`
	// Type as the partition package parses it ("linux", "lvm", "swap",
	// or a GUID); default linux.
	Type string `json:"type,omitempty"`
}

// VGSpec is a volume group on physical volumes.
type VGSpec struct {
	Name        string         `json:"name"`
	PVs         []string       `json:"pvs"`
	ExtentBytes int64          `json:"extent_bytes,omitempty"`
	ThinPools   []ThinPoolSpec `json:"thin_pools,omitempty"`
	LVs         []LVSpec       `json:"lvs,omitempty"`
}

// ThinPoolSpec is a thin pool of a VG.
type ThinPoolSpec struct {
	Name          string `json:"name"`
	SizeBytes     int64  `json:"size_bytes"`
	MetadataBytes int64  `json:"metadata_bytes,omitempty"`
}

// LVSpec is a logical volume; with Pool it is a thin volume of that pool
// and SizeBytes is its virtual size.
type LVSpec struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	Pool      string `json:"pool,omitempty"`
}

// BackendVolumeSpec is a volume of a registered backend.
type BackendVolumeSpec struct {
	Backend   string `json:"backend"`
	Pool      string `json:"pool"`
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	Thin      bool   `json:"thin,omitempty"`
}

// FilesystemSpec is a filesystem on a device. SizeBytes 0 means "fill the
// device" (grown when the device grows in the same plan). Disposable says
// whatever the device holds now may be destroyed to make it.
type FilesystemSpec struct {
	Device     string `json:"device"`
	Type       string `json:"type"`
	Label      string `json:"label,omitempty"`
	SizeBytes  int64  `json:"size_bytes,omitempty"`
	Disposable bool   `json:"disposable,omitempty"`
}

// MountSpec mounts a device at Target.
type MountSpec struct {
	Device   string   `json:"device"`
	Target   string   `json:"target"`
	Type     string   `json:"type,omitempty"`
	ReadOnly bool     `json:"read_only,omitempty"`
	Options  []string `json:"options,omitempty"`
}

// OverrideSpec lifts one refusal code, for one device or ("") every one.
type OverrideSpec struct {
	Code   string `json:"code"`
	Device string `json:"device,omitempty"`
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
}

// ReadSpec decodes a JSON Spec; unknown fields are an error (a typo must
// not silently mean "leave it alone").
func ReadSpec(r io.Reader) (*Spec, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: spec: %v", ErrInvalid, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the Spec on its own (names, sizes, references); every
// problem is listed in one *RefusedError.
func (s *Spec) Validate() error {
	var rs []Reason
	bad := func(obj, f string, a ...any) {
		rs = append(rs, Reason{Code: CodeInvalidSpec, Object: obj, Message: fmt.Sprintf(f, a...)})
	}
	ids := map[string]bool{}
	for i, d := range s.Disks {
		obj := fmt.Sprintf("disks[%d]", i)
		if d.ID == "" || strings.ContainsAny(d.ID, "#/") {
			bad(obj, "id %q must be set and hold no # or /", d.ID)
		}
		if ids[d.ID] {
			bad(obj, "id %q used twice", d.ID)
		}
		ids[d.ID] = true
		if d.Path == "" && d.Serial == "" && d.WWN == "" {
			bad(obj, "needs a path, serial or wwn")
		}
		if d.Table != "" && d.Table != "gpt" {
			bad(obj, "table %q: only gpt is created", d.Table)
		}
		nums := map[int]bool{}
		for j, p := range d.Partitions {
			if p.Number < 1 || p.Number > 128 || nums[p.Number] {
				bad(fmt.Sprintf("%s.partitions[%d]", obj, j), "number %d must be 1..128 and unique", p.Number)
			}
			nums[p.Number] = true
			if p.SizeBytes < 0 {
				bad(fmt.Sprintf("%s.partitions[%d]", obj, j), "negative size")
			}
			if p.SizeBytes == 0 && j != len(d.Partitions)-1 {
				bad(fmt.Sprintf("%s.partitions[%d]", obj, j), "only the last partition may take the rest")
			}
		}
	}
	for i, v := range s.VolumeGroups {
		obj := fmt.Sprintf("volume_groups[%d]", i)
		if v.Name == "" || len(v.PVs) == 0 {
			bad(obj, "needs a name and at least one pv")
		}
		pools := map[string]bool{}
		for _, p := range v.ThinPools {
			pools[p.Name] = true
			if p.Name == "" || p.SizeBytes <= 0 {
				bad(obj+".thin_pools", "%q needs a name and a size", p.Name)
			}
		}
		for _, l := range v.LVs {
			if l.Name == "" || l.SizeBytes <= 0 {
				bad(obj+".lvs", "%q needs a name and a size", l.Name)
			}
			if l.Pool != "" && !pools[l.Pool] {
				bad(obj+".lvs", "%q: thin pool %q is not in this volume group", l.Name, l.Pool)
			}
		}
	}
	for i, b := range s.BackendVolumes {
		if b.Backend == "" || b.Pool == "" || b.Name == "" || b.SizeBytes <= 0 {
			bad(fmt.Sprintf("backend_volumes[%d]", i), "needs backend, pool, name and size")
		}
	}
	devs := map[string]bool{}
	for i, f := range s.Filesystems {
		obj := fmt.Sprintf("filesystems[%d]", i)
		if f.Device == "" || f.Type == "" {
			bad(obj, "needs a device and a type")
		}
		if devs[f.Device] {
			bad(obj, "device %s named twice", f.Device)
		}
		devs[f.Device] = true
		if f.SizeBytes < 0 {
			bad(obj, "negative size")
		}
		if ref, n, ok := strings.Cut(f.Device, "#"); ok && (!ids[ref] || n == "") {
			bad(obj, "device %s: no disk %q in the spec", f.Device, ref)
		}
	}
	for i, m := range s.Mounts {
		if m.Device == "" || !strings.HasPrefix(m.Target, "/") {
			bad(fmt.Sprintf("mounts[%d]", i), "needs a device and an absolute target")
		}
	}
	for i, o := range s.Overrides {
		if o.Code == "" || o.Reason == "" {
			bad(fmt.Sprintf("overrides[%d]", i), "needs a code and a reason")
		}
	}
	if len(rs) > 0 {
		return &RefusedError{Reasons: rs}
	}
	return nil
}
