package lvm

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// The differential test: on the lab's layouts (names with '+', '_', '.',
// '-', tags, four PVs, a linear LV spanning two PVs, a striped -i2 LV, an
// orphan PV), our inventory three ways (fullreport, pvs+vgs+lvs, and the
// pure-Go on-disk reader) must equal `pvs/vgs/lvs --reportformat json
// --units b --nosuffix -o ...` on every field compared: 0 mismatches.
// EOS_STORAGE_LVM_RECORD=DIR keeps the fixtures of the lvm runs there
// (testdata/fullreport was recorded so).
func TestDifferentialInventory(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	rec := os.Getenv("EOS_STORAGE_LVM_RECORD")
	tl := l.tool(t, rec)
	want := oracleRows(t, []string{"--devices", strings.Join(l.devices, ","), "--driverloaded", "n"})

	if rec != "" {
		savePVHeads(t, l.devices, filepath.Join(rec, "..", "pv"))
	}
	full, err := tl.Inventory(ctx)
	if err != nil {
		t.Fatalf("fullreport: %v", err)
	}
	sep, err := tl.InventorySeparately(ctx)
	if err != nil {
		t.Fatalf("pvs+vgs+lvs: %v", err)
	}
	disk, err := ReadDisks(ctx, l.devices)
	if err != nil {
		t.Fatalf("on-disk reader: %v", err)
	}
	kinds := map[string]int{}
	for k := range want {
		kind, _, _ := strings.Cut(k, " ")
		kinds[kind]++
	}
	t.Logf("lvm reports %d pv, %d vg, %d lv, %d seg and %d pvseg rows", kinds["pv"], kinds["vg"], kinds["lv"], kinds["seg"], kinds["pvseg"])
	total := 0
	for _, r := range []*Report{full, sep, disk} {
		n, fields := compareRows(t, r.Source, flatten(r), want)
		total += n
		t.Logf("%s: %d fields compared, %d mismatches", r.Source, fields, n)
	}
	if total != 0 {
		t.Fatalf("%d mismatches against lvm", total)
	}
	// Typed spot checks the flattening does not show.
	lin := disk.LV(labVG1, "lin")
	if lin == nil || len(lin.Segments) != 2 || lin.Segments[0].Areas[0].PV != l.devices[0] || lin.Segments[1].Areas[0].PV != l.devices[1] {
		t.Fatalf("lin does not span the two PVs: %+v", lin)
	}
	if lin.Attr.StateKnown() || lin.Attr.Type != '-' || !lin.Attr.Writeable() {
		t.Errorf("lin attr %+v", lin.Attr)
	}
	if s := disk.LV(labVG1, "str"); s == nil || s.Segments[0].Stripes != 2 || s.Segments[0].StripeSize != 64<<10 {
		t.Errorf("str: %+v", s)
	}
}

// The compared fields, per kind. Every one is a column lvm prints.
var (
	cmpPV  = strings.Split("pv_name,pv_uuid,vg_name,pv_attr,pv_tags,dev_size,pv_size,pv_free,pv_used,pe_start,pv_pe_count,pv_pe_alloc_count,pv_mda_count,pv_major,pv_minor", ",")
	cmpVG  = strings.Split("vg_name,vg_uuid,vg_attr,vg_tags,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,vg_seqno,pv_count,lv_count,snap_count", ",")
	cmpLV  = strings.Split("lv_name,lv_uuid,vg_name,lv_full_name,lv_path,lv_dm_path,lv_attr,lv_tags,lv_size,lv_layout,lv_role,seg_count,lv_kernel_major,lv_kernel_minor,pool_lv,origin", ",")
	cmpSeg = strings.Split("segtype,seg_start,seg_size,seg_start_pe,seg_size_pe,stripes,stripe_size,devices,seg_tags", ",")
	// pvs --segments: every range of every PV, free ones included.
	cmpPVSeg = strings.Split("pv_uuid,pvseg_start,pvseg_size,lv_uuid,lv_name", ",")
)

type rowSet map[string]map[string]string // "kind key" -> field -> value

