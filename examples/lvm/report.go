package main

import (
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
)

type obj = map[string]string

// writeFullReport prints rep as `lvm fullreport --reportformat json --units
// b --nosuffix` does: one report element per VG with its "vg", "pv", "lv",
// "pvseg" and "seg" tables, then, when there are orphan PVs, one element
// with their "pv" and "pvseg" tables; values are strings, rows in
// fullreport's order (pv by name, lv by VG and name, pvseg by PV UUID and
// start, seg by LV UUID and start). The vg, pv and lv rows carry the
// columns of vgs, pvs and lvs by default, pvseg rows all of fullreport's
// default pvseg columns, seg rows the segment columns the package types;
// lvm's fullreport prints more columns, and on every column printed here
// the value is lvm's (the example's test compares all five tables with
// lvm's own output).
func writeFullReport(w io.Writer, rep *lvm.Report) error {
	var out struct {
		Report []map[string][]obj `json:"report"`
	}
	for _, v := range rep.VGs {
		el := map[string][]obj{
			"vg": {{
				"vg_name": v.Name, "pv_count": itoa(int64(v.PVCount)), "lv_count": itoa(int64(v.LVCount)),
				"snap_count": itoa(int64(v.SnapCount)), "vg_attr": v.Attr, "vg_size": itoa(v.Size), "vg_free": itoa(v.Free),
			}},
			"pv":    {},
			"lv":    {},
			"pvseg": pvsegRows(v.PVs),
			"seg":   {},
		}
		for _, p := range v.PVs {
			el["pv"] = append(el["pv"], pvRow(p))
		}
		lvs := append([]*lvm.LV(nil), v.LVs...)
		for _, l := range lvs {
			el["lv"] = append(el["lv"], obj{"lv_name": lvName(l), "lv_attr": l.Attr.String(),
				"lv_size": itoa(l.Size), "pool_lv": l.Pool, "origin": l.Origin,
				"data_percent": pct(l, l.DataPercent), "metadata_percent": pct(l, l.MetadataPercent),
				"move_pv": "", "mirror_log": "", "copy_percent": copyPct(l), "convert_lv": ""})
		}
		sort.SliceStable(lvs, func(i, j int) bool { return lvs[i].UUID < lvs[j].UUID })
		for _, l := range lvs {
			for _, s := range l.Segments {
				el["seg"] = append(el["seg"], segRow(l, s))
			}
		}
		out.Report = append(out.Report, el)
	}
	var orphans []*lvm.PV
	for _, p := range rep.PVs {
		if p.VGName == "" && !p.Missing {
			orphans = append(orphans, p)
		}
	}
	if len(orphans) > 0 {
		el := map[string][]obj{"pv": {}, "pvseg": pvsegRows(orphans)}
		for _, p := range orphans {
			el["pv"] = append(el["pv"], pvRow(p))
		}
		out.Report = append(out.Report, el)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func pvRow(p *lvm.PV) obj {
	return obj{"pv_name": p.Name, "pv_fmt": "lvm2", "pv_attr": p.Attr, "pv_size": itoa(p.Size), "pv_free": itoa(p.Free)}
}

// pvsegRows are the PVs' segments, sorted as fullreport sorts them (by PV
// UUID, then start).
func pvsegRows(pvs []*lvm.PV) []obj {
	ps := append([]*lvm.PV(nil), pvs...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].UUID < ps[j].UUID })
	rows := []obj{}
	for _, p := range ps {
		for _, s := range p.Segments {
			rows = append(rows, obj{"pvseg_start": itoa(s.StartExtent), "pvseg_size": itoa(s.Extents),
				"pv_uuid": p.UUID, "lv_uuid": s.LVUUID})
		}
	}
	return rows
}

func segRow(l *lvm.LV, s lvm.Segment) obj {
	devs := make([]string, 0, len(s.Areas))
	for _, a := range s.Areas {
		n := a.PV
		if n == "" {
			n = a.LV
		}
		devs = append(devs, n+"("+itoa(a.Extent)+")")
	}
	return obj{"segtype": s.Type, "stripes": itoa(int64(s.Stripes)), "stripe_size": itoa(s.StripeSize),
		"chunk_size": itoa(s.ChunkSize), "seg_start": itoa(s.Start), "seg_start_pe": itoa(s.StartExtent),
		"seg_size": itoa(s.Size), "seg_size_pe": itoa(s.Extents), "seg_tags": strings.Join(s.Tags, ","),
		"devices": strings.Join(devs, ","), "lv_uuid": l.UUID}
}

// lvName is lv_name as lvm prints it: hidden (private) LVs in brackets.
func lvName(l *lvm.LV) string {
	for _, r := range l.Role {
		if r == "private" {
			return "[" + l.Name + "]"
		}
	}
	return l.Name
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// pct is lvm's data/metadata percent: two decimals for thin pools, thin
// LVs and snapshots, empty otherwise.
func pct(l *lvm.LV, v float64) string {
	if !(l.Attr.ThinPool() || l.Attr.Thin() || l.Attr.Snapshot()) || !l.Attr.Active() {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// copyPct is copy_percent: two decimals when lvm reports one (an active
// raid or mirror LV), empty otherwise.
func copyPct(l *lvm.LV) string {
	if l.CopyPercent < 0 {
		return ""
	}
	return strconv.FormatFloat(l.CopyPercent, 'f', 2, 64)
}
