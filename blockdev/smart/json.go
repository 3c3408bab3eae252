package smart

import (
	"encoding/json"
	"errors"
)

// The types below spell smartctl -j's keys for the fields we share, so a
// consumer of smartctl's JSON can read ours, and the VM tier can compare
// the two field by field. Fields smartctl derives from its drive database
// or from commands we do not send are absent rather than guessed.

type jValueString struct {
	Value  int    `json:"value"`
	String string `json:"string"`
}

type jFlags struct {
	Value         uint16 `json:"value"`
	String        string `json:"string"`
	Prefailure    bool   `json:"prefailure"`
	UpdatedOnline bool   `json:"updated_online"`
	Performance   bool   `json:"performance"`
	ErrorRate     bool   `json:"error_rate"`
	EventCount    bool   `json:"event_count"`
	AutoKeep      bool   `json:"auto_keep"`
}

type jRaw struct {
	Value  uint64 `json:"value"`
	String string `json:"string"`
}

type jAttr struct {
	ID         uint8  `json:"id"`
	Name       string `json:"name"`
	Value      uint8  `json:"value"`
	Worst      uint8  `json:"worst"`
	Thresh     uint8  `json:"thresh"`
	WhenFailed string `json:"when_failed"`
	Flags      jFlags `json:"flags"`
	Raw        jRaw   `json:"raw"`
}

type jTrim struct {
	Supported     bool  `json:"supported"`
	Deterministic *bool `json:"deterministic,omitempty"`
	Zeroed        *bool `json:"zeroed,omitempty"`
}

type jNamespace struct {
	ID               uint32    `json:"id"`
	Size             jCapacity `json:"size"`
	Capacity         jCapacity `json:"capacity"`
	Utilization      jCapacity `json:"utilization"`
	FormattedLBASize uint32    `json:"formatted_lba_size"`
}

type jCapacity struct {
	Blocks uint64 `json:"blocks"`
	Bytes  uint64 `json:"bytes"`
}

type jDevice struct {
	Name     string `json:"name,omitempty"`
	InfoName string `json:"info_name,omitempty"`
	Type     string `json:"type,omitempty"`
	Protocol string `json:"protocol,omitempty"`
}

type jWWN struct {
	NAA uint64 `json:"naa"`
	OUI uint64 `json:"oui"`
	ID  uint64 `json:"id"`
}

type jSmartStatus struct {
	Passed bool         `json:"passed"`
	NVMe   *jNVMeStatus `json:"nvme,omitempty"`
	SCSI   *jSCSIStatus `json:"scsi,omitempty"`
}

type jSCSIStatus struct {
	ASC      uint8  `json:"asc"`
	ASCQ     uint8  `json:"ascq"`
	IEString string `json:"ie_string"`
}

type jSmartSupport struct {
	Available bool  `json:"available"`
	Enabled   *bool `json:"enabled,omitempty"`
}

type jTemperature struct {
	Current   *int `json:"current,omitempty"`
	DriveTrip *int `json:"drive_trip,omitempty"`
}

type jPowerOnTime struct {
	Hours   uint64  `json:"hours"`
	Minutes *uint64 `json:"minutes,omitempty"`
}

type jNVMeStatus struct {
	Value uint8 `json:"value"`
}

type jSelfTestStatus struct {
	Value            uint8  `json:"value"`
	String           string `json:"string"`
	RemainingPercent *uint8 `json:"remaining_percent,omitempty"`
	Passed           *bool  `json:"passed,omitempty"`
}

type jOfflineStatus struct {
	Value  uint8  `json:"value"`
	String string `json:"string"`
	Passed *bool  `json:"passed,omitempty"`
}

