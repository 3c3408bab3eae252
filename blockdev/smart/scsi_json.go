package smart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The SCSI keys of smartctl -j, as smartctl 7.3 prints them for SAS
// drives (testdata/*.json from HGST, Seagate, Toshiba and WD drives hold
// every one). Two are carried but not read by this package, because
// smartctl takes them from commands it does not send: the protection
// interval (READ CAPACITY(16)) and the format status (log page 08h). They
// are kept so smartctl's JSON decodes into these types and encodes back
// unchanged.

type jSCSIIdentity struct {
	SCSIVendor    string `json:"scsi_vendor,omitempty"`
	SCSIProduct   string `json:"scsi_product,omitempty"`
	SCSIModelName string `json:"scsi_model_name,omitempty"`
	SCSIRevision  string `json:"scsi_revision,omitempty"`
	SCSIVersion   string `json:"scsi_version,omitempty"`
}

type jNameValue struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

type jSCSIFormat struct {
	SCSIProtectionType       *int `json:"scsi_protection_type,omitempty"`
	SCSIProtectionIntervals  *int `json:"scsi_protection_intervals_per_lb,omitempty"`
	SCSIProtectionBytesPerLB *int `json:"scsi_protection_interval_bytes_per_lb,omitempty"`
	SCSILBProvisioning       *struct {
		Name              string     `json:"name"`
		Value             int        `json:"value"`
		ManagementEnabled jNameValue `json:"management_enabled"`
		ReadZeros         jNameValue `json:"read_zeros"`
	} `json:"scsi_lb_provisioning,omitempty"`
}

type jSCSIDevice struct {
	FormFactor *struct {
		SCSIValue uint8  `json:"scsi_value"`
		Name      string `json:"name,omitempty"`
	} `json:"form_factor,omitempty"`
	LogicalUnitID string       `json:"logical_unit_id,omitempty"`
	DeviceType    *jDeviceType `json:"device_type,omitempty"`
	Transport     *jNameValue  `json:"scsi_transport_protocol,omitempty"`
}

type jDeviceType struct {
	Terminology string `json:"scsi_terminology"`
	Value       uint8  `json:"scsi_value"`
	Name        string `json:"name,omitempty"`
}

type jErrorCounter struct {
	ECCFast              uint64 `json:"errors_corrected_by_eccfast"`
	ECCDelayed           uint64 `json:"errors_corrected_by_eccdelayed"`
	RereadsRewrites      uint64 `json:"errors_corrected_by_rereads_rewrites"`
	TotalCorrected       uint64 `json:"total_errors_corrected"`
	AlgorithmInvocations uint64 `json:"correction_algorithm_invocations"`
	GigabytesProcessed   string `json:"gigabytes_processed"`
	TotalUncorrected     uint64 `json:"total_uncorrected_errors"`
}

type jStartStop struct {
	YearOfManufacture     string  `json:"year_of_manufacture,omitempty"`
	WeekOfManufacture     string  `json:"week_of_manufacture,omitempty"`
	SpecifiedCycles       *uint32 `json:"specified_cycle_count_over_device_lifetime,omitempty"`
	AccumulatedCycles     *uint32 `json:"accumulated_start_stop_cycles,omitempty"`
	SpecifiedLoadUnload   *uint32 `json:"specified_load_unload_count_over_device_lifetime,omitempty"`
	AccumulatedLoadUnload *uint32 `json:"accumulated_load_unload_cycles,omitempty"`
}

type jSCSISelfTest struct {
	Code          jValueString `json:"code"`
	Result        jValueString `json:"result"`
	FailedSegment *struct {
		Value uint8  `json:"value"`
		AKA   string `json:"aka"`
	} `json:"failed_segment,omitempty"`
	InProgress  *bool `json:"self_test_in_progress,omitempty"`
	PowerOnTime *struct {
		Hours uint16 `json:"hours"`
		AKA   string `json:"aka"`
	} `json:"power_on_time,omitempty"`
	LBAFirstFailure *struct {
		Value uint64 `json:"value"`
		AKA   string `json:"aka"`
	} `json:"lba_first_failure,omitempty"`
	SenseKey *jValueString `json:"sense_key,omitempty"`
	ASC      *uint8        `json:"asc,omitempty"`
	ASCQ     *uint8        `json:"ascq,omitempty"`
	Vendor   *uint8        `json:"vendor_specific,omitempty"`
}

type jSCSILogs struct {
	StartStop    *jStartStop `json:"scsi_start_stop_cycle_counter,omitempty"`
	GrownDefects *uint64     `json:"scsi_grown_defect_list,omitempty"`
	ErrorCounter *struct {
		Read   *jErrorCounter `json:"read,omitempty"`
		Write  *jErrorCounter `json:"write,omitempty"`
		Verify *jErrorCounter `json:"verify,omitempty"`
	} `json:"scsi_error_counter_log,omitempty"`
	// SelfTests are smartctl's scsi_self_test_0, _1, ... keys, which
	// jOutput's MarshalJSON and UnmarshalJSON write and read.
	SelfTests               []jSCSISelfTest `json:"-"`
	ExtendedSelfTestSeconds *int            `json:"scsi_extended_self_test_seconds,omitempty"`
	BackgroundScan          *struct {
		Status struct {
			Value                uint8  `json:"value"`
			String               string `json:"string,omitempty"`
			ScansPerformed       uint16 `json:"number_scans_performed"`
			ScanProgress         string `json:"scan_progress"`
			MediumScansPerformed uint16 `json:"number_medium_scans_performed"`
		} `json:"status"`
	} `json:"scsi_background_scan,omitempty"`
}

