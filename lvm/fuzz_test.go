package lvm

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// The on-disk metadata text parser and the VG decoder behind it: any input
// is a *MalformedError or an *UnsupportedError, never a panic.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(sampleText))
	f.Add([]byte(`a = [1, "x", [2]] b { c = -1.5 }`))
	f.Add([]byte(`contents = "Text Format Volume Group" version = 1 v { seqno = 1 extent_size = 8 }`))
	for i := 0; i < 4; i++ {
		img := pvHead(f, i)
		s := scannedPV{}
		if readPV(bytes.NewReader(img), &s) == nil && s.text != nil {
			f.Add(s.text)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeVGMetadata(b)
		if err != nil {
			return
		}
		devs := map[string]*pvDevice{}
		buildVG(m, devs)
	})
}

// The PV label, pv_header and mda_header decoders on arbitrary images.
func FuzzReadPV(f *testing.F) {
	for i := 0; i < 4; i++ {
		f.Add(pvHead(f, i)[:min(16384, len(pvHead(f, i)))])
	}
	f.Add(synthPV(f, []byte(sampleText), 8192, 8000))
	f.Fuzz(func(t *testing.T, img []byte) {
		s := scannedPV{dev: pvDevice{path: "/dev/x", size: int64(len(img))}}
		if err := readPV(bytes.NewReader(img), &s); err != nil {
			return
		}
		assemble([]scannedPV{s})
	})
}

// lvm's JSON report parser and the typing behind it.
func FuzzParseJSONReport(f *testing.F) {
	fs, _ := command.LoadFixtures(filepath.Join("testdata", "fullreport"))
	for _, fx := range fs {
		f.Add([]byte(fx.Stdout))
	}
	f.Add([]byte(`{"report":[{"vg":[{"vg_name":"v","vg_size":1}],"lv":[{"lv_name":"l","vg_name":"v","lv_attr":"-wi-a-----"}]}]}`))
	f.Add([]byte(`{"report":[{"vg":[{"vg_name":"v"}],"pv":[{"pv_name":"/d","pv_uuid":"p","vg_name":"v","pv_pe_count":"-3"}],` +
		`"lv":[{"lv_name":"l","lv_uuid":"u","vg_name":"v","lv_attr":"-wi-a-----"}],` +
		`"seg":[{"lv_uuid":"u","stripes":"0","seg_size_pe":"-7","devices":"/d(9),/d(-1),x(1"}],` +
		`"pvseg":[{"pv_uuid":"p","pvseg_start":"1","pvseg_size":"x","lv_uuid":"u"}]}]}`))
	if b, err := os.ReadFile(filepath.Join("testdata", "std.json")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := parseJSONReport(b)
		if err != nil {
			return
		}
		for _, o := range rep.Report {
			r, err := build(o["vg"], o["pv"], o["lv"], o["seg"])
			if err != nil {
				continue
			}
			attachPVSegments(r, o["pvseg"])
			derivePVSegments(r)
		}
	})
}
