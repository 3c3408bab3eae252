package smart

import (
	"bufio"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
)

// WriteText writes a report in the shape of a short `smartctl -a`, followed
// by the Health assessment of the reading.
func WriteText(w io.Writer, r *Report) error {
	if r == nil || (r.ATA == nil && r.NVMe == nil && r.SCSI == nil) {
		return ErrNoData
	}
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	if c := r.Class; c != nil && c.Reason != "" {
		p("Device class:     %s (%s)\n", c.Class, c.Reason)
	}
	switch {
	case r.ATA != nil:
		writeATAText(p, r.ATA)
	case r.NVMe != nil:
		writeNVMeText(p, r.NVMe)
	default:
		writeSCSIText(p, r.SCSI)
	}
	a := Health(r, nil)
	p("\nHealth verdict: %s\n", a.Verdict)
	for _, x := range a.Reasons {
		p("  [%s] %s: %s\n", x.Verdict, x.Code, x.Message)
	}
	var problems []error
	switch {
	case r.ATA != nil:
		problems = r.ATA.Problems
	case r.NVMe != nil:
		problems = r.NVMe.Problems
	default:
		problems = r.SCSI.Problems
	}
	for _, e := range problems {
		p("Note: %v\n", e)
	}
	return bw.Flush()
}

// commas groups a decimal number's digits by thousands, as smartctl does.
func commas(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// siBytes renders a byte count with one significant decimal unit ("128 GB").
func siBytes(n *big.Int) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}
	f, _ := new(big.Float).SetInt(n).Float64()
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if f < 10 && i > 0 {
		return strconv.FormatFloat(f, 'f', 2, 64) + " " + units[i]
	}
	return strconv.FormatFloat(f, 'f', 0, 64) + " " + units[i]
}

func writeATAText(p func(string, ...any), d *ATAData) {
	p("=== START OF INFORMATION SECTION ===\n")
	if id := d.Identity; id != nil {
		p("Device Model:     %s\n", id.Model)
		p("Serial Number:    %s\n", id.Serial)
		if id.HasWWN {
			p("LU WWN Device Id: %x %06x %09x\n", id.WWN>>60, (id.WWN>>36)&0xffffff, id.WWN&0xfffffffff)
		}
		p("Firmware Version: %s\n", id.Firmware)
		c := new(big.Int).SetUint64(id.Capacity())
		p("User Capacity:    %s bytes [%s]\n", commas(c.String()), siBytes(c))
		if id.LogicalSectorSize == id.PhysicalSectorSize {
			p("Sector Size:      %d bytes logical/physical\n", id.LogicalSectorSize)
		} else {
			p("Sector Sizes:     %d bytes logical, %d bytes physical\n", id.LogicalSectorSize, id.PhysicalSectorSize)
		}
		switch id.RotationRate {
		case 0:
		case 1:
			p("Rotation Rate:    Solid State Device\n")
		default:
			p("Rotation Rate:    %d rpm\n", id.RotationRate)
		}
		if v := id.ATAVersion(); v != "" {
			p("ATA Version is:   %s\n", v)
		}
		if id.SMARTSupported {
			p("SMART support is: Available - device has SMART capability.\n")
			if id.SMARTEnabled {
				p("SMART support is: Enabled\n")
			} else {
				p("SMART support is: Disabled\n")
			}
		} else if !id.SMARTSupportKnown {
			p("SMART support is: Ambiguous - ATA IDENTIFY DEVICE words 82-83 don't show if SMART supported.\n")
		} else {
			p("SMART support is: Unavailable - device lacks SMART capability.\n")
		}
	}
	p("\n=== START OF READ SMART DATA SECTION ===\n")
	p("SMART overall-health self-assessment test result: %s\n", d.Status)
	if v := d.Values; v != nil {
		p("\nOffline data collection status:  (0x%02x)\tOffline data collection activity\n\t\t\t\t\t%s.\n", v.OfflineStatus, OfflineStatusName(v.OfflineStatus))
		st, rem, name := SelfTestExecution(v.SelfTestStatus)
		if st == 15 {
			p("Self-test execution status:      (%4d)\t%s, %d%% remaining.\n", v.SelfTestStatus, name, rem)
		} else {
			p("Self-test execution status:      (%4d)\t%s.\n", v.SelfTestStatus, name)
		}
		p("Short self-test routine\nrecommended polling time:        (%4d) minutes.\n", v.ShortTestMinutes)
		p("Extended self-test routine\nrecommended polling time:        (%4d) minutes.\n", v.ExtendedTestMinutes)
		p("\nSMART Attributes Data Structure revision number: %d\n", v.Revision)
		p("Vendor Specific SMART Attributes with Thresholds:\n")
		p("ID# ATTRIBUTE_NAME          FLAG     VALUE WORST THRESH TYPE      UPDATED  WHEN_FAILED RAW_VALUE\n")
		for _, a := range d.Attributes {
			typ, upd, wf := "Old_age", "Offline", "    -"
			if a.Flags&FlagPrefailure != 0 {
				typ = "Pre-fail"
			}
			if a.Flags&FlagUpdatedOnline != 0 {
				upd = "Always"
			}
			switch a.WhenFailed {
			case FailedNow:
				wf = "FAILING_NOW"
			case FailedPast:
				wf = "In_the_past"
			}
			th := "---"
			if a.HasThreshold {
				th = fmt.Sprintf("%03d", a.Threshold)
			}
			p("%3d %-23s 0x%04x   %03d   %03d   %s    %-10s%-9s%-12s%s\n",
				a.ID, a.Name, uint16(a.Flags), a.Value, a.Worst, th, typ, upd, wf, a.RawString)
		}
	}
	if l := d.Errors; l != nil {
		if l.Count == 0 {
			p("\nSMART Error Log Version: %d\nNo Errors Logged\n", l.Version)
		} else {
			p("\nSMART Error Log Version: %d\nATA Error Count: %d (%d most recent shown)\n", l.Version, l.Count, len(l.Entries))
			for i, e := range l.Entries {
				p("  Error %d occurred at disk power-on lifetime: %d hours; ER 0x%02x ST 0x%02x\n",
					int(l.Count)-i, e.LifetimeHours, e.Error, e.Status)
			}
		}
	}
	if l := d.SelfTests; l != nil {
		p("\nSMART Self-test log structure revision number %d\n", l.Revision)
		if len(l.Entries) == 0 {
			p("No self-tests have been logged.\n")
		} else {
			p("Num  Test_Description    Status                  Remaining  LifeTime(hours)  LBA_of_first_error\n")
			for i, e := range l.Entries {
				lba := "-"
				if e.Failed() {
					lba = strconv.FormatUint(uint64(e.FailingLBA), 10)
				}
				p("#%2d  %-19s %-29s %02d%%  %8d         %s\n", i+1, e.TypeName(), e.StatusName(), e.Remaining, e.LifetimeHours, lba)
			}
		}
	}
}

