package safety

import (
	"context"
	"fmt"
	"strings"
)

// Facts is everything preflight knows about a target. Gather fills it from
// the system; Evaluate decides from it alone, so every refusal rule is
// tested without root by writing Facts by hand.
type Facts struct {
	Path     string   `json:"path"`
	Exists   bool     `json:"exists"`
	IsBlock  bool     `json:"is_block"`
	MajMin   string   `json:"majmin,omitempty"`
	Identity Identity `json:"identity"`
	Size     int64    `json:"size"` // bytes; 0 when unknown or empty
	ReadOnly bool     `json:"read_only,omitempty"`

	// Mounts of the target, its partitions and anything stacked on it.
	Mounts []MountFact `json:"mounts,omitempty"`
	// Swap lists active swap on the target, its partitions or above.
	Swap []string `json:"swap,omitempty"`
	// Holders are devices built on the target or its partitions (dm, md),
	// as "dm-0 (vg0-lv0, lvm)".
	Holders []string `json:"holders,omitempty"`
	// Busy is set when an O_EXCL open failed with EBUSY; BusyDetail says so.
	Busy       bool   `json:"busy,omitempty"`
	BusyDetail string `json:"busy_detail,omitempty"`
	// Protected explains why the target carries or is a system device.
	Protected []string `json:"protected,omitempty"`

	// Signatures found by a direct probe (primary locations) and by the
	// backup-location scan; PartTable is the table type when there is one.
	Signatures []Signature `json:"signatures,omitempty"`
	PartTable  string      `json:"part_table,omitempty"`
	Ambiguous  []string    `json:"ambiguous,omitempty"`
	// UnrecognizedData lists nonzero runs in the metadata regions
	// (probe.MetadataRegions) of a target on which nothing else was found:
	// a format no prober knows. It is read only when the probe, the backup
	// scan and the kernel found nothing.
	UnrecognizedData []DataRange `json:"unrecognized_data,omitempty"`
	// Partitions lists partition devices the kernel knows on the target.
	Partitions []string `json:"partitions,omitempty"`
	// Unreadable is why reading the target failed; then emptiness is unproven.
	Unreadable string `json:"unreadable,omitempty"`

	LVMMember []string `json:"lvm_member,omitempty"` // evidence: where an LVM2 PV label is
	MDMember  []string `json:"md_member,omitempty"`  // evidence: where an md superblock or md holder is

	MissingTools []string  `json:"missing_tools,omitempty"`
	Lockdown     *Lockdown `json:"lockdown,omitempty"`
	// Pending lists interrupted mutations of the target awaiting recovery.
	Pending []string `json:"pending,omitempty"`
}

// addUnreadable records one more fact that could not be gathered; every
// cause is kept, so the report names each.
func (f *Facts) addUnreadable(why string) {
	if f.Unreadable == "" {
		f.Unreadable = why
		return
	}
	f.Unreadable += "; " + why
}

// MountFact is one mount of the target or of something on it.
type MountFact struct {
	Device     string `json:"device"`
	MountPoint string `json:"mountpoint"`
	FSType     string `json:"fstype,omitempty"`
}

func (m MountFact) String() string {
	s := m.Device + " on " + m.MountPoint
	if m.FSType != "" {
		s += " type " + m.FSType
	}
	return s
}

// needsEmpty: operations that destroy whatever is there must prove nothing is.
func (o Op) needsEmpty() bool { return o == OpFormat || o == OpPartition }

// defaultMinSize is the smallest device an operation makes sense on: a GPT
// needs 34 sectors at each end; no filesystem mkfs makes fits in under 1 MiB.
func (o Op) defaultMinSize() int64 {
	switch o {
	case OpFormat, OpPartition:
		return 1 << 20
	}
	return 1
}

// Evaluate turns facts into a report for op: every rule that refuses adds a
// Reason; the caller's checks and overrides are applied as configured.
func Evaluate(ctx context.Context, f *Facts, op Op, opts ...CheckOption) (*Report, error) {
	c, err := newCheckConfig(op, opts)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, fmt.Errorf("%w: nil facts", ErrInvalid)
	}
	return evaluateCtx(ctx, f, op, c), nil
}