// oracleRows runs pvs, vgs and lvs (rows and segments) with the common
// arguments (the scope) and keys their rows as flatten does.
func oracleRows(t *testing.T, common []string) rowSet {
	t.Helper()
	run := func(kind, fields string, extra ...string) []map[string]string {
		args := append(append([]string{kind}, common...), "--reportformat", "json", "--units", "b", "--nosuffix", "-o", fields)
		args = append(args, extra...)
		out := testenv.Run(t, "lvm", args...)
		var rep struct {
			Report []map[string][]map[string]string `json:"report"`
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("lvm %s: %v\n%s", kind, err, out)
		}
		var rows []map[string]string
		for _, o := range rep.Report {
			for _, rs := range o {
				rows = append(rows, rs...)
			}
		}
		return rows
	}
	set := rowSet{}
	for _, r := range run("pvs", strings.Join(cmpPV, ",")) {
		set["pv "+r["pv_uuid"]] = r
	}
	for _, r := range run("vgs", strings.Join(cmpVG, ",")) {
		set["vg "+r["vg_uuid"]] = r
	}
	for _, r := range run("lvs", strings.Join(cmpLV, ",")) {
		set["lv "+r["lv_uuid"]] = r
	}
	for _, r := range run("lvs", "lv_uuid,"+strings.Join(cmpSeg, ","), "--segments") {
		set["seg "+r["lv_uuid"]+" "+r["seg_start_pe"]] = r
	}
	for _, r := range run("pvs", strings.Join(cmpPVSeg, ","), "--segments", "-a") {
		if r["pv_uuid"] == "" {
			continue // -a lists every device in scope, PV or not
		}
		set["pvseg "+r["pv_uuid"]+" "+r["pvseg_start"]] = r
	}
	return set
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// flatten renders a Report in lvm's column format.
func flatten(r *Report) rowSet {
	set := rowSet{}
	for _, p := range r.PVs {
		set["pv "+p.UUID] = map[string]string{
			"pv_name": p.Name, "pv_uuid": p.UUID, "vg_name": p.VGName, "pv_attr": p.Attr, "pv_tags": strings.Join(p.Tags, ","),
			"dev_size": i64(p.DevSize), "pv_size": i64(p.Size), "pv_free": i64(p.Free), "pv_used": i64(p.Used),
			"pe_start": i64(p.PEStart), "pv_pe_count": i64(p.PECount), "pv_pe_alloc_count": i64(p.PEAllocCount),
			"pv_mda_count": strconv.Itoa(p.MDACount), "pv_major": strconv.Itoa(p.Major), "pv_minor": strconv.Itoa(p.Minor),
		}
		for _, s := range p.Segments {
			set["pvseg "+p.UUID+" "+i64(s.StartExtent)] = map[string]string{
				"pv_uuid": p.UUID, "pvseg_start": i64(s.StartExtent), "pvseg_size": i64(s.Extents),
				"lv_uuid": s.LVUUID, "lv_name": s.LV,
			}
		}
	}
	for _, v := range r.VGs {
		set["vg "+v.UUID] = map[string]string{
			"vg_name": v.Name, "vg_uuid": v.UUID, "vg_attr": v.Attr, "vg_tags": strings.Join(v.Tags, ","),
			"vg_size": i64(v.Size), "vg_free": i64(v.Free), "vg_extent_size": i64(v.ExtentSize),
			"vg_extent_count": i64(v.ExtentCount), "vg_free_count": i64(v.FreeCount), "vg_seqno": i64(v.Seqno),
			"pv_count": strconv.Itoa(v.PVCount), "lv_count": strconv.Itoa(v.LVCount), "snap_count": strconv.Itoa(v.SnapCount),
		}
		for _, l := range v.LVs {
			set["lv "+l.UUID] = map[string]string{
				"lv_name": l.Name, "lv_uuid": l.UUID, "vg_name": l.VGName, "lv_full_name": l.FullName, "lv_path": l.Path,
				"lv_dm_path": l.DMPath, "lv_attr": l.Attr.String(), "lv_tags": strings.Join(l.Tags, ","), "lv_size": i64(l.Size),
				"lv_layout": strings.Join(l.Layout, ","), "lv_role": strings.Join(l.Role, ","), "seg_count": strconv.Itoa(l.SegCount),
				"lv_kernel_major": strconv.Itoa(l.KernelMajor), "lv_kernel_minor": strconv.Itoa(l.KernelMinor),
				"pool_lv": l.Pool, "origin": l.Origin,
			}
			for _, s := range l.Segments {
				var devs []string
				for _, a := range s.Areas {
					n := a.PV
					if n == "" {
						n = a.LV
					}
					devs = append(devs, n+"("+i64(a.Extent)+")")
				}
				set["seg "+l.UUID+" "+i64(s.StartExtent)] = map[string]string{
					"segtype": s.Type, "seg_start": i64(s.Start), "seg_size": i64(s.Size), "seg_start_pe": i64(s.StartExtent),
					"seg_size_pe": i64(s.Extents), "stripes": strconv.Itoa(s.Stripes), "stripe_size": i64(s.StripeSize),
					"devices": strings.Join(devs, ","), "seg_tags": strings.Join(s.Tags, ","),
				}
			}
		}
	}
	return set
}

// compareRows reports every difference (lvm's value is the reference) and
// returns the number of mismatches and of fields compared.
func compareRows(t *testing.T, who string, got, want rowSet) (mismatches, fields int) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := got[k]
		if g == nil {
			t.Errorf("%s: lacks %s", who, k)
			mismatches++
			continue
		}
		for f, w := range want[k] {
			if f == "lv_uuid" && strings.HasPrefix(k, "seg ") {
				continue
			}
			fields++
			if g[f] != w {
				t.Errorf("%s: %s %s = %q, lvm says %q", who, k, f, g[f], w)
				mismatches++
			}
		}
	}
	for k := range got {
		if want[k] == nil {
			t.Errorf("%s: has %s, which lvm does not report", who, k)
			mismatches++
		}
	}
	return mismatches, fields
}

// savePVHeads keeps the start of each PV (label, metadata area header and
// text, up to the last non-zero 4 KiB) gzipped, for the on-disk reader's
// tests without root.
func savePVHeads(t *testing.T, devs []string, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, d := range devs {
		head := testenv.ReadFileAt(t, d, 0, 1<<20)
		end := len(head)
		for end > 0 && head[end-1] == 0 {
			end--
		}
		end = (end + 4095) &^ 4095
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(head[:end])
		zw.Close()
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("pv%d.img.gz", i)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