type jATASmartData struct {
	OfflineDataCollection struct {
		Status            jOfflineStatus `json:"status"`
		CompletionSeconds uint16         `json:"completion_seconds"`
	} `json:"offline_data_collection"`
	SelfTest struct {
		Status         jSelfTestStatus `json:"status"`
		PollingMinutes struct {
			Short      uint8  `json:"short"`
			Extended   uint16 `json:"extended"`
			Conveyance uint8  `json:"conveyance,omitempty"`
		} `json:"polling_minutes"`
	} `json:"self_test"`
	Capabilities struct {
		Values                     [2]uint16 `json:"values"`
		ExecOfflineImmediate       bool      `json:"exec_offline_immediate_supported"`
		OfflineIsAbortedUponNewCmd bool      `json:"offline_is_aborted_upon_new_cmd"`
		OfflineSurfaceScan         bool      `json:"offline_surface_scan_supported"`
		SelfTests                  bool      `json:"self_tests_supported"`
		ConveyanceSelfTest         bool      `json:"conveyance_self_test_supported"`
		SelectiveSelfTest          bool      `json:"selective_self_test_supported"`
		AttributeAutosaveEnabled   bool      `json:"attribute_autosave_enabled"`
		ErrorLogging               bool      `json:"error_logging_supported"`
		GPLogging                  bool      `json:"gp_logging_supported"`
	} `json:"capabilities"`
}

type jSelfTestEntry struct {
	Type          jValueString    `json:"type"`
	Status        jSelfTestStatus `json:"status"`
	LifetimeHours uint16          `json:"lifetime_hours"`
	LBA           *uint32         `json:"lba,omitempty"`
}

type jNVMeHealth struct {
	CriticalWarning         uint8   `json:"critical_warning"`
	Temperature             int     `json:"temperature"`
	AvailableSpare          uint8   `json:"available_spare"`
	AvailableSpareThreshold uint8   `json:"available_spare_threshold"`
	PercentageUsed          uint8   `json:"percentage_used"`
	DataUnitsRead           Uint128 `json:"data_units_read"`
	DataUnitsWritten        Uint128 `json:"data_units_written"`
	HostReads               Uint128 `json:"host_reads"`
	HostWrites              Uint128 `json:"host_writes"`
	ControllerBusyTime      Uint128 `json:"controller_busy_time"`
	PowerCycles             Uint128 `json:"power_cycles"`
	PowerOnHours            Uint128 `json:"power_on_hours"`
	UnsafeShutdowns         Uint128 `json:"unsafe_shutdowns"`
	MediaErrors             Uint128 `json:"media_errors"`
	NumErrLogEntries        Uint128 `json:"num_err_log_entries"`
	WarningTempTime         uint32  `json:"warning_temp_time"`
	CriticalCompTime        uint32  `json:"critical_comp_time"`
	TemperatureSensors      []int   `json:"temperature_sensors,omitempty"`
}

type jNVMeErrorEntry struct {
	ErrorCount        uint64 `json:"error_count"`
	SubmissionQueueID uint16 `json:"submission_queue_id"`
	CommandID         uint16 `json:"command_id"`
	StatusField       struct {
		Value          uint16 `json:"value"`
		DoNotRetry     bool   `json:"do_not_retry"`
		StatusCodeType uint8  `json:"status_code_type"`
		StatusCode     uint8  `json:"status_code"`
	} `json:"status_field"`
	ParmErrorLocation uint16 `json:"parm_error_location"`
	LBA               struct {
		Value uint64 `json:"value"`
	} `json:"lba"`
	NSID uint32 `json:"nsid"`
}

