package smart

import (
	"fmt"
	"math/big"
	"strconv"
)

// writeSCSIText renders a SCSI reading in the shape of smartctl -a for a
// SAS drive.
func writeSCSIText(p func(string, ...any), d *SCSIData) {
	p("=== START OF INFORMATION SECTION ===\n")
	if q := d.Inquiry; q != nil {
		p("Vendor:               %s\n", q.Vendor)
		p("Product:              %s\n", q.Product)
		if q.Revision != "" {
			p("Revision:             %s\n", q.Revision)
		}
		if v := q.SPCVersion(); v != "" {
			p("Compliance:           %s\n", v)
		}
	}
	if c := d.Capacity; c != nil {
		n := new(big.Int).SetUint64(c.Bytes)
		p("User Capacity:        %s bytes [%s]\n", commas(n.String()), siBytes(n))
		p("Logical block size:   %d bytes\n", c.LogicalBlockSize)
		if c.PhysicalBlockSize != 0 {
			p("Physical block size:  %d bytes\n", c.PhysicalBlockSize)
		}
	}
	if r := d.RotationRate; r != nil {
		switch {
		case *r == 1:
			p("Rotation Rate:        Solid State Device\n")
		case *r > 0x400 && *r != 0xffff:
			p("Rotation Rate:        %d rpm\n", *r)
		}
	}
	if f, ok := formFactors[d.FormFactor]; ok {
		p("Form Factor:          %s\n", f)
	}
	if d.LogicalUnitID != "" {
		p("Logical Unit id:      %s\n", d.LogicalUnitID)
	}
	if d.Serial != "" {
		p("Serial number:        %s\n", d.Serial)
	}
	if q := d.Inquiry; q != nil {
		p("Device type:          %s\n", q.DeviceTypeName())
	}
	if d.Transport != nil {
		p("Transport protocol:   %s\n", transportNames[*d.Transport&0xf])
	}
	if ec := d.ExceptionControl; ec != nil {
		en, tw := "Disabled", "Disabled or Not Supported"
		if ec.Enabled {
			en = "Enabled"
		}
		if ec.TemperatureWarning {
			tw = "Enabled"
		}
		p("SMART support is:     Available - device has SMART capability.\n")
		p("SMART support is:     %s\n", en)
		p("Temperature Warning:  %s\n", tw)
	} else {
		p("SMART support is:     Unavailable - device lacks SMART capability.\n")
	}

	p("\n=== START OF READ SMART DATA SECTION ===\n")
	switch ie := d.Exceptions; {
	case ie == nil:
		p("SMART Health Status: UNKNOWN (no Informational Exceptions log page)\n")
	case ie.FailurePredicted() || ie.Warning():
		p("SMART Health Status: %s [asc=%x, ascq=%x]\n", ie.String(), ie.ASC, ie.ASCQ)
	default:
		p("SMART Health Status: OK\n")
	}
	if d.PercentageUsed != nil {
		p("\nPercentage used endurance indicator: %d%%\n", *d.PercentageUsed)
	}
	if t, ok := d.TemperatureC(); ok {
		p("\nCurrent Drive Temperature:     %d C\n", t)
	}
	if t := d.Temperature; t != nil && t.Reference != nil {
		p("Drive Trip Temperature:        %d C\n", *t.Reference)
	}
	if m, ok := d.PowerOnMinutes(); ok {
		p("\nAccumulated power on time, hours:minutes %d:%02d\n", m/60, m%60)
	}
	if s := d.StartStop; s != nil {
		if s.ManufactureYear != "" {
			p("Manufactured in week %s of year %s\n", s.ManufactureWeek, s.ManufactureYear)
		}
		for _, c := range []struct {
			name string
			v    *uint32
		}{
			{"Specified cycle count over device lifetime", s.SpecifiedCycles},
			{"Accumulated start-stop cycles", s.AccumulatedCycles},
			{"Specified load-unload count over device lifetime", s.SpecifiedLoadUnload},
			{"Accumulated load-unload cycles", s.AccumulatedLoadUnload},
		} {
			if c.v != nil {
				p("%s:  %d\n", c.name, *c.v)
			}
		}
	}
	if d.GrownDefects != nil {
		p("Elements in grown defect list: %d\n", *d.GrownDefects)
	}
	if d.ReadErrors != nil || d.WriteErrors != nil || d.VerifyErrors != nil {
		p("\nError counter log:\n")
		p("           Errors Corrected by           Total   Correction     Gigabytes    Total\n")
		p("               ECC          rereads/    errors   algorithm      processed    uncorrected\n")
		p("           fast | delayed   rewrites  corrected  invocations   [10^9 bytes]  errors\n")
		for _, c := range []struct {
			name string
			c    *ErrorCounters
		}{{"read:   ", d.ReadErrors}, {"write:  ", d.WriteErrors}, {"verify: ", d.VerifyErrors}} {
			if c.c == nil {
				continue
			}
			v := c.c.Values
			p("%s%8d %8d  %8d  %8d   %8d   %12s    %8d\n", c.name, v[CorrectedWithoutDelay], v[CorrectedWithDelay],
				v[RereadsRewrites], v[TotalCorrected], v[CorrectionInvocations],
				strconv.FormatFloat(float64(v[BytesProcessed])/1e9, 'f', 3, 64), v[TotalUncorrected])
		}
	}
	if d.NonMediumErrors != nil {
		p("\nNon-medium error count: %8d\n", *d.NonMediumErrors)
	}
	if l := d.SelfTests; l != nil {
		if len(l.Entries) == 0 {
			p("\nNo Self-tests have been logged\n")
		} else {
			p("\nSMART Self-test log\n")
			p("Num  Test              Status                 segment  LifeTime  LBA_first_err [SK ASC ASQ]\n")
			p("     Description                              number   (hours)\n")
			for _, e := range l.Entries {
				seg, when, lba, sense := "   -", "     NOW", "                 -", " [-   -    -]"
				if e.Segment > 0 {
					seg = fmt.Sprintf(" %3d", e.Segment)
				}
				if !(e.PowerOnHours == 0 && e.InProgress()) {
					when = fmt.Sprintf("   %5d", e.PowerOnHours)
				}
				if e.HasFailureAddress() {
					lba = fmt.Sprintf("%18d", e.FirstFailure)
				}
				if e.SenseKey != 0 {
					sense = fmt.Sprintf(" [0x%x 0x%x 0x%x]", e.SenseKey, e.ASC, e.ASCQ)
				}
				p("#%2d  %-16s  %-25s%s%s%s%s\n", e.Number, e.CodeName(), e.ResultName(), seg, when, lba, sense)
			}
			if s := d.ExtendedSelfTestSeconds; s != nil {
				p("\nLong (extended) Self-test duration: %d seconds [%.1f minutes]\n", *s, float64(*s)/60)
			}
		}
	}
}
