package lvm

import (
	"context"
	"sort"
	"strconv"
	"strings"
)

// The fields the inventory asks for, per report type. The same lists go to
// fullreport and to pvs/vgs/lvs, so both give the same Report.
const (
	pvFields  = "pv_name,pv_uuid,vg_name,pv_attr,pv_tags,pv_major,pv_minor,dev_size,pv_size,pv_free,pv_used,pe_start,pv_pe_count,pv_pe_alloc_count,pv_allocatable,pv_exported,pv_missing,pv_mda_count"
	vgFields  = "vg_name,vg_uuid,vg_attr,vg_tags,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,vg_seqno,pv_count,lv_count,snap_count,vg_permissions,vg_exported,vg_partial"
	lvFields  = "lv_name,lv_uuid,vg_name,lv_full_name,lv_path,lv_dm_path,lv_attr,lv_tags,lv_size,lv_layout,lv_role,pool_lv,origin,data_lv,metadata_lv,data_percent,metadata_percent,lv_health_status,lv_kernel_major,lv_kernel_minor,seg_count,copy_percent"
	segFields = "lv_uuid,segtype,seg_start,seg_size,seg_start_pe,seg_size_pe,stripes,stripe_size,chunk_size,devices,seg_tags"
)

// Inventory runs one `lvm fullreport` and returns every PV, VG, LV and
// segment, typed. On an lvm exit with a usable report (exit 5 after one VG
// failed) it returns the report and the *Error.
func (t *Tool) Inventory(ctx context.Context) (*Report, error) {
	return t.fullInventory(ctx, false)
}

// InventoryAll is Inventory with the hidden LVs too (`lvm fullreport -a`):
// a thin pool's _tdata and _tmeta, a raid LV's _rimage_N and _rmeta_N, a
// cached LV's _corig, each with its segments, so a caller can see where
// the layers of a stacked LV live. Inventory (and lvm's fullreport) leaves
// them out.
func (t *Tool) InventoryAll(ctx context.Context) (*Report, error) {
	return t.fullInventory(ctx, true)
}

func (t *Tool) fullInventory(ctx context.Context, all bool) (*Report, error) {
	var args []string
	if all {
		args = append(args, "-a")
	}
	rep, err := t.report(ctx, "fullreport", append(args,
		"--configreport", "vg", "-o", vgFields,
		"--configreport", "pv", "-o", pvFields,
		"--configreport", "lv", "-o", lvFields,
		"--configreport", "seg", "-o", segFields,
		"--configreport", "pvseg", "-o", pvsegFields)...)
	if rep == nil {
		return nil, err
	}
	var vgs, pvs, lvs, segs, pvsegs []row
	for _, o := range rep.Report {
		vgs = append(vgs, o["vg"]...)
		pvs = append(pvs, o["pv"]...)
		segs = append(segs, o["seg"]...)
		pvsegs = append(pvsegs, o["pvseg"]...)
		// fullreport's LV rows lack vg_name when lvm does not fill it in
		// per VG object; take it from the object's VG row.
		for _, l := range o["lv"] {
			if l["vg_name"] == "" && len(o["vg"]) == 1 {
				l["vg_name"] = o["vg"][0]["vg_name"]
			}
			lvs = append(lvs, l)
		}
	}
	r, berr := build(vgs, pvs, lvs, segs)
	if berr != nil {
		return nil, berr
	}
	attachPVSegments(r, pvsegs)
	r.Source = "fullreport"
	return r, err
}

// InventorySeparately is Inventory from three commands (pvs, vgs, and lvs
// with segment fields, one row per segment), the way callers without
// fullreport do it; it exists to measure and cross-check fullreport.
func (t *Tool) InventorySeparately(ctx context.Context) (*Report, error) {
	p, err := t.report(ctx, "pvs", "-o", pvFields)
	if p == nil {
		return nil, err
	}
	v, err2 := t.report(ctx, "vgs", "-o", vgFields)
	if v == nil {
		return nil, err2
	}
	l, err3 := t.report(ctx, "lvs", "-a", "-o", lvFields+","+strings.TrimPrefix(segFields, "lv_uuid,"))
	if l == nil {
		return nil, err3
	}
	rows := func(j *jsonReport, kind string) []row {
		var out []row
		for _, o := range j.Report {
			out = append(out, o[kind]...)
		}
		return out
	}
	// One lvs row per segment: the LV columns repeat, the segment columns
	// differ.
	var lvs []row
	seen := map[string]bool{}
	segs := rows(l, "lv")
	for _, s := range segs {
		if !seen[s["lv_uuid"]] {
			seen[s["lv_uuid"]] = true
			lvs = append(lvs, s)
		}
	}
	r, err := build(rows(v, "vg"), rows(p, "pv"), lvs, segs)
	if err != nil {
		return nil, err
	}
	derivePVSegments(r)
	r.Source = "pvs+vgs+lvs"
	for _, e := range []error{err, err2, err3} {
		if e != nil {
			return r, e
		}
	}
	return r, nil
}