type jOutput struct {
	JSONFormatVersion []int    `json:"json_format_version"`
	Device            *jDevice `json:"device,omitempty"`
	jSCSIIdentity
	ModelName       string `json:"model_name,omitempty"`
	SerialNumber    string `json:"serial_number,omitempty"`
	WWN             *jWWN  `json:"wwn,omitempty"`
	FirmwareVersion string `json:"firmware_version,omitempty"`
	NVMePCIVendor   *struct {
		ID          uint16 `json:"id"`
		SubsystemID uint16 `json:"subsystem_id"`
	} `json:"nvme_pci_vendor,omitempty"`
	NVMeIEEEOUI       *uint32  `json:"nvme_ieee_oui_identifier,omitempty"`
	NVMeTotalCapacity *Uint128 `json:"nvme_total_capacity,omitempty"`
	NVMeUnallocCap    *Uint128 `json:"nvme_unallocated_capacity,omitempty"`
	NVMeControllerID  *uint16  `json:"nvme_controller_id,omitempty"`
	NVMeVersion       *struct {
		String string `json:"string"`
		Value  uint32 `json:"value"`
	} `json:"nvme_version,omitempty"`
	NVMeNumNamespaces *uint32      `json:"nvme_number_of_namespaces,omitempty"`
	NVMeNamespaces    []jNamespace `json:"nvme_namespaces,omitempty"`
	UserCapacity      *jCapacity   `json:"user_capacity,omitempty"`
	LogicalBlockSize  uint32       `json:"logical_block_size,omitempty"`
	PhysicalBlockSize uint32       `json:"physical_block_size,omitempty"`
	jSCSIFormat
	RotationRate *uint16 `json:"rotation_rate,omitempty"`
	jSCSIDevice
	Trim       *jTrim `json:"trim,omitempty"`
	ATAVersion *struct {
		MajorValue uint16 `json:"major_value"`
		MinorValue uint16 `json:"minor_value"`
	} `json:"ata_version,omitempty"`
	SmartSupport       *jSmartSupport `json:"smart_support,omitempty"`
	TemperatureWarning *struct {
		Enabled bool `json:"enabled"`
	} `json:"temperature_warning,omitempty"`
	SmartStatus        *jSmartStatus `json:"smart_status,omitempty"`
	SCSIPercentageUsed *uint8        `json:"scsi_percentage_used_endurance_indicator,omitempty"`
	SCSIFormatStatus   *struct {
		TotalNewBlocksSinceFormat *uint64 `json:"total_new_block_since_format,omitempty"`
	} `json:"scsi_format_status,omitempty"`
	ATASmartData       *jATASmartData `json:"ata_smart_data,omitempty"`
	ATASmartAttributes *struct {
		Revision uint16  `json:"revision"`
		Table    []jAttr `json:"table"`
	} `json:"ata_smart_attributes,omitempty"`
	NVMeHealth      *jNVMeHealth  `json:"nvme_smart_health_information_log,omitempty"`
	PowerOnTime     *jPowerOnTime `json:"power_on_time,omitempty"`
	PowerCycleCount *uint64       `json:"power_cycle_count,omitempty"`
	Temperature     *jTemperature `json:"temperature,omitempty"`
	SCSITemperature *jTemperature `json:"scsi_temperature,omitempty"`
	jSCSILogs
	ATASmartErrorLog *struct {
		Summary struct {
			Revision    uint8  `json:"revision"`
			Count       uint16 `json:"count"`
			LoggedCount int    `json:"logged_count"`
		} `json:"summary"`
	} `json:"ata_smart_error_log,omitempty"`
	ATASmartSelfTestLog *struct {
		Standard struct {
			Revision uint16           `json:"revision"`
			Table    []jSelfTestEntry `json:"table,omitempty"`
			Count    int              `json:"count"`
		} `json:"standard"`
	} `json:"ata_smart_self_test_log,omitempty"`
	NVMeErrorLog *struct {
		Size  int               `json:"size"`
		Read  int               `json:"read"`
		Table []jNVMeErrorEntry `json:"table,omitempty"`
	} `json:"nvme_error_information_log,omitempty"`
}

// ErrNoData is returned by MarshalSmartctlJSON for an empty report.
var ErrNoData = errors.New("smart: report holds no data")

