package smart

import "fmt"

// Verdict is the overall health judgement.
type Verdict int

// Verdicts, from best to worst.
const (
	VerdictUnknown Verdict = iota // no data to judge
	VerdictHealthy
	VerdictWarning // degrading or worth watching
	VerdictFailing // replace the drive
)

func (v Verdict) String() string {
	switch v {
	case VerdictHealthy:
		return "healthy"
	case VerdictWarning:
		return "warning"
	case VerdictFailing:
		return "failing"
	}
	return "unknown"
}

// ReasonCode names why a verdict is not healthy; stable for machines.
type ReasonCode string

// Reason codes.
const (
	ReasonStatusFailed       ReasonCode = "smart-status-failed"
	ReasonAttrFailingNow     ReasonCode = "attribute-failing-now"
	ReasonAttrFailedPast     ReasonCode = "attribute-failed-in-past"
	ReasonReallocatedGrowing ReasonCode = "reallocated-sectors-growing"
	ReasonPendingSectors     ReasonCode = "pending-sectors"
	ReasonPendingGrowing     ReasonCode = "pending-sectors-growing"
	ReasonUncorrectable      ReasonCode = "offline-uncorrectable-sectors"
	ReasonUncorrectableGrow  ReasonCode = "offline-uncorrectable-growing"
	ReasonSelfTestFailed     ReasonCode = "self-test-failed"
	ReasonCriticalWarning    ReasonCode = "nvme-critical-warning"
	ReasonSpareLow           ReasonCode = "nvme-spare-below-threshold"
	ReasonWornOut            ReasonCode = "nvme-percentage-used"
	ReasonMediaErrors        ReasonCode = "nvme-media-errors"
	ReasonMediaErrorsGrowing ReasonCode = "nvme-media-errors-growing"
	ReasonDifferentDrive     ReasonCode = "previous-reading-of-another-drive"
	// SCSI: the Informational Exceptions page's ASC 5Dh (failure
	// prediction threshold exceeded) and 0Bh (a warning).
	ReasonFailurePredicted    ReasonCode = "scsi-failure-prediction"
	ReasonSCSIWarning         ReasonCode = "scsi-warning"
	ReasonGrownDefectsGrowing ReasonCode = "grown-defects-growing"
	ReasonUncorrectedErrors   ReasonCode = "uncorrected-errors"
	ReasonUncorrectedGrowing  ReasonCode = "uncorrected-errors-growing"
	ReasonAtTripTemperature   ReasonCode = "temperature-at-trip-point"
	// ReasonNotJudged: the reading lacks what a verdict rests on (ATA: both
	// SMART RETURN STATUS and the thresholds; NVMe: the health log; SCSI:
	// the Informational Exceptions log page), so the verdict stays unknown
	// unless a finding makes it worse.
	ReasonNotJudged ReasonCode = "insufficient-data"
)

// Reason is one finding behind a verdict.
type Reason struct {
	Code      ReasonCode
	Verdict   Verdict // how bad this finding alone is
	Attribute uint8   // the ATA attribute id, 0 when not about one
	Previous  uint64  // for growth findings: the earlier count
	Current   uint64
	Message   string
}

// Assessment is a verdict with its reasons, worst first in the order found.
type Assessment struct {
	Verdict Verdict
	Reasons []Reason
}

func (a *Assessment) add(r Reason) {
	a.Reasons = append(a.Reasons, r)
	if r.Verdict > a.Verdict {
		a.Verdict = r.Verdict
	}
}

// Health judges a reading. prev, when not nil, is an earlier reading of
// the same drive: counters that grew since then are reasons of their own.
// A prev of another drive (different serial) is reported and ignored.
func Health(cur, prev *Report) Assessment {
	var a Assessment
	if cur == nil || (cur.ATA == nil && cur.NVMe == nil && cur.SCSI == nil) {
		return a
	}
	// Healthy needs something to rest on: the drive's own verdict or the
	// attribute check (values paired with thresholds). Missing both, the
	// findings below can still raise the verdict, but their absence proves
	// nothing.
	switch {
	case cur.ATA != nil && (cur.ATA.Status != StatusUnknown || (cur.ATA.Values != nil && cur.ATA.Thresholds != nil)),
		cur.SCSI != nil && cur.ATA == nil && cur.SCSI.Status != StatusUnknown,
		cur.ATA == nil && cur.SCSI == nil && cur.NVMe.Health != nil:
		a.Verdict = VerdictHealthy
	case cur.ATA != nil:
		a.Reasons = append(a.Reasons, Reason{Code: ReasonNotJudged, Verdict: VerdictUnknown,
			Message: "neither SMART RETURN STATUS nor the attribute thresholds could be read"})
	case cur.SCSI != nil:
		a.Reasons = append(a.Reasons, Reason{Code: ReasonNotJudged, Verdict: VerdictUnknown,
			Message: "the Informational Exceptions log page (2Fh) could not be read"})
	default:
		a.Reasons = append(a.Reasons, Reason{Code: ReasonNotJudged, Verdict: VerdictUnknown,
			Message: "the SMART / Health log could not be read"})
	}
	if prev != nil && serialOf(prev) != serialOf(cur) {
		a.Reasons = append(a.Reasons, Reason{Code: ReasonDifferentDrive, Verdict: VerdictHealthy,
			Message: fmt.Sprintf("previous reading is of serial %q, not %q; growth not judged", serialOf(prev), serialOf(cur))})
		prev = nil
	}
	// NVMe's status is its critical warning byte, judged bit by bit below.
	if cur.ATA != nil && cur.ATA.Status == StatusFailed {
		a.add(Reason{Code: ReasonStatusFailed, Verdict: VerdictFailing, Message: "the drive's own health check reports failure"})
	}
	if cur.ATA != nil {
		var p *ATAData
		if prev != nil {
			p = prev.ATA
		}
		ataHealth(&a, cur.ATA, p)
	}
	if cur.SCSI != nil {
		var p *SCSIData
		if prev != nil {
			p = prev.SCSI
		}
		scsiHealth(&a, cur.SCSI, p)
	}
	if cur.NVMe != nil && cur.NVMe.Health != nil {
		var p *NVMeHealth
		if prev != nil && prev.NVMe != nil {
			p = prev.NVMe.Health
		}
		nvmeHealth(&a, cur.NVMe.Health, p)
	}
	return a
}

