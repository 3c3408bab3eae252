package lvm

import (
	"fmt"
	"sort"
	"strings"
)

// vgMeta is one VG's decoded text metadata, before it is joined with the
// devices it was found on.
type vgMeta struct {
	name, uuid string
	seqno      int64
	root       *mSection
	vg         *mSection
}

// decodeVGMetadata finds the VG section of a metadata text: the root holds
// header keys (contents, version, ...) and exactly one section, the VG.
func decodeVGMetadata(text []byte) (*vgMeta, error) {
	root, err := parseMetadata(text)
	if err != nil {
		return nil, err
	}
	if c := root.str("contents"); c != "Text Format Volume Group" {
		return nil, malformed("metadata text", 0, "contents %q", c)
	}
	if v, _ := root.int("version"); v != 1 {
		return nil, &UnsupportedError{Feature: fmt.Sprintf("text format version %d", v)}
	}
	if len(root.subs) != 1 {
		return nil, malformed("metadata text", 0, "%d top-level sections, want one VG", len(root.subs))
	}
	vg := root.subs[0]
	seq, ok := vg.int("seqno")
	if !ok {
		return nil, malformed("metadata text", 0, "VG %s has no seqno", vg.name)
	}
	return &vgMeta{name: vg.name, uuid: vg.str("id"), seqno: seq, root: root, vg: vg}, nil
}

// pvDevice is a scanned PV device: where the label was found.
type pvDevice struct {
	path         string
	major, minor int
	size         int64 // bytes, the device's real size
	label        *Label
}

// buildVG types a VG's metadata the way lvm reports it. devs maps PV UUIDs
// to the devices scanned; a PV not among them is missing. It refuses
// (UnsupportedError) what it does not decode: any segment type but striped
// (lvm calls a one-stripe striped segment "linear"), and LVs lvm hides.
func buildVG(m *vgMeta, devs map[string]*pvDevice) (*VG, []*PV, error) {
	s := m.vg
	es, ok := s.int("extent_size")
	if !ok || es <= 0 || es > 1<<32 {
		return nil, nil, malformed("metadata text", 0, "VG %s extent_size", m.name)
	}
	ext := es * sectorSize
	v := &VG{Name: m.name, UUID: m.uuid, Seqno: m.seqno, Tags: s.tags(), ExtentSize: ext,
		Writeable: s.has("status", "WRITE"), Exported: s.has("status", "EXPORTED")}
	if sid := s.str("system_id"); sid != "" {
		return nil, nil, &UnsupportedError{VG: m.name, Feature: "a system ID"}
	}
	if lt := s.str("lock_type"); lt != "" {
		return nil, nil, &UnsupportedError{VG: m.name, Feature: "lock type " + lt}
	}
	pvByKey := map[string]*PV{}
	var pvKeys []string
	if pvs := s.sub("physical_volumes"); pvs != nil {
		for _, ps := range pvs.subs {
			id := ps.str("id")
			pec, _ := ps.int("pe_count")
			pes, _ := ps.int("pe_start")
			p := &PV{UUID: id, VGName: m.name, Tags: ps.tags(), PECount: pec, PEStart: pes * sectorSize,
				Allocatable: ps.has("status", "ALLOCATABLE"), Exported: v.Exported, Major: -1, Minor: -1}
			if d := devs[id]; d != nil {
				p.Name, p.Major, p.Minor, p.DevSize = d.path, d.major, d.minor, d.size
				p.MDACount = len(d.label.MetadataAreas)
			} else {
				p.Name, p.Missing = "[unknown]", true
				v.Partial = true
				ds, _ := ps.int("dev_size")
				p.DevSize = ds * sectorSize
			}
			pvByKey[ps.name] = p
			pvKeys = append(pvKeys, ps.name)
			v.PVs = append(v.PVs, p)
			v.ExtentCount += pec
		}
	}
	used := map[string]int64{}
	if lvs := s.sub("logical_volumes"); lvs != nil {
		for _, ls := range lvs.subs {
			l, err := buildLV(m.name, ls, ext, pvByKey, used)
			if err != nil {
				return nil, nil, err
			}
			v.LVs = append(v.LVs, l)
		}
	}
	var alloc int64
	for _, k := range pvKeys {
		p := pvByKey[k]
		p.PEAllocCount = used[k]
		alloc += used[k]
		p.Size, p.Used, p.Free = p.PECount*ext, p.PEAllocCount*ext, (p.PECount-p.PEAllocCount)*ext
		p.Attr = pvAttr(p)
	}
	v.FreeCount = v.ExtentCount - alloc
	v.Size, v.Free = v.ExtentCount*ext, v.FreeCount*ext
	v.PVCount, v.LVCount = len(v.PVs), len(v.LVs)
	v.Attr = vgAttr(v, s)
	return v, v.PVs, nil
}

func pvAttr(p *PV) string {
	b := []byte("---")
	if p.Allocatable {
		b[0] = 'a'
	}
	if p.Exported {
		b[1] = 'x'
	}
	if p.Missing {
		b[2] = 'm'
	}
	return string(b)
}