// build types the rows and links them: PVs and LVs into their VGs,
// segment rows into their LV.
func build(vgRows, pvRows, lvRows, segRows []row) (*Report, error) {
	r := &Report{}
	byVG := map[string]*VG{}
	for _, x := range vgRows {
		v := &VG{
			Name: x["vg_name"], UUID: x["vg_uuid"], Attr: x["vg_attr"], Tags: splitList(x["vg_tags"]),
			Size: x.int64("vg_size"), Free: x.int64("vg_free"), ExtentSize: x.int64("vg_extent_size"),
			ExtentCount: x.int64("vg_extent_count"), FreeCount: x.int64("vg_free_count"), Seqno: x.int64("vg_seqno"),
			PVCount: x.intOr("pv_count", 0), LVCount: x.intOr("lv_count", 0), SnapCount: x.intOr("snap_count", 0),
			Writeable: strings.Contains(x["vg_permissions"], "writeable"), Exported: x["vg_exported"] != "",
			Partial: x["vg_partial"] != "",
		}
		r.VGs = append(r.VGs, v)
		byVG[v.Name] = v
	}
	for _, x := range pvRows {
		p := &PV{
			Name: x["pv_name"], UUID: x["pv_uuid"], VGName: x["vg_name"], Attr: x["pv_attr"], Tags: splitList(x["pv_tags"]),
			Major: x.intOr("pv_major", -1), Minor: x.intOr("pv_minor", -1),
			DevSize: x.int64("dev_size"), Size: x.int64("pv_size"), Free: x.int64("pv_free"), Used: x.int64("pv_used"),
			PEStart: x.int64("pe_start"), PECount: x.int64("pv_pe_count"), PEAllocCount: x.int64("pv_pe_alloc_count"),
			Allocatable: x["pv_allocatable"] != "", Exported: x["pv_exported"] != "", Missing: x["pv_missing"] != "",
			MDACount: x.intOr("pv_mda_count", 0),
		}
		r.PVs = append(r.PVs, p)
		if v := byVG[p.VGName]; v != nil {
			v.PVs = append(v.PVs, p)
		}
	}
	byUUID := map[string]*LV{}
	for _, x := range lvRows {
		a, err := ParseLVAttr(x["lv_attr"])
		if err != nil {
			return nil, err
		}
		l := &LV{
			Name: strings.Trim(x["lv_name"], "[]"), UUID: x["lv_uuid"], VGName: x["vg_name"], FullName: x["lv_full_name"],
			Path: x["lv_path"], DMPath: x["lv_dm_path"], Attr: a, Tags: splitList(x["lv_tags"]), Size: x.int64("lv_size"),
			Layout: splitList(x["lv_layout"]), Role: splitList(x["lv_role"]), Pool: strings.Trim(x["pool_lv"], "[]"),
			Origin: strings.Trim(x["origin"], "[]"), DataLV: strings.Trim(x["data_lv"], "[]"), MetadataLV: strings.Trim(x["metadata_lv"], "[]"),
			DataPercent: x.percent("data_percent"), MetadataPercent: x.percent("metadata_percent"),
			HealthStatus: x["lv_health_status"], KernelMajor: x.intOr("lv_kernel_major", -1), KernelMinor: x.intOr("lv_kernel_minor", -1),
			SegCount: x.intOr("seg_count", 0), CopyPercent: x.percent("copy_percent"),
		}
		if v := byVG[l.VGName]; v != nil {
			v.LVs = append(v.LVs, l)
		}
		byUUID[l.UUID] = l
	}
	for _, x := range segRows {
		l := byUUID[x["lv_uuid"]]
		if l == nil {
			continue
		}
		s := Segment{
			Type: x["segtype"], Start: x.int64("seg_start"), Size: x.int64("seg_size"), StartExtent: x.int64("seg_start_pe"),
			Extents: x.int64("seg_size_pe"), Stripes: x.intOr("stripes", 0), StripeSize: x.int64("stripe_size"),
			ChunkSize: x.int64("chunk_size"), Tags: splitList(x["seg_tags"]),
		}
		s.Areas = parseDevices(x["devices"])
		l.Segments = append(l.Segments, s)
	}
	for _, l := range byUUID {
		sort.SliceStable(l.Segments, func(i, j int) bool { return l.Segments[i].StartExtent < l.Segments[j].StartExtent })
	}
	return r, nil
}

// parseDevices reads lvm's "devices" column: "/dev/sda(0),/dev/sdb(10)"
// for PV areas, "lv_tdata(0)" for LV areas.
func parseDevices(s string) []Area {
	var out []Area
	for _, d := range splitList(s) {
		name, ext := d, int64(0)
		if i := strings.LastIndexByte(d, '('); i >= 0 && strings.HasSuffix(d, ")") {
			name = d[:i]
			ext, _ = strconv.ParseInt(d[i+1:len(d)-1], 10, 64)
		}
		a := Area{Extent: ext}
		if strings.HasPrefix(name, "/") || strings.HasPrefix(name, "[unknown]") {
			a.PV = name
		} else {
			a.LV = strings.Trim(name, "[]")
		}
		out = append(out, a)
	}
	return out
}