func serialOf(r *Report) string {
	switch {
	case r.ATA != nil && r.ATA.Identity != nil:
		return r.ATA.Identity.Serial
	case r.NVMe != nil && r.NVMe.Identity != nil:
		return r.NVMe.Identity.Serial
	case r.SCSI != nil:
		if r.SCSI.Serial != "" {
			return r.SCSI.Serial
		}
		return r.SCSI.LogicalUnitID
	}
	return ""
}

func scsiHealth(a *Assessment, d, prev *SCSIData) {
	if ie := d.Exceptions; ie != nil {
		switch {
		case ie.FailurePredicted():
			a.add(Reason{Code: ReasonFailurePredicted, Verdict: VerdictFailing, Current: uint64(ie.ASC)<<8 | uint64(ie.ASCQ),
				Message: fmt.Sprintf("%s [asc=%x, ascq=%x]", ie.String(), ie.ASC, ie.ASCQ)})
		case ie.Warning():
			a.add(Reason{Code: ReasonSCSIWarning, Verdict: VerdictWarning, Current: uint64(ie.ASC)<<8 | uint64(ie.ASCQ),
				Message: fmt.Sprintf("%s [asc=%x, ascq=%x]", ie.String(), ie.ASC, ie.ASCQ)})
		}
	}
	if t := d.Temperature; t != nil && t.Current != nil && t.Reference != nil && *t.Reference > 0 && *t.Current >= *t.Reference {
		a.add(Reason{Code: ReasonAtTripTemperature, Verdict: VerdictWarning, Current: uint64(*t.Current), Previous: uint64(*t.Reference),
			Message: fmt.Sprintf("temperature %d C is at or above the trip point %d C", *t.Current, *t.Reference)})
	}
	if n, ok := d.Uncorrected(); ok && n > 0 {
		a.add(Reason{Code: ReasonUncorrectedErrors, Verdict: VerdictWarning, Current: n,
			Message: fmt.Sprintf("%d uncorrected read, write or verify errors", n)})
		if prev != nil {
			if p, ok := prev.Uncorrected(); ok && n > p {
				a.add(Reason{Code: ReasonUncorrectedGrowing, Verdict: VerdictWarning, Previous: p, Current: n,
					Message: fmt.Sprintf("uncorrected errors grew from %d to %d", p, n)})
			}
		}
	}
	// Like ATA's reallocated sectors, a grown defect list that is not
	// empty is normal wear; one that grows is news.
	if prev != nil && d.GrownDefects != nil && prev.GrownDefects != nil && *d.GrownDefects > *prev.GrownDefects {
		a.add(Reason{Code: ReasonGrownDefectsGrowing, Verdict: VerdictWarning, Previous: *prev.GrownDefects, Current: *d.GrownDefects,
			Message: fmt.Sprintf("grown defect list grew from %d to %d entries", *prev.GrownDefects, *d.GrownDefects)})
	}
	if l := d.SelfTests; l != nil && len(l.Entries) > 0 {
		// Only the newest test counts: a later pass supersedes an old failure.
		if e := l.Entries[0]; e.Failed() {
			a.add(Reason{Code: ReasonSelfTestFailed, Verdict: VerdictFailing, Current: uint64(e.Result),
				Message: fmt.Sprintf("latest self-test (%s) at %d hours: %s", e.CodeName(), e.PowerOnHours, e.ResultName())})
		}
	}
}