func evaluateCtx(ctx context.Context, f *Facts, op Op, c *checkConfig) *Report {
	r := &Report{Target: f.Path, Op: op, Facts: f, Reasons: []Reason{}}
	add := func(code Code, msg string, ev ...string) {
		r.Reasons = append(r.Reasons, Reason{Code: code, Message: msg, Evidence: ev})
	}
	if !f.Exists {
		add(CodeNotFound, fmt.Sprintf("%s does not exist", f.Path))
		return finish(r, c)
	}
	if !f.IsBlock && f.Unreadable != "" {
		add(CodeUnreadable, fmt.Sprintf("%s cannot be examined", f.Path), f.Unreadable)
		return finish(r, c)
	}
	if !f.IsBlock {
		add(CodeNotBlockDevice, fmt.Sprintf("%s is not a block device", f.Path))
		return finish(r, c)
	}
	if f.Lockdown != nil {
		add(CodeLockedDown, "a failed undo locked this device down; an operator must clear it",
			f.Lockdown.Reason, "mutation "+f.Lockdown.MutationID)
	}
	if len(f.Pending) > 0 {
		add(CodePendingRecovery, "an interrupted change of this device must be recovered first", f.Pending...)
	}
	online := op == OpOnline // the filesystem is meant to be mounted
	if len(f.Mounts) > 0 && !online {
		ev := make([]string, len(f.Mounts))
		for i, m := range f.Mounts {
			ev[i] = m.String()
		}
		add(CodeMounted, "the device, one of its partitions or something built on it is mounted", ev...)
	}
	if len(f.Swap) > 0 {
		add(CodeSwapActive, "the device, one of its partitions or something built on it is active swap", f.Swap...)
	}
	if len(f.Holders) > 0 {
		add(CodeHasHolders, "other devices are built on this one (device-mapper, md, LVM)", f.Holders...)
	}
	if f.Busy && !online {
		add(CodeInUse, "the kernel refuses an exclusive open: something holds the device", f.BusyDetail)
	}
	if len(f.Protected) > 0 {
		add(CodeProtected, "the device holds or is a system or protected device", f.Protected...)
	}
	if f.ReadOnly {
		add(CodeReadOnly, "the kernel marks the device read-only")
	}
	if len(f.LVMMember) > 0 {
		add(CodeLVMMember, "the device or one of its partitions is an LVM physical volume", f.LVMMember...)
	}
	if len(f.MDMember) > 0 {
		add(CodeMDMember, "the device or one of its partitions is an md RAID member", f.MDMember...)
	}
	if f.Unreadable != "" {
		add(CodeUnreadable, "the device could not be read, so nothing proves it is empty", f.Unreadable)
	}
	min := c.minSize
	if min == 0 {
		min = op.defaultMinSize()
	}
	if f.Size < min {
		add(CodeTooSmall, fmt.Sprintf("the device has %d bytes; %s needs at least %d", f.Size, op, min))
	}
	var found []string
	if f.PartTable != "" {
		found = append(found, "partition table "+f.PartTable)
	}
	for _, s := range f.Signatures {
		found = append(found, s.String())
	}
	if len(f.Ambiguous) > 0 {
		found = append(found, "conflicting signatures: "+strings.Join(f.Ambiguous, ", "))
	}
	for _, p := range f.Partitions {
		found = append(found, "kernel partition "+p)
	}
	if len(found) > 0 {
		if op.needsEmpty() {
			add(CodeNotEmpty, "the device is not empty: it holds a signature or a partition table", found...)
		} else {
			r.Notes = append(r.Notes, "the device holds: "+strings.Join(found, "; "))
		}
	} else if len(f.UnrecognizedData) > 0 {
		ev := make([]string, len(f.UnrecognizedData))
		for i, d := range f.UnrecognizedData {
			ev[i] = d.String()
		}
		if op.needsEmpty() {
			add(CodeUnrecognizedData, "no known signature was found, but the places where on-disk formats keep their metadata hold data, so the device is not blank", ev...)
		} else {
			r.Notes = append(r.Notes, "the device holds unrecognized data: "+strings.Join(ev, "; "))
		}
	}
	if len(f.MissingTools) > 0 {
		add(CodeToolMissing, "a program the operation runs is not installed", f.MissingTools...)
	}
	for _, chk := range c.checks {
		r.Reasons = append(r.Reasons, chk(ctx, f, op)...)
	}
	return finish(r, c)
}

// finish applies overrides (one code at a time, never a blanket) and decides.
func finish(r *Report, c *checkConfig) *Report {
	r.Allowed = true
	for i := range r.Reasons {
		x := &r.Reasons[i]
		if ov, ok := c.overrides[x.Code]; ok && x.Code.Overridable() {
			x.Overridden, x.Override = true, ov.Reason
			r.Notes = append(r.Notes, fmt.Sprintf("%s overridden: %s", x.Code, ov.Reason))
			continue
		}
		r.Allowed = false
	}
	return r
}
