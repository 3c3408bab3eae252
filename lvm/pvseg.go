package lvm

import "sort"

// pvsegFields are the pvseg columns the inventory asks fullreport for.
const pvsegFields = "pvseg_start,pvseg_size,pv_uuid,lv_uuid"

// attachPVSegments types fullreport's pvseg rows into their PVs, naming
// the LV of each allocated range.
func attachPVSegments(r *Report, rows []row) {
	byPV := map[string]*PV{}
	for _, p := range r.PVs {
		byPV[p.UUID] = p
	}
	names := lvNames(r)
	for _, x := range rows {
		p := byPV[x["pv_uuid"]]
		if p == nil {
			continue
		}
		s := PVSegment{StartExtent: x.int64("pvseg_start"), Extents: x.int64("pvseg_size"), LVUUID: x["lv_uuid"]}
		s.LV = names[s.LVUUID]
		p.Segments = append(p.Segments, s)
	}
	for _, p := range r.PVs {
		sortPVSegments(p.Segments)
	}
}

func lvNames(r *Report) map[string]string {
	names := map[string]string{}
	for _, v := range r.VGs {
		for _, l := range v.LVs {
			names[l.UUID] = l.Name
		}
	}
	return names
}

func sortPVSegments(s []PVSegment) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].StartExtent < s[j].StartExtent })
}

// derivePVSegments fills every PV's Segments from the LV segments (for
// the reports that do not carry pvseg rows: pvs+vgs+lvs and the on-disk
// reader): each PV area of a segment covers Extents/Stripes extents from
// its first extent; the gaps between them, up to pv_pe_count, are free
// ranges. An orphan (or a PV of 0 extents) has one range of 0 extents, as
// lvm reports it. The differential test holds this equal to `pvs
// --segments`.
func derivePVSegments(r *Report) {
	type used struct {
		start, n int64
		uuid     string
		name     string
	}
	byName := map[string][]used{}
	for _, v := range r.VGs {
		for _, l := range v.LVs {
			for _, s := range l.Segments {
				stripes := int64(s.Stripes)
				if stripes < 1 {
					stripes = 1
				}
				n := s.Extents / stripes
				for _, a := range s.Areas {
					if a.PV == "" || n == 0 {
						continue
					}
					key := v.Name + "\x00" + a.PV
					byName[key] = append(byName[key], used{a.Extent, n, l.UUID, l.Name})
				}
			}
		}
	}
	for _, p := range r.PVs {
		p.Segments = nil
		if p.PECount == 0 {
			p.Segments = []PVSegment{{}}
			continue
		}
		us := byName[p.VGName+"\x00"+p.Name]
		sort.Slice(us, func(i, j int) bool { return us[i].start < us[j].start })
		var at int64
		for _, u := range us {
			if u.start > at {
				p.Segments = append(p.Segments, PVSegment{StartExtent: at, Extents: u.start - at})
			}
			p.Segments = append(p.Segments, PVSegment{StartExtent: u.start, Extents: u.n, LVUUID: u.uuid, LV: u.name})
			at = u.start + u.n
		}
		if at < p.PECount {
			p.Segments = append(p.Segments, PVSegment{StartExtent: at, Extents: p.PECount - at})
		}
	}
}