func ataHealth(a *Assessment, d, prev *ATAData) {
	for _, at := range d.Attributes {
		switch at.WhenFailed {
		case FailedNow:
			v := VerdictWarning
			if at.Flags&FlagPrefailure != 0 {
				v = VerdictFailing // a pre-failure attribute past its threshold predicts failure
			}
			a.add(Reason{Code: ReasonAttrFailingNow, Verdict: v, Attribute: at.ID, Current: uint64(at.Value),
				Message: fmt.Sprintf("%s (%d) value %d is at or below threshold %d", at.Name, at.ID, at.Value, at.Threshold)})
		case FailedPast:
			a.add(Reason{Code: ReasonAttrFailedPast, Verdict: VerdictWarning, Attribute: at.ID, Current: uint64(at.Worst),
				Message: fmt.Sprintf("%s (%d) worst value %d reached threshold %d", at.Name, at.ID, at.Worst, at.Threshold)})
		}
	}
	counters := []struct {
		id      uint8
		nonzero ReasonCode
		grow    ReasonCode
		what    string
	}{
		{5, "", ReasonReallocatedGrowing, "reallocated sectors"},
		{197, ReasonPendingSectors, ReasonPendingGrowing, "pending sectors"},
		{198, ReasonUncorrectable, ReasonUncorrectableGrow, "offline uncorrectable sectors"},
	}
	for _, c := range counters {
		at, ok := d.Attribute(c.id)
		if !ok {
			continue
		}
		// The counters are the low 32 bits in smartctl's rendering for 197
		// and 198 (raw48) and the low 16 for 5 (raw16); compare what it shows.
		n := at.RawValue
		if c.id == 5 {
			n &= 0xffff
		}
		if c.nonzero != "" && n > 0 {
			a.add(Reason{Code: c.nonzero, Verdict: VerdictWarning, Attribute: c.id, Current: n,
				Message: fmt.Sprintf("%d %s", n, c.what)})
		}
		if prev == nil {
			continue
		}
		if pa, ok := prev.Attribute(c.id); ok {
			pn := pa.RawValue
			if c.id == 5 {
				pn &= 0xffff
			}
			if n > pn {
				a.add(Reason{Code: c.grow, Verdict: VerdictWarning, Attribute: c.id, Previous: pn, Current: n,
					Message: fmt.Sprintf("%s grew from %d to %d", c.what, pn, n)})
			}
		}
	}
	if d.SelfTests == nil && d.Values != nil {
		// Without the log, the execution status byte still tells how the
		// last self-test ended.
		if st, _, name := SelfTestExecution(d.Values.SelfTestStatus); st >= 3 && st <= 8 {
			a.add(Reason{Code: ReasonSelfTestFailed, Verdict: VerdictFailing, Current: uint64(st),
				Message: "last self-test: " + name})
		}
	}
	if d.SelfTests != nil && len(d.SelfTests.Entries) > 0 {
		// Only the newest test counts: a later pass supersedes an old failure.
		if e := d.SelfTests.Entries[0]; e.Failed() {
			a.add(Reason{Code: ReasonSelfTestFailed, Verdict: VerdictFailing, Current: uint64(e.FailingLBA),
				Message: fmt.Sprintf("latest self-test (%s) at %d hours: %s", e.TypeName(), e.LifetimeHours, e.StatusName())})
		}
	}
}

func nvmeHealth(a *Assessment, h, prev *NVMeHealth) {
	if h.CriticalWarning != 0 {
		v := VerdictFailing
		if h.CriticalWarning&^WarnTemperature == 0 {
			v = VerdictWarning // heat alone is an environment problem, not a dying drive
		}
		for _, w := range h.CriticalWarnings() {
			a.add(Reason{Code: ReasonCriticalWarning, Verdict: v, Current: uint64(h.CriticalWarning), Message: w})
		}
	}
	if h.SpareThreshold > 0 && h.AvailableSpare < h.SpareThreshold && h.CriticalWarning&WarnSpare == 0 {
		a.add(Reason{Code: ReasonSpareLow, Verdict: VerdictFailing, Current: uint64(h.AvailableSpare),
			Message: fmt.Sprintf("available spare %d%% below threshold %d%%", h.AvailableSpare, h.SpareThreshold)})
	}
	if h.PercentageUsed >= 100 {
		a.add(Reason{Code: ReasonWornOut, Verdict: VerdictWarning, Current: uint64(h.PercentageUsed),
			Message: fmt.Sprintf("%d%% of rated endurance used", h.PercentageUsed)})
	}
	if !h.MediaErrors.IsZero() {
		n, _ := h.MediaErrors.Uint64()
		a.add(Reason{Code: ReasonMediaErrors, Verdict: VerdictWarning, Current: n,
			Message: fmt.Sprintf("%s media and data integrity errors", h.MediaErrors)})
		if prev != nil && h.MediaErrors.Cmp(prev.MediaErrors) > 0 {
			p, _ := prev.MediaErrors.Uint64()
			a.add(Reason{Code: ReasonMediaErrorsGrowing, Verdict: VerdictWarning, Previous: p, Current: n,
				Message: fmt.Sprintf("media errors grew from %s to %s", prev.MediaErrors, h.MediaErrors)})
		}
	}
}