// MarshalSmartctlJSON renders a report with smartctl -j's key names for the
// fields the two share (model_name, serial_number, firmware_version,
// user_capacity, smart_status, ata_smart_attributes.table, power_on_time,
// temperature, nvme_smart_health_information_log, the scsi_* keys and
// more). device.type and device.protocol name the classification as
// smartctl does ("sat"/"ATA", "nvme"/"NVMe", "scsi"/"SCSI"); a report that
// carries only a classification (UnsupportedError.Report) renders just
// that and what the device told. rotation_rate follows smartctl's
// convention of 0 for a solid state drive.
func MarshalSmartctlJSON(r *Report) ([]byte, error) {
	if r == nil || (r.ATA == nil && r.NVMe == nil && r.SCSI == nil && r.Class == nil) {
		return nil, ErrNoData
	}
	o := jOutput{JSONFormatVersion: []int{1, 0}, Device: &jDevice{Name: r.Device}}
	if st := r.Status(); st != StatusUnknown {
		o.SmartStatus = &jSmartStatus{Passed: st == StatusPassed}
	}
	class := ClassUnknown
	switch {
	case r.Class != nil:
		class = r.Class.Class
	case r.ATA != nil:
		class = ClassATA
	case r.NVMe != nil:
		class = ClassNVMe
	case r.SCSI != nil:
		class = ClassSCSI
	}
	o.Device.Type = class.SmartctlType()
	switch class {
	case ClassATA:
		o.Device.Protocol = "ATA"
		if r.Device != "" {
			o.Device.InfoName = r.Device + " [SAT]"
		}
	case ClassNVMe:
		o.Device.Protocol = "NVMe"
		o.Device.InfoName = r.Device
	case ClassSCSI:
		o.Device.Protocol = "SCSI"
		o.Device.InfoName = r.Device
	}
	switch {
	case r.ATA != nil:
		fillATA(&o, r.ATA)
	case r.NVMe != nil:
		fillNVMe(&o, r.NVMe)
	case r.SCSI != nil:
		fillSCSI(&o, r.SCSI)
	}
	return json.MarshalIndent(o, "", "  ")
}

