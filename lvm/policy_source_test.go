package lvm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// scriptRunner answers lvm commands by subcommand and records them.
type scriptRunner struct {
	answers map[string]*command.Result
	errs    map[string]error
	calls   [][]string
}

func (r *scriptRunner) Run(ctx context.Context, c command.Cmd) (*command.Result, error) {
	r.calls = append(r.calls, append([]string{c.Tool}, c.Args...))
	sub := c.Args[0]
	if res, ok := r.answers[sub]; ok {
		return res, r.errs[sub]
	}
	return &command.Result{}, r.errs[sub]
}

// A pool row, its hidden sub-LVs and two thin LVs, as lvm 2.03.16 prints
// `lvs -a --reportformat json --units b --nosuffix -o ...` in the guest.
const lvsPoolJSON = `{"report": [{"lv": [
 {"vg_name":"vg", "lv_name":"[lvol0_pmspare]", "lv_attr":"ewi-------", "lv_size":"4194304", "lv_metadata_size":"", "pool_lv":"", "data_percent":"", "metadata_percent":"", "vg_free":"922746880", "vg_extent_size":"4194304", "lv_when_full":""},
 {"vg_name":"vg", "lv_name":"pool", "lv_attr":"twi-aotz--", "lv_size":"67108864", "lv_metadata_size":"4194304", "pool_lv":"", "data_percent":"25.00", "metadata_percent":"10.94", "vg_free":"922746880", "vg_extent_size":"4194304", "lv_when_full":"error"},
 {"vg_name":"vg", "lv_name":"[pool_tdata]", "lv_attr":"Twi-ao----", "lv_size":"67108864", "lv_metadata_size":"", "pool_lv":"", "data_percent":"", "metadata_percent":"", "vg_free":"922746880", "vg_extent_size":"4194304", "lv_when_full":""},
 {"vg_name":"vg", "lv_name":"[pool_tmeta]", "lv_attr":"ewi-ao----", "lv_size":"4194304", "lv_metadata_size":"", "pool_lv":"", "data_percent":"", "metadata_percent":"", "vg_free":"922746880", "vg_extent_size":"4194304", "lv_when_full":""},
 {"vg_name":"vg", "lv_name":"thin", "lv_attr":"Vwi-a-tz--", "lv_size":"536870912", "lv_metadata_size":"", "pool_lv":"pool", "data_percent":"3.12", "metadata_percent":"", "vg_free":"922746880", "vg_extent_size":"4194304", "lv_when_full":""},
 {"vg_name":"vg", "lv_name":"thin2", "lv_attr":"Vwi-a-tz--", "lv_size":"1048576", "lv_metadata_size":"", "pool_lv":"pool", "data_percent":"0.00", "metadata_percent":"", "vg_free":"922746880", "vg_extent_size":"4194304", "lv_when_full":""}
]}]}`

func newScriptTool(t *testing.T, r *scriptRunner) *Tool {
	t.Helper()
	tl, err := NewTool(r, WithReportFormat("json"), WithDevices("/dev/sda"))
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestReportSource(t *testing.T) {
	r := &scriptRunner{answers: map[string]*command.Result{"lvs": {Stdout: []byte(lvsPoolJSON)}}}
	rs, err := NewReportSource(newScriptTool(t, r))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := rs.PoolLayout(ctx, "vg", "pool")
	if err != nil {
		t.Fatal(err)
	}
	want := PoolLayout{DataBytes: 64 << 20, MetaBytes: 4 << 20, VGFree: 880 << 20, ExtentSize: 4 << 20,
		ThinVirtual: 513 << 20, Thins: 2, ErrorWhenFull: true}
	if l != want {
		t.Fatalf("layout %+v, want %+v", l, want)
	}
	u, err := rs.PoolUsage(ctx, "vg", "pool")
	if err != nil {
		t.Fatal(err)
	}
	if u.DataUsed != 16<<20 || u.Mode != "rw" || !u.ErrorWhenFull || u.MetaTotal != 4<<20 {
		t.Fatalf("usage %+v", u)
	}
	if got := strings.Join(r.calls[0], " "); !strings.Contains(got, "lvs --devices /dev/sda") || !strings.HasSuffix(got, " vg") {
		t.Fatalf("argv %s", got)
	}
	if _, err := rs.PoolLayout(ctx, "vg", "thin"); !errors.Is(err, ErrNotThinPool) {
		t.Fatalf("a thin LV as a pool: %v", err)
	}
	if _, err := rs.PoolLayout(ctx, "vg", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing pool: %v", err)
	}
	full := strings.Replace(lvsPoolJSON, `"twi-aotz--"`, `"twi-aotzD-"`, 1)
	r.answers["lvs"] = &command.Result{Stdout: []byte(full)}
	if u, _ := rs.PoolUsage(ctx, "vg", "pool"); u.Mode != "out_of_data_space" {
		t.Fatalf("health D: mode %q", u.Mode)
	}
}

func TestToolGrower(t *testing.T) {
	r := &scriptRunner{answers: map[string]*command.Result{}, errs: map[string]error{}}
	g, err := NewToolGrower(newScriptTool(t, r))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := g.GrowPool(ctx, "vg", "pool", 128<<20, 8<<20); err != nil {
		t.Fatal(err)
	}
	if err := g.SetErrorWhenFull(ctx, "vg", "pool", true); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.calls {
		s := strings.Join(c, " ")
		s = s[strings.Index(s, "--reportformat"):]
		got = append(got, c[1]+" "+s)
	}
	want := []string{
		"lvextend --reportformat json --poolmetadatasize 8388608b vg/pool",
		"lvextend --reportformat json -L 134217728b vg/pool",
		"lvchange --reportformat json --errorwhenfull y vg/pool",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// lvm's message in the JSON log classifies the failure.
	r.calls = nil
	r.answers["lvextend"] = &command.Result{Code: 5, Stdout: []byte(`{"log":[{"log_type":"error","log_message":"Insufficient free space: 32 extents needed, but only 0 available"}]}`)}
	r.errs["lvextend"] = &command.ExitError{Code: 5}
	err = g.GrowPool(ctx, "vg", "pool", 256<<20, 0)
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("no space: %v", err)
	}
	if len(r.calls) != 1 {
		t.Fatalf("%d calls", len(r.calls))
	}
	if err := g.GrowPool(ctx, "vg", "pool", -1, 0); err == nil {
		t.Fatal("negative size accepted")
	}
}
