package lvm

// Report is a whole inventory: every VG with its PVs and LVs, and the PVs
// in no VG (orphans). Pointers inside are shared: VG.PVs holds the same
// *PV as Report.PVs.
type Report struct {
	VGs []*VG
	PVs []*PV // every PV, orphans included, in device-name order of lvm's report
	// Source says where it came from: "fullreport", "pvs+vgs+lvs" or "disk".
	Source string
	// Fallback, when set, says why the on-disk reader was not used.
	Fallback string
}

// VG returns the named VG, or nil.
func (r *Report) VG(name string) *VG {
	for _, v := range r.VGs {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// LV returns vg/lv, or nil.
func (r *Report) LV(vg, lv string) *LV {
	if v := r.VG(vg); v != nil {
		return v.LV(lv)
	}
	return nil
}

// ByDevNum returns the LV whose kernel device is major:minor, so a
// blockdev.Device joins with its LV. Only active LVs have one.
func (r *Report) ByDevNum(major, minor int) *LV {
	for _, v := range r.VGs {
		for _, l := range v.LVs {
			if l.KernelMajor == major && l.KernelMinor == minor && major >= 0 {
				return l
			}
		}
	}
	return nil
}

// PV is a physical volume. Sizes are bytes.
type PV struct {
	Name   string // device path as lvm names it
	UUID   string
	VGName string // empty for an orphan
	Attr   string // pv_attr, e.g. "a--"
	Tags   []string
	// Major and Minor are the device number of the PV's device.
	Major, Minor int
	DevSize      int64 // size of the device
	Size         int64 // pv_size: pe_count*extent size in a VG, else the usable device
	Free, Used   int64
	PEStart      int64
	PECount      int64
	PEAllocCount int64
	Allocatable  bool
	Exported     bool
	Missing      bool
	MDACount     int
	// Segments are the PV's extent ranges in pvseg_start order, as
	// `pvs --segments` reports them: each LV area and each free gap is
	// one (an orphan PV has one of 0 extents).
	Segments []PVSegment
}

// PVSegment is one range of a PV's physical extents: allocated to an LV
// (LVUUID and LV set) or free (both empty).
type PVSegment struct {
	StartExtent int64 // pvseg_start
	Extents     int64 // pvseg_size
	LVUUID      string
	LV          string // the LV's name (hidden LVs without brackets)
}

// VG is a volume group. Sizes are bytes.
type VG struct {
	Name, UUID  string
	Attr        string // vg_attr, e.g. "wz--n-"
	Tags        []string
	Size, Free  int64
	ExtentSize  int64
	ExtentCount int64
	FreeCount   int64
	// Seqno is the metadata sequence number: it rises by one with every
	// committed change, so a caller can tell whether a VG changed between
	// two reads (and the lifecycle code records it before a change).
	Seqno     int64
	PVCount   int
	LVCount   int
	SnapCount int
	Writeable bool
	Exported  bool
	Partial   bool
	PVs       []*PV
	LVs       []*LV
}

// LV returns the named LV of v, or nil.
func (v *VG) LV(name string) *LV {
	for _, l := range v.LVs {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// LV is a logical volume. Sizes are bytes.
type LV struct {
	Name, UUID   string
	VGName       string
	FullName     string // vg/lv
	Path         string // /dev/vg/lv
	DMPath       string // /dev/mapper/vg-lv (dashes doubled)
	Attr         LVAttr
	Tags         []string
	Size         int64
	Layout, Role []string // lv_layout and lv_role, split on commas
	Pool         string   // pool_lv of a thin LV or cached LV
	Origin       string   // origin of a snapshot
	DataLV       string   // data_lv of a pool
	MetadataLV   string   // metadata_lv of a pool
	// DataPercent and MetadataPercent are -1 when lvm reports none.
	DataPercent     float64
	MetadataPercent float64
	// CopyPercent is copy_percent: how far a raid or mirror LV is in
	// sync (100 when synced), -1 when lvm reports none.
	CopyPercent  float64
	HealthStatus string
	// KernelMajor and KernelMinor are the active device's number, -1 when
	// inactive or unknown.
	KernelMajor, KernelMinor int
	SegCount                 int
	Segments                 []Segment
}

// Segment is one segment of an LV, in lvm's report order.
type Segment struct {
	Type        string // segtype: linear, striped, thin-pool, thin, snapshot, raid1, ...
	Start       int64  // seg_start in bytes from the LV's start
	Size        int64  // seg_size in bytes
	StartExtent int64  // seg_start_pe
	Extents     int64  // seg_size_pe
	Stripes     int
	StripeSize  int64 // bytes; 0 when not striped
	ChunkSize   int64 // bytes; thin pools and snapshots
	Areas       []Area
	Tags        []string
}

// Area is where a stripe of a segment lives: a PV (and first extent) or,
// for stacked segments, another LV.
type Area struct {
	PV     string // device name; empty when LV is set
	LV     string
	Extent int64
}