func fillATA(o *jOutput, d *ATAData) {
	if id := d.Identity; id != nil {
		o.ModelName, o.SerialNumber, o.FirmwareVersion = id.Model, id.Serial, id.Firmware
		if id.HasWWN {
			o.WWN = &jWWN{NAA: id.WWN >> 60, OUI: (id.WWN >> 36) & 0xffffff, ID: id.WWN & 0xfffffffff}
		}
		o.UserCapacity = &jCapacity{Blocks: id.Sectors, Bytes: id.Capacity()}
		o.LogicalBlockSize, o.PhysicalBlockSize = id.LogicalSectorSize, id.PhysicalSectorSize
		if id.RotationRate != 0 {
			rpm := id.RotationRate
			if rpm == 1 {
				rpm = 0
			}
			o.RotationRate = &rpm
		}
		o.Trim = &jTrim{Supported: id.TrimSupported}
		if id.TrimSupported {
			det, zero := id.TrimDeterministic, id.TrimZeroed
			o.Trim.Deterministic, o.Trim.Zeroed = &det, &zero
		}
		if id.ATAMajor != 0 && id.ATAMajor != 0xffff {
			o.ATAVersion = &struct {
				MajorValue uint16 `json:"major_value"`
				MinorValue uint16 `json:"minor_value"`
			}{id.ATAMajor, id.ATAMinor}
		}
		enabled := id.SMARTEnabled
		o.SmartSupport = &jSmartSupport{Available: id.SMARTSupported, Enabled: &enabled}
	}
	if v := d.Values; v != nil {
		sd := &jATASmartData{}
		ostr, passed := offlineStatus(v.OfflineStatus)
		sd.OfflineDataCollection.Status = jOfflineStatus{Value: v.OfflineStatus, String: ostr, Passed: passed}
		sd.OfflineDataCollection.CompletionSeconds = v.OfflineSeconds
		c := &sd.Capabilities
		c.Values = [2]uint16{uint16(v.OfflineCapability), v.SmartCapability}
		c.ExecOfflineImmediate = v.OfflineCapability&(1<<0) != 0
		c.OfflineIsAbortedUponNewCmd = v.OfflineCapability&(1<<2) != 0
		c.OfflineSurfaceScan = v.OfflineCapability&(1<<3) != 0
		c.SelfTests = v.OfflineCapability&(1<<4) != 0
		c.ConveyanceSelfTest = v.OfflineCapability&(1<<5) != 0
		c.SelectiveSelfTest = v.OfflineCapability&(1<<6) != 0
		c.AttributeAutosaveEnabled = v.SmartCapability&(1<<1) != 0
		c.ErrorLogging = v.ErrorLogCapability&1 != 0
		c.GPLogging = d.Identity != nil && d.Identity.GPLSupported
		sd.SelfTest.Status = selfTestStatusJSON(v.SelfTestStatus)
		sd.SelfTest.Status.String = selfTestExecString(v.SelfTestStatus >> 4)
		sd.SelfTest.PollingMinutes.Short = v.ShortTestMinutes
		sd.SelfTest.PollingMinutes.Extended = v.ExtendedTestMinutes
		if v.OfflineCapability&(1<<5) != 0 {
			sd.SelfTest.PollingMinutes.Conveyance = v.ConveyanceTestMinutes
		}
		o.ATASmartData = sd
		o.ATASmartAttributes = &struct {
			Revision uint16  `json:"revision"`
			Table    []jAttr `json:"table"`
		}{Revision: v.Revision, Table: []jAttr{}}
		for _, a := range d.Attributes {
			f := a.Flags
			o.ATASmartAttributes.Table = append(o.ATASmartAttributes.Table, jAttr{
				ID: a.ID, Name: a.Name, Value: a.Value, Worst: a.Worst, Thresh: a.Threshold,
				WhenFailed: string(a.WhenFailed),
				Flags: jFlags{Value: uint16(f), String: f.String(), Prefailure: f&FlagPrefailure != 0,
					UpdatedOnline: f&FlagUpdatedOnline != 0, Performance: f&FlagPerformance != 0,
					ErrorRate: f&FlagErrorRate != 0, EventCount: f&FlagEventCount != 0, AutoKeep: f&FlagAutoKeep != 0},
				Raw: jRaw{Value: a.RawValue, String: a.RawString},
			})
		}
	}
	if h, ok := d.PowerOnHours(); ok {
		o.PowerOnTime = &jPowerOnTime{Hours: h}
	}
	if c, ok := d.PowerCycles(); ok {
		o.PowerCycleCount = &c
	}
	if t, ok := d.Temperature(); ok {
		o.Temperature = &jTemperature{Current: &t}
	}
	if l := d.Errors; l != nil {
		o.ATASmartErrorLog = &struct {
			Summary struct {
				Revision    uint8  `json:"revision"`
				Count       uint16 `json:"count"`
				LoggedCount int    `json:"logged_count"`
			} `json:"summary"`
		}{}
		o.ATASmartErrorLog.Summary.Revision = l.Version
		o.ATASmartErrorLog.Summary.Count = l.Count
		o.ATASmartErrorLog.Summary.LoggedCount = len(l.Entries)
	}
	if l := d.SelfTests; l != nil {
		o.ATASmartSelfTestLog = &struct {
			Standard struct {
				Revision uint16           `json:"revision"`
				Table    []jSelfTestEntry `json:"table,omitempty"`
				Count    int              `json:"count"`
			} `json:"standard"`
		}{}
		s := &o.ATASmartSelfTestLog.Standard
		s.Revision, s.Count = l.Revision, len(l.Entries)
		for _, e := range l.Entries {
			je := jSelfTestEntry{
				Type:          jValueString{Value: int(e.Type), String: e.TypeName()},
				Status:        selfTestStatusJSON(e.Status<<4 | e.Remaining/10),
				LifetimeHours: e.LifetimeHours,
			}
			if e.Failed() {
				lba := e.FailingLBA
				je.LBA = &lba
			}
			s.Table = append(s.Table, je)
		}
	}
}

func selfTestStatusJSON(b uint8) jSelfTestStatus {
	st, rem, name := SelfTestExecution(b)
	j := jSelfTestStatus{Value: b, String: name}
	if st == 15 {
		j.RemainingPercent = &rem
	}
	if st == 0 || (st >= 3 && st <= 8) {
		passed := st == 0
		j.Passed = &passed
	}
	return j
}

