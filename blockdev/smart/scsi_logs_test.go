package smart

import (
	"errors"
	"reflect"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestParseLogPageLayout(t *testing.T) {
	p, err := ParseLogPage(pageTemperature)
	if err != nil {
		t.Fatal(err)
	}
	want := &LogPage{Code: 0x0d, Params: []LogParam{
		{Code: 0, Control: 0x03, Value: []byte{0x00, 0x1d}},
		{Code: 1, Control: 0x03, Value: []byte{0x00, 0x3c}},
	}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	// SPF and DS bits and a subpage: 0Dh/01h with DS set is C0h|0Dh = CDh.
	p, err = ParseLogPage([]byte{0xcd, 0x01, 0x00, 0x00, 0xee})
	if err != nil || !p.SPF || !p.DS || p.Code != 0x0d || p.Subpage != 1 || len(p.Params) != 0 {
		t.Errorf("header bits: %+v %v", p, err)
	}
	// Counters of any length, longer ones keeping their low 8 bytes.
	for _, c := range []struct {
		v    []byte
		want uint64
	}{
		{nil, 0},
		{[]byte{0x2a}, 42},
		{[]byte{0x01, 0x00}, 256},
		{[]byte{0x03, 0x29, 0x22, 0x0f, 0xc0}, 13575000000},
		{[]byte{0xff, 0x00, 0x00, 0x02, 0x0d, 0x60, 0x45, 0x88, 0x40}, 2256473000000},
	} {
		if got := (LogParam{Value: c.v}).Uint64(); got != c.want {
			t.Errorf("Uint64(% x) = %d, want %d", c.v, got, c.want)
		}
	}
}

func TestParseLogPageMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":                {},
		"short header":         {0x0d, 0x00, 0x00},
		"page length overruns": {0x0d, 0x00, 0x00, 0x08, 0x00, 0x00, 0x03, 0x02, 0x00, 0x1d},
		"parameter overruns":   {0x0d, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0x04, 0x00, 0x1d},
		"stray bytes":          {0x0d, 0x00, 0x00, 0x08, 0x00, 0x00, 0x03, 0x02, 0x00, 0x1d, 0x00, 0x01},
	} {
		if _, err := ParseLogPage(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	// A page other than the one a typed decoder reads.
	if _, err := ParseTemperaturePage(pageIE); !errors.Is(err, ErrMalformed) {
		t.Errorf("IE page as temperature: %v", err)
	}
	if _, err := ParseSupportedLogPages(pageIE); !errors.Is(err, ErrMalformed) {
		t.Errorf("IE page as supported list: %v", err)
	}
}

func TestParseSupportedLogPages(t *testing.T) {
	got, err := ParseSupportedLogPages(pageSupported)
	want := []uint8{0x00, 0x02, 0x03, 0x05, 0x06, 0x0d, 0x0e, 0x10, 0x11, 0x15, 0x2f}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%x %v, want %x", got, err, want)
	}
	if _, err := ParseSupportedLogPages([]byte{0, 0, 0, 9, 1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("overrun: %v", err)
	}
}

func TestParseErrorCounterPages(t *testing.T) {
	r, err := ParseErrorCounterPage(pageReadErrors)
	if err != nil {
		t.Fatal(err)
	}
	want := &ErrorCounters{Page: 3, Values: [7]uint64{170693715, 0, 0, 170693715, 0, 88818123456, 0},
		Has: [7]bool{true, true, true, true, true, true, true}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("read: %+v, want %+v", r, want)
	}
	w, err := ParseErrorCounterPage(pageWriteErrors)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := w.Get(BytesProcessed); !ok || v != 2256473000000 {
		t.Errorf("write bytes processed %d %v", v, ok)
	}
	if _, ok := w.Get(TotalUncorrected); ok || w.Page != 2 {
		t.Errorf("write page lacks 0006h but reports it: %+v", w)
	}
	v, err := ParseErrorCounterPage(pageVerifyErrors)
	if err != nil {
		t.Fatal(err)
	}
	if v.Values[CorrectedWithoutDelay] != 26102529 || v.Values[BytesProcessed] != 13575000000 || v.Page != 5 {
		t.Errorf("verify: %+v", v)
	}
	if _, ok := (*ErrorCounters)(nil).Get(TotalCorrected); ok {
		t.Error("nil page reports a counter")
	}
	if _, err := ParseErrorCounterPage(pageTemperature); !errors.Is(err, ErrMalformed) {
		t.Errorf("temperature page as error counters: %v", err)
	}
	if n, ok, err := ParseNonMediumErrorPage(pageNonMedium); err != nil || !ok || n != 42 {
		t.Errorf("non-medium: %d %v %v", n, ok, err)
	}
}

func TestParseTemperaturePage(t *testing.T) {
	got, err := ParseTemperaturePage(pageTemperature)
	if err != nil || !reflect.DeepEqual(got, &SCSITemperature{Current: ptr(29), Reference: ptr(60)}) {
		t.Fatalf("%+v %v", got, err)
	}
	// FFh is "not available", not 255 C; a missing parameter is absent.
	got, err = ParseTemperaturePage([]byte{0x0d, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0x02, 0x00, 0xff})
	if err != nil || got.Current != nil || got.Reference != nil {
		t.Errorf("unavailable: %+v %v", got, err)
	}
}

func TestParseStartStopPage(t *testing.T) {
	got, err := ParseStartStopPage(pageStartStop)
	want := &StartStopCycles{ManufactureYear: "2019", ManufactureWeek: "50",
		SpecifiedCycles: ptr[uint32](10000), AccumulatedCycles: ptr[uint32](1090),
		SpecifiedLoadUnload: ptr[uint32](300000), AccumulatedLoadUnload: ptr[uint32](1181)}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v %v", got, err)
	}
	// An SSD's page: the date, and counters of all FFh, which mean "not
	// known" rather than 4294967295 cycles (the TOSHIBA KPM5XMUG400G's
	// smartctl JSON has the date alone).
	ssd := []byte{0x0e, 0x00, 0x00, 0x12,
		0x00, 0x01, 0x01, 0x06, '2', '0', '1', '9', '3', '7',
		0x00, 0x04, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff}
	got, err = ParseStartStopPage(ssd)
	if err != nil || got.ManufactureWeek != "37" || got.AccumulatedCycles != nil || got.SpecifiedCycles != nil {
		t.Errorf("SSD: %+v %v", got, err)
	}
}

func TestParseInformationalExceptionsPage(t *testing.T) {
	got, err := ParseInformationalExceptionsPage(pageIE)
	if err != nil || !reflect.DeepEqual(got, &InformationalExceptions{Temperature: ptr(29), TripTemperature: ptr(60)}) {
		t.Fatalf("%+v %v", got, err)
	}
	if got.FailurePredicted() || got.Warning() || got.String() != "" {
		t.Errorf("no exception reads as one: %+v %q", got, got.String())
	}
	for _, c := range []struct {
		asc, ascq      uint8
		failing, warns bool
		text           string
	}{
		{0x5d, 0x00, true, false, "FAILURE PREDICTION THRESHOLD EXCEEDED"},
		{0x5d, 0x10, true, false, "HARDWARE IMPENDING FAILURE GENERAL HARD DRIVE FAILURE"},
		{0x5d, 0x64, true, false, "FIRMWARE IMPENDING FAILURE TOO MANY BLOCK REASSIGNS"},
		{0x5d, 0xff, true, false, "FAILURE PREDICTION THRESHOLD EXCEEDED (FALSE)"},
		{0x5d, 0x99, true, false, "FAILURE PREDICTION THRESHOLD EXCEEDED (ASCQ 99h)"},
		{0x0b, 0x01, false, true, "WARNING - SPECIFIED TEMPERATURE EXCEEDED"},
		{0x0b, 0x7e, false, true, "WARNING (ASCQ 7Eh)"},
	} {
		// Only ASC and ASCQ: no temperature in the parameter.
		b := []byte{0x2f, 0x00, 0x00, 0x06, 0x00, 0x00, 0x03, 0x02, c.asc, c.ascq}
		ie, err := ParseInformationalExceptionsPage(b)
		if err != nil || ie.FailurePredicted() != c.failing || ie.Warning() != c.warns || ie.String() != c.text || ie.Temperature != nil {
			t.Errorf("%02x/%02x: %+v %q %v", c.asc, c.ascq, ie, ie.String(), err)
		}
	}
	for name, b := range map[string][]byte{
		"no parameter 0000h": {0x2f, 0x00, 0x00, 0x06, 0x00, 0x01, 0x03, 0x02, 0x5d, 0x00},
		"no ASCQ":            {0x2f, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03, 0x01, 0x5d},
	} {
		if _, err := ParseInformationalExceptionsPage(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed (health must stay unknown)", name, err)
		}
	}
}

func TestParseSCSISelfTestPage(t *testing.T) {
	l, err := ParseSCSISelfTestPage(pageSelfTest)
	if err != nil {
		t.Fatal(err)
	}
	none := ^uint64(0)
	want := []SCSISelfTest{
		{Number: 1, Code: 7, Result: 0, Segment: 64, PowerOnHours: 3, FirstFailure: none},
		{Number: 2, Code: 1, Result: 0, Segment: 96, PowerOnHours: 1, FirstFailure: none},
	}
	if !reflect.DeepEqual(l.Entries, want) {
		t.Fatalf("%+v, want %+v", l.Entries, want)
	}
	if l.Entries[0].CodeName() != "Reserved(7)" || l.Entries[1].CodeName() != "Background short" ||
		l.Entries[0].ResultName() != "Completed" || l.Entries[0].Failed() || l.Entries[0].HasFailureAddress() {
		t.Errorf("names: %q %q %q", l.Entries[0].CodeName(), l.Entries[1].CodeName(), l.Entries[0].ResultName())
	}
	l, err = ParseSCSISelfTestPage(pageSelfTestFailed)
	if err != nil || len(l.Entries) != 1 {
		t.Fatalf("%+v %v", l, err)
	}
	e := l.Entries[0]
	if e.Code != 2 || e.Result != 7 || e.Segment != 3 || e.PowerOnHours != 4660 || e.FirstFailure != 1234567 ||
		e.SenseKey != 3 || e.ASC != 0x11 || e.ASCQ != 0 || !e.Failed() || !e.HasFailureAddress() ||
		e.CodeName() != "Background long" || e.ResultName() != "Failed in segment" {
		t.Errorf("failed entry: %+v", e)
	}
	if _, err := ParseSCSISelfTestPage([]byte{0x10, 0, 0, 8, 0, 1, 3, 4, 0x20, 0, 0, 1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short result: %v", err)
	}
	if l, err := ParseSCSISelfTestPage([]byte{0x10, 0, 0, 0}); err != nil || l.Entries == nil || len(l.Entries) != 0 {
		t.Errorf("empty log: %+v %v", l, err)
	}
}

func TestParseSSMediaAndBackgroundScan(t *testing.T) {
	if n, ok, err := ParseSolidStateMediaPage(pageSSMedia); err != nil || !ok || n != 5 {
		t.Errorf("SS media: %d %v %v", n, ok, err)
	}
	if _, ok, err := ParseSolidStateMediaPage([]byte{0x11, 0, 0, 0}); err != nil || ok {
		t.Errorf("SS media without the parameter: %v %v", ok, err)
	}
	b, err := ParseBackgroundScanPage(pageBackgroundScan)
	want := &BackgroundScan{PowerOnMinutes: 279946, Status: 0, ScansPerformed: 2, Progress: 0x8000, MediumScansPerformed: 7}
	if err != nil || !reflect.DeepEqual(b, want) || b.StatusName() != "no scans active" {
		t.Fatalf("%+v %v", b, err)
	}
	if _, err := ParseBackgroundScanPage([]byte{0x15, 0, 0, 8, 0, 0, 3, 4, 0, 0, 0, 1}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short status: %v", err)
	}
}

func TestParseDefectListHeader(t *testing.T) {
	for _, c := range []struct {
		name   string
		b      []byte
		twelve bool
		want   DefectList
		count  *uint64
	}{
		{"(12) empty grown list", defects12Seagate, true, DefectList{Grown: true, Format: 4}, ptr[uint64](0)},
		// 40 bytes of 8-byte bytes-from-index descriptors: 5 defects.
		{"(12) five", []byte{0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x28}, true, DefectList{Grown: true, Format: 4, Length: 40}, ptr[uint64](5)},
		// (10): 32 bytes of 4-byte short block descriptors: 8 defects.
		{"(10) short block", []byte{0x00, 0x08, 0x00, 0x20}, false, DefectList{Grown: true, Format: 0, Length: 32}, ptr[uint64](8)},
		// Vendor-specific format: the size of a descriptor is unknown.
		{"(10) vendor", []byte{0x00, 0x0e, 0x00, 0x20}, false, DefectList{Grown: true, Format: 6, Length: 32}, nil},
		{"(10) primary", []byte{0x00, 0x13, 0x01, 0x00}, false, DefectList{Primary: true, Format: 3, Length: 256}, ptr[uint64](32)},
	} {
		got, err := ParseDefectListHeader(c.b, c.twelve)
		w := c.want
		w.Count = c.count
		if err != nil || !reflect.DeepEqual(*got, w) {
			t.Errorf("%s: %+v %v, want %+v", c.name, got, err, w)
		}
	}
	if _, err := ParseDefectListHeader([]byte{0, 8, 0, 0}, true); !errors.Is(err, ErrMalformed) {
		t.Errorf("(12) header of 4 bytes: %v", err)
	}
}
