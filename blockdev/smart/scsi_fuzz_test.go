package smart

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
)

// Every SCSI parser meets hostile bytes: none may panic, and each either
// fails with ErrMalformed or returns values that hold together.

func logPageSeeds(f *testing.F) {
	for _, b := range [][]byte{pageReadErrors, pageWriteErrors, pageVerifyErrors, pageTemperature, pageStartStop,
		pageIE, pageSelfTest, pageSelfTestFailed, pageSSMedia, pageBackgroundScan, pageNonMedium, pageSupported} {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x2f, 0x00, 0xff, 0xff})
}

func mustMalformed(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v is not ErrMalformed", err)
	}
}

func FuzzParseLogPage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseLogPage(b)
		mustMalformed(t, err)
		if err != nil {
			return
		}
		n := 0
		for _, x := range p.Params {
			n += logParamHeaderLen + len(x.Value)
			_ = x.Uint64()
		}
		if n > len(b)-logPageHeaderLen {
			t.Fatalf("parameters of %d bytes in a %d-byte buffer", n, len(b))
		}
	})
}

func FuzzParseSupportedLogPages(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseSupportedLogPages(b)
		mustMalformed(t, err)
		for _, c := range l {
			if c > 0x3f {
				t.Fatalf("page code %#x", c)
			}
		}
	})
}

func FuzzParseErrorCounterPage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseErrorCounterPage(b)
		mustMalformed(t, err)
		if err == nil {
			if c.Page != 2 && c.Page != 3 && c.Page != 5 {
				t.Fatalf("page %#x", c.Page)
			}
			for k := range c.Values {
				if !c.Has[k] && c.Values[k] != 0 {
					t.Fatalf("absent counter %d holds %d", k, c.Values[k])
				}
			}
			_ = errorCounterJSON(c)
		}
		_, _, err = ParseNonMediumErrorPage(b)
		mustMalformed(t, err)
	})
}

func FuzzParseTemperaturePage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := ParseTemperaturePage(b)
		mustMalformed(t, err)
		if err == nil {
			for _, v := range []*int{tp.Current, tp.Reference} {
				if v != nil && (*v < 0 || *v > 254) {
					t.Fatalf("temperature %d", *v)
				}
			}
		}
	})
}

func FuzzParseStartStopPage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStartStopPage(b)
		mustMalformed(t, err)
		if err == nil {
			for _, v := range []*uint32{s.SpecifiedCycles, s.AccumulatedCycles, s.SpecifiedLoadUnload, s.AccumulatedLoadUnload} {
				if v != nil && *v == 0xffffffff {
					t.Fatal("an all-FFh counter is reported")
				}
			}
		}
	})
}

func FuzzParseInformationalExceptionsPage(f *testing.F) {
	logPageSeeds(f)
	f.Add([]byte{0x2f, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0x02, 0x5d, 0x42})
	f.Fuzz(func(t *testing.T, b []byte) {
		ie, err := ParseInformationalExceptionsPage(b)
		mustMalformed(t, err)
		if err == nil {
			if (ie.FailurePredicted() || ie.Warning()) != (ie.String() != "") {
				t.Fatalf("%02x/%02x named %q", ie.ASC, ie.ASCQ, ie.String())
			}
		}
	})
}

func FuzzParseSCSISelfTestPage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseSCSISelfTestPage(b)
		mustMalformed(t, err)
		if err == nil {
			if len(l.Entries) > 20 {
				t.Fatalf("%d entries", len(l.Entries))
			}
			for _, e := range l.Entries {
				_, _, _ = e.CodeName(), e.ResultName(), e.HasFailureAddress()
			}
		}
	})
}

func FuzzParseSolidStateMediaPage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, err := ParseSolidStateMediaPage(b)
		mustMalformed(t, err)
	})
}

func FuzzParseBackgroundScanPage(f *testing.F) {
	logPageSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseBackgroundScanPage(b)
		mustMalformed(t, err)
		if err == nil {
			_ = s.StatusName()
		}
	})
}