func fillNVMe(o *jOutput, d *NVMeData) {
	if c := d.Identity; c != nil {
		o.ModelName, o.SerialNumber, o.FirmwareVersion = c.Model, c.Serial, c.Firmware
		o.NVMePCIVendor = &struct {
			ID          uint16 `json:"id"`
			SubsystemID uint16 `json:"subsystem_id"`
		}{c.VendorID, c.SubsystemVendorID}
		oui, cid, nn := c.OUI, c.ControllerID, c.Namespaces
		o.NVMeIEEEOUI, o.NVMeControllerID, o.NVMeNumNamespaces = &oui, &cid, &nn
		if !c.TotalCapacity.IsZero() {
			tc, uc := c.TotalCapacity, c.UnallocCapacity
			o.NVMeTotalCapacity, o.NVMeUnallocCap = &tc, &uc
		}
		if c.Version != 0 {
			o.NVMeVersion = &struct {
				String string `json:"string"`
				Value  uint32 `json:"value"`
			}{c.VersionString(), c.Version}
		}
	}
	if ns := d.Namespace; ns != nil {
		o.UserCapacity = &jCapacity{Blocks: ns.Size, Bytes: ns.Bytes()}
		o.LogicalBlockSize = ns.BlockSize
		bs := uint64(ns.BlockSize)
		o.NVMeNamespaces = []jNamespace{{ID: ns.ID,
			Size:             jCapacity{Blocks: ns.Size, Bytes: ns.Size * bs},
			Capacity:         jCapacity{Blocks: ns.Capacity, Bytes: ns.Capacity * bs},
			Utilization:      jCapacity{Blocks: ns.Used, Bytes: ns.Used * bs},
			FormattedLBASize: ns.BlockSize}}
	}
	if d.Identity != nil {
		// Every NVMe controller has the SMART / Health log; it cannot be off.
		enabled := true
		o.SmartSupport = &jSmartSupport{Available: true, Enabled: &enabled}
	}
	if h := d.Health; h != nil {
		o.SmartStatus.NVMe = &jNVMeStatus{Value: h.CriticalWarning}
		jh := &jNVMeHealth{
			CriticalWarning: h.CriticalWarning, Temperature: h.TemperatureC(),
			AvailableSpare: h.AvailableSpare, AvailableSpareThreshold: h.SpareThreshold,
			PercentageUsed: h.PercentageUsed, DataUnitsRead: h.DataUnitsRead, DataUnitsWritten: h.DataUnitsWritten,
			HostReads: h.HostReads, HostWrites: h.HostWrites, ControllerBusyTime: h.BusyTimeMinutes,
			PowerCycles: h.PowerCycles, PowerOnHours: h.PowerOnHours, UnsafeShutdowns: h.UnsafeShutdowns,
			MediaErrors: h.MediaErrors, NumErrLogEntries: h.ErrorLogEntries,
			WarningTempTime: h.WarningTempMinutes, CriticalCompTime: h.CriticalTempMinutes,
		}
		for _, k := range h.SensorsK {
			if k != 0 {
				jh.TemperatureSensors = append(jh.TemperatureSensors, KelvinToCelsius(k))
			}
		}
		o.NVMeHealth = jh
		t := h.TemperatureC()
		o.Temperature = &jTemperature{Current: &t}
		if v, ok := h.PowerCycles.Uint64(); ok {
			o.PowerCycleCount = &v
		}
		if v, ok := h.PowerOnHours.Uint64(); ok {
			o.PowerOnTime = &jPowerOnTime{Hours: v}
		}
	}
	if d.Identity != nil && d.ErrorLog != nil {
		o.NVMeErrorLog = &struct {
			Size  int               `json:"size"`
			Read  int               `json:"read"`
			Table []jNVMeErrorEntry `json:"table,omitempty"`
		}{Size: d.Identity.ErrorLogEntries, Read: min(d.Identity.ErrorLogEntries, maxErrorLogEntries)}
		for _, e := range d.ErrorLog {
			je := jNVMeErrorEntry{ErrorCount: e.ErrorCount, SubmissionQueueID: e.SQID, CommandID: e.CommandID,
				ParmErrorLocation: e.ParamLocation, NSID: e.NSID}
			je.StatusField.Value = e.Status
			je.StatusField.DoNotRetry = e.Status&(1<<14) != 0
			je.StatusField.StatusCodeType = uint8(e.Status>>8) & 0x7
			je.StatusField.StatusCode = uint8(e.Status)
			je.LBA.Value = e.LBA
			o.NVMeErrorLog.Table = append(o.NVMeErrorLog.Table, je)
		}
	}
}
