package main

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
)

// writeFullReport prints rep as `lvm fullreport --reportformat json --units
// b --nosuffix` does: one report element per VG with its "vg", "pv" and
// "lv" tables, values as strings, the rows without vg_name (the element
// names the VG), in the columns of vgs, pvs and lvs by default; lvm's
// fullreport prints every column, of which these are a subset with equal
// values (the example's test compares them with lvm's own output). The "pvseg" and
// "seg" tables are not printed (the package's segments carry different
// columns than lvm's defaults); orphan PVs, which fullreport lists in an
// element without a VG, are likewise left out.
func writeFullReport(w io.Writer, rep *lvm.Report) error {
	type obj = map[string]string
	var out struct {
		Report []map[string][]obj `json:"report"`
	}
	for _, v := range rep.VGs {
		el := map[string][]obj{
			"vg": {{
				"vg_name": v.Name, "pv_count": itoa(int64(v.PVCount)), "lv_count": itoa(int64(v.LVCount)),
				"snap_count": itoa(int64(v.SnapCount)), "vg_attr": v.Attr, "vg_size": itoa(v.Size), "vg_free": itoa(v.Free),
			}},
			"pv": {},
			"lv": {},
		}
		for _, p := range v.PVs {
			el["pv"] = append(el["pv"], obj{"pv_name": p.Name, "pv_fmt": "lvm2",
				"pv_attr": p.Attr, "pv_size": itoa(p.Size), "pv_free": itoa(p.Free)})
		}
		for _, l := range v.LVs {
			if strings.HasPrefix(l.Name, "[") {
				continue // hidden LVs are not in lvs's default report
			}
			el["lv"] = append(el["lv"], obj{"lv_name": l.Name, "lv_attr": l.Attr.String(),
				"lv_size": itoa(l.Size), "pool_lv": l.Pool, "origin": l.Origin,
				"data_percent": pct(l, l.DataPercent), "metadata_percent": pct(l, l.MetadataPercent),
				"move_pv": "", "mirror_log": "", "copy_percent": "", "convert_lv": ""})
		}
		out.Report = append(out.Report, el)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
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