const selfTestKey = "scsi_self_test_"

// jOutputFields is jOutput without its methods, for the default encoding.
type jOutputFields jOutput

// MarshalJSON writes the struct's keys in order, then the self-test
// entries under smartctl's numbered keys.
func (o jOutput) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(jOutputFields(o))
	if err != nil || len(o.SelfTests) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	for i, e := range o.SelfTests {
		v, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, `,"%s%d":`, selfTestKey, i)
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads the struct's keys and the numbered self-test keys.
func (o *jOutput) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*jOutputFields)(o)); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	var idx []int
	for k := range all {
		if n, ok := strings.CutPrefix(k, selfTestKey); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 64 {
				idx = append(idx, i)
			}
		}
	}
	sort.Ints(idx)
	o.SelfTests = nil
	for _, i := range idx {
		var e jSCSISelfTest
		if err := json.Unmarshal(all[selfTestKey+strconv.Itoa(i)], &e); err != nil {
			return err
		}
		o.SelfTests = append(o.SelfTests, e)
	}
	return nil
}

func errorCounterJSON(c *ErrorCounters) *jErrorCounter {
	if c == nil {
		return nil
	}
	// smartctl prints every counter, a missing one as 0.
	return &jErrorCounter{
		ECCFast:              c.Values[CorrectedWithoutDelay],
		ECCDelayed:           c.Values[CorrectedWithDelay],
		RereadsRewrites:      c.Values[RereadsRewrites],
		TotalCorrected:       c.Values[TotalCorrected],
		AlgorithmInvocations: c.Values[CorrectionInvocations],
		GigabytesProcessed:   strconv.FormatFloat(float64(c.Values[BytesProcessed])/1e9, 'f', 3, 64),
		TotalUncorrected:     c.Values[TotalUncorrected],
	}
}