// dataUnits renders an NVMe data unit count (1000 * 512 bytes each).
func dataUnits(u Uint128) string {
	b := new(big.Int).Mul(u.Big(), big.NewInt(512000))
	return fmt.Sprintf("%s [%s]", commas(u.String()), siBytes(b))
}

func writeNVMeText(p func(string, ...any), d *NVMeData) {
	p("=== START OF INFORMATION SECTION ===\n")
	if c := d.Identity; c != nil {
		p("Model Number:                       %s\n", c.Model)
		p("Serial Number:                      %s\n", c.Serial)
		p("Firmware Version:                   %s\n", c.Firmware)
		p("PCI Vendor/Subsystem ID:            0x%04x\n", c.VendorID)
		p("IEEE OUI Identifier:                0x%06x\n", c.OUI)
		if !c.TotalCapacity.IsZero() {
			p("Total NVM Capacity:                 %s bytes [%s]\n", commas(c.TotalCapacity.String()), siBytes(c.TotalCapacity.Big()))
		}
		p("Controller ID:                      %d\n", c.ControllerID)
		if v := c.VersionString(); v != "" {
			p("NVMe Version:                       %s\n", v)
		}
		p("Number of Namespaces:               %d\n", c.Namespaces)
	}
	if ns := d.Namespace; ns != nil {
		c := new(big.Int).SetUint64(ns.Bytes())
		p("Namespace %d Size/Capacity:          %s [%s]\n", ns.ID, commas(c.String()), siBytes(c))
		p("Namespace %d Formatted LBA Size:     %d\n", ns.ID, ns.BlockSize)
	}
	h := d.Health
	if h == nil {
		return
	}
	st := "PASSED"
	if h.CriticalWarning != 0 {
		st = "FAILED!"
	}
	p("\n=== START OF SMART DATA SECTION ===\n")
	p("SMART overall-health self-assessment test result: %s\n", st)
	for _, w := range h.CriticalWarnings() {
		p("- %s\n", w)
	}
	p("\nSMART/Health Information (NVMe Log 0x02)\n")
	p("Critical Warning:                   0x%02x\n", h.CriticalWarning)
	p("Temperature:                        %d Celsius\n", h.TemperatureC())
	p("Available Spare:                    %d%%\n", h.AvailableSpare)
	p("Available Spare Threshold:          %d%%\n", h.SpareThreshold)
	p("Percentage Used:                    %d%%\n", h.PercentageUsed)
	p("Data Units Read:                    %s\n", dataUnits(h.DataUnitsRead))
	p("Data Units Written:                 %s\n", dataUnits(h.DataUnitsWritten))
	p("Host Read Commands:                 %s\n", commas(h.HostReads.String()))
	p("Host Write Commands:                %s\n", commas(h.HostWrites.String()))
	p("Controller Busy Time:               %s\n", commas(h.BusyTimeMinutes.String()))
	p("Power Cycles:                       %s\n", commas(h.PowerCycles.String()))
	p("Power On Hours:                     %s\n", commas(h.PowerOnHours.String()))
	p("Unsafe Shutdowns:                   %s\n", commas(h.UnsafeShutdowns.String()))
	p("Media and Data Integrity Errors:    %s\n", commas(h.MediaErrors.String()))
	p("Error Information Log Entries:      %s\n", commas(h.ErrorLogEntries.String()))
	p("Warning  Comp. Temperature Time:    %d\n", h.WarningTempMinutes)
	p("Critical Comp. Temperature Time:    %d\n", h.CriticalTempMinutes)
	for i, k := range h.SensorsK {
		if k != 0 {
			p("Temperature Sensor %d:               %d Celsius\n", i+1, KelvinToCelsius(k))
		}
	}
	if d.ErrorLog != nil {
		if len(d.ErrorLog) == 0 {
			p("\nError Information (NVMe Log 0x01)\nNo Errors Logged\n")
		} else {
			p("\nError Information (NVMe Log 0x01, %d entries)\nNum   ErrCount  SQId   CmdId  Status  PELoc          LBA  NSID\n", len(d.ErrorLog))
			for i, e := range d.ErrorLog {
				p("%3d %10d %5d  0x%04x  0x%04x  0x%03x %12d %5d\n", i, e.ErrorCount, e.SQID, e.CommandID, e.Status, e.ParamLocation, e.LBA, e.NSID)
			}
		}
	}
}