func FuzzParseDefectListHeader(f *testing.F) {
	f.Add(defects12Seagate, true)
	f.Add([]byte{0x00, 0x08, 0x00, 0x20}, false)
	f.Add([]byte{0x00, 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true)
	f.Fuzz(func(t *testing.T, b []byte, twelve bool) {
		d, err := ParseDefectListHeader(b, twelve)
		mustMalformed(t, err)
		if err == nil && d.Count != nil && *d.Count > uint64(d.Length) {
			t.Fatalf("%d defects in %d bytes", *d.Count, d.Length)
		}
	})
}

func FuzzParseSCSIInquiry(f *testing.F) {
	f.Add(inqQEMU)
	f.Add(inqQEMUUSB)
	f.Add(inqLibata)
	f.Add(inqSeagate)
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseSCSIInquiry(b)
		mustMalformed(t, err)
		if err == nil {
			_, _, _ = q.SPCVersion(), q.ModelName(), q.DeviceTypeName()
			if len(q.Vendor) > 8 || len(q.Product) > 16 || len(q.Revision) > 4 {
				t.Fatalf("identification longer than its field: %+v", q)
			}
		}
	})
}

// The VPD decoders share one target: the page code picks the decoder.
func FuzzParseVPD(f *testing.F) {
	for _, b := range [][]byte{vpdSerialSeagate, vpdDevIDSeagate, vpdB1Seagate, vpdB2Seagate, vpdB2QEMU,
		{0x00, 0x00, 0x00, 0x06, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := parseSupportedVPD(b)
		mustMalformed(t, err)
		_, err = parseUnitSerial(b)
		mustMalformed(t, err)
		id, err := parseDeviceID(b)
		mustMalformed(t, err)
		if err == nil && (id.Transport < -1 || id.Transport > 15) {
			t.Fatalf("transport %d", id.Transport)
		}
		_, err = parseBlockDevChar(b)
		mustMalformed(t, err)
		_, _, err = parseProvisioningVPD(b)
		mustMalformed(t, err)
	})
}

func FuzzParseModePages(f *testing.F) {
	f.Add(modeIECSeagate, false)
	f.Add(modeControlSeagate, false)
	f.Add([]byte{0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x0a, 0x18, 0x06, 0, 0, 0, 0, 0, 0, 0, 1}, true)
	f.Add([]byte{0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x5c, 0x01, 0xff, 0xff}, true)
	f.Fuzz(func(t *testing.T, b []byte, ten bool) {
		_, err := parseIECPage(b, ten)
		mustMalformed(t, err)
		_, err = parseControlPage(b, ten)
		mustMalformed(t, err)
	})
}

// smartctl's JSON (ours and the fixtures) decodes into our types, and what
// they encode decodes back to the same encoding. The seeds are the SAS
// fixtures cut into one object per top-level key: a whole 3 KB report makes
// each input the fuzzer finds interesting take most of a run to minimize.
func FuzzSmartctlJSON(f *testing.F) {
	for _, n := range sasFixtures {
		b, err := os.ReadFile("testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			f.Fatal(err)
		}
		for k, v := range m {
			var c bytes.Buffer
			if err := json.Compact(&c, v); err != nil {
				f.Fatal(err)
			}
			f.Add([]byte(`{"` + k + `":` + c.String() + `}`))
		}
	}
	f.Add([]byte(`{"scsi_self_test_3":{"code":{"value":1}},"scsi_self_test_x":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var o jOutput
		if json.Unmarshal(b, &o) != nil {
			return
		}
		once, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var o2 jOutput
		if err := json.Unmarshal(once, &o2); err != nil {
			t.Fatalf("our own JSON does not decode: %v\n%s", err, once)
		}
		twice, err := json.Marshal(o2)
		if err != nil || !bytes.Equal(once, twice) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
	})
}

// A whole reading assembled from fuzzed pages renders and is judged
// without panicking.
func FuzzSCSIReport(f *testing.F) {
	f.Add(pageIE, pageTemperature, pageSelfTestFailed, pageReadErrors)
	f.Fuzz(func(t *testing.T, ie, temp, st, rd []byte) {
		d := &SCSIData{}
		d.Exceptions, _ = ParseInformationalExceptionsPage(ie)
		d.Temperature, _ = ParseTemperaturePage(temp)
		d.SelfTests, _ = ParseSCSISelfTestPage(st)
		d.ReadErrors, _ = ParseErrorCounterPage(rd)
		d.Status = d.status()
		r := &Report{SCSI: d}
		if _, err := MarshalSmartctlJSON(r); err != nil {
			t.Fatal(err)
		}
		if err := WriteText(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		_ = Health(r, r)
	})
}