func vgAttr(v *VG, s *mSection) string {
	b := []byte("------")
	if v.Writeable {
		b[0] = 'w'
	} else {
		b[0] = 'r'
	}
	if s.has("status", "RESIZEABLE") {
		b[1] = 'z'
	}
	if v.Exported {
		b[2] = 'x'
	}
	if v.Partial {
		b[3] = 'p'
	}
	b[4] = allocChar(s.str("allocation_policy"), 'n')
	return string(b)
}

func allocChar(policy string, def byte) byte {
	switch policy {
	case "normal":
		return 'n'
	case "contiguous":
		return 'c'
	case "cling", "cling_by_tags":
		return 'l'
	case "anywhere":
		return 'a'
	case "inherit":
		return 'i'
	}
	return def
}

func buildLV(vg string, ls *mSection, ext int64, pvs map[string]*PV, used map[string]int64) (*LV, error) {
	if !ls.has("status", "VISIBLE") {
		return nil, &UnsupportedError{VG: vg, Feature: "hidden LV " + ls.name}
	}
	for _, f := range []string{"PVMOVE", "LOCKED", "CONVERTING", "MERGING", "RAID", "MIRRORED", "CACHE", "THIN_POOL"} {
		if ls.has("status", f) {
			return nil, &UnsupportedError{VG: vg, Feature: "LV status " + f + " on " + ls.name}
		}
	}
	l := &LV{Name: ls.name, UUID: ls.str("id"), VGName: vg, FullName: vg + "/" + ls.name,
		Path: "/dev/" + vg + "/" + ls.name, DMPath: "/dev/mapper/" + DMName(vg, ls.name),
		Tags: ls.tags(), Role: []string{"public"}, DataPercent: -1, MetadataPercent: -1, CopyPercent: -1,
		KernelMajor: -1, KernelMinor: -1}
	n, _ := ls.int("segment_count")
	if n <= 0 || int(n) != countSegments(ls) {
		return nil, malformed("metadata text", 0, "LV %s/%s segment_count %d, %d segments", vg, ls.name, n, countSegments(ls))
	}
	striped := false
	var extents int64
	for i := int64(1); i <= n; i++ {
		ss := ls.sub(fmt.Sprintf("segment%d", i))
		if ss == nil {
			return nil, malformed("metadata text", 0, "LV %s/%s lacks segment%d", vg, ls.name, i)
		}
		typ := ss.str("type")
		if typ != "striped" {
			return nil, &UnsupportedError{VG: vg, Feature: fmt.Sprintf("segment type %q (LV %s)", typ, ls.name)}
		}
		start, _ := ss.int("start_extent")
		count, _ := ss.int("extent_count")
		sc, _ := ss.int("stripe_count")
		ssz, _ := ss.int("stripe_size")
		list := ss.keys["stripes"].list
		if sc <= 0 || count <= 0 || count%sc != 0 || int64(len(list)) != 2*sc {
			return nil, malformed("metadata text", 0, "LV %s/%s segment%d: %d extents over %d stripes, %d list items", vg, ls.name, i, count, sc, len(list))
		}
		seg := Segment{Type: "linear", StartExtent: start, Extents: count, Start: start * ext, Size: count * ext,
			Stripes: int(sc), Tags: ss.tags()}
		if sc > 1 {
			seg.Type, seg.StripeSize, striped = "striped", ssz*sectorSize, true
		}
		for j := 0; j < len(list); j += 2 {
			pvKey, first := list[j].str, list[j+1]
			p := pvs[pvKey]
			if p == nil || list[j].isNum || !first.isNum {
				return nil, malformed("metadata text", 0, "LV %s/%s segment%d: stripe %q", vg, ls.name, i, pvKey)
			}
			fe, _ := (&mSection{keys: map[string]mValue{"x": first}}).int("x")
			seg.Areas = append(seg.Areas, Area{PV: p.Name, Extent: fe})
			used[pvKey] += count / sc
		}
		extents += count
		l.Segments = append(l.Segments, seg)
	}
	sort.SliceStable(l.Segments, func(i, j int) bool { return l.Segments[i].StartExtent < l.Segments[j].StartExtent })
	l.SegCount = len(l.Segments)
	l.Size = extents * ext
	if striped {
		l.Layout = []string{"striped"}
	} else {
		l.Layout = []string{"linear"}
	}
	attr := []byte("-wi-XX----")
	if !ls.has("status", "WRITE") {
		attr[1] = 'r'
	}
	attr[2] = allocChar(ls.str("allocation_policy"), 'i')
	if _, ok := ls.int("minor"); ok {
		attr[3] = 'm'
	}
	if ls.has("status", "ACTIVATION_SKIP") || ls.has("flags", "ACTIVATION_SKIP") {
		attr[9] = 'k'
	}
	l.Attr, _ = ParseLVAttr(string(attr))
	return l, nil
}

func countSegments(ls *mSection) int {
	n := 0
	for _, s := range ls.subs {
		if strings.HasPrefix(s.name, "segment") {
			n++
		}
	}
	return n
}

// DMName is the device-mapper name of vg/lv: the two joined by '-', with
// each '-' inside either name doubled (so the split is unambiguous).
func DMName(vg, lv string) string {
	return strings.ReplaceAll(vg, "-", "--") + "-" + strings.ReplaceAll(lv, "-", "--")
}