func fillSCSI(o *jOutput, d *SCSIData) {
	if q := d.Inquiry; q != nil {
		o.SCSIVendor, o.SCSIProduct, o.SCSIModelName = q.Vendor, q.Product, q.ModelName()
		o.SCSIRevision, o.SCSIVersion = q.Revision, q.SPCVersion()
		o.DeviceType = &jDeviceType{Terminology: "Peripheral Device Type [PDT]", Value: q.DeviceType, Name: q.DeviceTypeName()}
	}
	if c := d.Capacity; c != nil {
		o.UserCapacity = &jCapacity{Blocks: c.Blocks, Bytes: c.Bytes}
		o.LogicalBlockSize, o.PhysicalBlockSize = c.LogicalBlockSize, c.PhysicalBlockSize
	}
	if d.ProtectionType != 0 {
		pt := int(d.ProtectionType)
		o.SCSIProtectionType = &pt
	}
	if p := d.Provisioning; p != nil {
		o.SCSILBProvisioning = &struct {
			Name              string     `json:"name"`
			Value             int        `json:"value"`
			ManagementEnabled jNameValue `json:"management_enabled"`
			ReadZeros         jNameValue `json:"read_zeros"`
		}{p.Name(), int(p.Type), jNameValue{"LBPME", p.LBPME}, jNameValue{"LBPRZ", p.LBPRZ}}
	}
	if d.RotationRate != nil {
		rpm := *d.RotationRate
		if rpm == 1 {
			rpm = 0 // smartctl's convention for a solid state device
		}
		o.RotationRate = &rpm
	}
	if d.FormFactor != 0 {
		o.FormFactor = &struct {
			SCSIValue uint8  `json:"scsi_value"`
			Name      string `json:"name,omitempty"`
		}{d.FormFactor, formFactors[d.FormFactor]}
	}
	o.LogicalUnitID, o.SerialNumber = d.LogicalUnitID, d.Serial
	if d.Transport != nil {
		o.Transport = &jNameValue{Name: transportNames[*d.Transport&0xf], Value: int(*d.Transport)}
	}
	o.SmartSupport = &jSmartSupport{Available: d.ExceptionControl != nil}
	if ec := d.ExceptionControl; ec != nil {
		en := ec.Enabled
		o.SmartSupport.Enabled = &en
		o.TemperatureWarning = &struct {
			Enabled bool `json:"enabled"`
		}{ec.TemperatureWarning}
	}
	if ie := d.Exceptions; ie != nil && o.SmartStatus != nil && !o.SmartStatus.Passed {
		o.SmartStatus.SCSI = &jSCSIStatus{ASC: ie.ASC, ASCQ: ie.ASCQ, IEString: ie.String()}
	}
	o.SCSIPercentageUsed = d.PercentageUsed
	switch t := d.Temperature; {
	case t != nil && (t.Current != nil || t.Reference != nil):
		o.Temperature = &jTemperature{Current: t.Current, DriveTrip: t.Reference}
	case t == nil && d.Exceptions != nil:
		// Without a Temperature page smartctl takes the reading, and the
		// vendor trip byte, from the Informational Exceptions page.
		if d.Exceptions.Temperature != nil {
			o.Temperature = &jTemperature{Current: d.Exceptions.Temperature}
		}
		if d.Exceptions.TripTemperature != nil {
			o.SCSITemperature = &jTemperature{DriveTrip: d.Exceptions.TripTemperature}
		}
	}
	if m, ok := d.PowerOnMinutes(); ok {
		mins := uint64(m % 60)
		o.PowerOnTime = &jPowerOnTime{Hours: uint64(m / 60), Minutes: &mins}
	}
	if s := d.StartStop; s != nil {
		o.StartStop = &jStartStop{YearOfManufacture: s.ManufactureYear, WeekOfManufacture: s.ManufactureWeek,
			SpecifiedCycles: s.SpecifiedCycles, AccumulatedCycles: s.AccumulatedCycles,
			SpecifiedLoadUnload: s.SpecifiedLoadUnload, AccumulatedLoadUnload: s.AccumulatedLoadUnload}
	}
	o.GrownDefects = d.GrownDefects
	verify := d.VerifyErrors
	if verify != nil {
		// smartctl prints the verify counters only when one is not zero.
		var nonzero bool
		for k, v := range verify.Values {
			nonzero = nonzero || (verify.Has[k] && v != 0)
		}
		if !nonzero {
			verify = nil
		}
	}
	if d.ReadErrors != nil || d.WriteErrors != nil || verify != nil {
		o.ErrorCounter = &struct {
			Read   *jErrorCounter `json:"read,omitempty"`
			Write  *jErrorCounter `json:"write,omitempty"`
			Verify *jErrorCounter `json:"verify,omitempty"`
		}{errorCounterJSON(d.ReadErrors), errorCounterJSON(d.WriteErrors), errorCounterJSON(verify)}
	}
	if l := d.SelfTests; l != nil {
		for _, e := range l.Entries {
			je := jSCSISelfTest{
				Code:   jValueString{Value: int(e.Code), String: e.CodeName()},
				Result: jValueString{Value: int(e.Result), String: e.ResultName()},
			}
			if e.Segment > 0 {
				je.FailedSegment = &struct {
					Value uint8  `json:"value"`
					AKA   string `json:"aka"`
				}{e.Segment, "self_test_number"}
			}
			if e.PowerOnHours == 0 && e.InProgress() {
				t := true
				je.InProgress = &t
			} else {
				je.PowerOnTime = &struct {
					Hours uint16 `json:"hours"`
					AKA   string `json:"aka"`
				}{e.PowerOnHours, "accumulated_power_on_hours"}
			}
			if e.HasFailureAddress() {
				je.LBAFirstFailure = &struct {
					Value uint64 `json:"value"`
					AKA   string `json:"aka"`
				}{e.FirstFailure, "address_of_first_failure"}
			}
			if e.SenseKey != 0 {
				asc, ascq := e.ASC, e.ASCQ
				je.SenseKey = &jValueString{Value: int(e.SenseKey), String: senseKeyName(e.SenseKey)}
				je.ASC, je.ASCQ = &asc, &ascq
			}
			o.SelfTests = append(o.SelfTests, je)
		}
		if d.ExtendedSelfTestSeconds != nil && len(l.Entries) > 0 {
			sec := int(*d.ExtendedSelfTestSeconds)
			o.ExtendedSelfTestSeconds = &sec
		}
	}
	if b := d.BackgroundScan; b != nil {
		o.BackgroundScan = &struct {
			Status struct {
				Value                uint8  `json:"value"`
				String               string `json:"string,omitempty"`
				ScansPerformed       uint16 `json:"number_scans_performed"`
				ScanProgress         string `json:"scan_progress"`
				MediumScansPerformed uint16 `json:"number_medium_scans_performed"`
			} `json:"status"`
		}{}
		st := &o.BackgroundScan.Status
		st.Value, st.String, st.ScansPerformed, st.MediumScansPerformed = b.Status, b.StatusName(), b.ScansPerformed, b.MediumScansPerformed
		st.ScanProgress = strconv.FormatFloat(float64(b.Progress)*100/65536, 'f', 2, 64) + "%"
	}
}

var senseKeyNames = [16]string{
	"No Sense", "Recovered Error", "Not Ready", "Medium Error", "Hardware Error", "Illegal Request",
	"Unit Attention", "Data Protect", "Blank Check", "Vendor specific(9)", "Copy Aborted",
	"Aborted Command", "Equal", "Volume Overflow", "Miscompare", "Completed",
}

// senseKeyName is smartctl's name for a sense key.
func senseKeyName(k uint8) string { return senseKeyNames[k&0xf] }
