package smart

import "testing"

// Thresholds pair with attributes by slot, but drives exist whose threshold
// table lists the same ids in another order; smartctl then finds the id
// elsewhere in the table (ata_get_attr_state). Dropping the threshold left
// such an attribute unable to fail: a false "healthy".
func TestAttributesThresholdInOtherSlot(t *testing.T) {
	v := &SmartValues{}
	v.Slots[0] = RawAttribute{ID: 1, Flags: 0x0f, Value: 100, Worst: 100}
	v.Slots[1] = RawAttribute{ID: 5, Flags: 0x33, Value: 100, Worst: 100}
	v.Slots[2] = RawAttribute{ID: 9, Flags: 0x32, Value: 99, Worst: 99}
	th := &Thresholds{}
	th.Slots[0].ID, th.Slots[0].Threshold = 5, 140 // swapped with id 1
	th.Slots[1].ID, th.Slots[1].Threshold = 1, 6
	th.Slots[2].ID, th.Slots[2].Threshold = 9, 0
	attrs := Attributes(v, th, 7200)
	want := map[uint8]struct {
		thresh uint8
		has    bool
		when   WhenFailed
	}{1: {6, true, FailedNever}, 5: {140, true, FailedNow}, 9: {0, true, FailedNever}}
	for _, a := range attrs {
		w := want[a.ID]
		if a.Threshold != w.thresh || a.HasThreshold != w.has || a.WhenFailed != w.when {
			t.Errorf("attribute %d: threshold %d (has %v) when_failed %q, want %d %v %q",
				a.ID, a.Threshold, a.HasThreshold, a.WhenFailed, w.thresh, w.has, w.when)
		}
	}
	// An id absent from the threshold table has no threshold.
	th.Slots[0].ID = 0
	for _, a := range Attributes(v, th, 7200) {
		if a.ID == 5 && (a.HasThreshold || a.WhenFailed != FailedNever) {
			t.Errorf("attribute 5 without a threshold entry: %+v", a)
		}
	}
	th.Slots[0].ID = 5
	d := NewATAData(nil, v, th, StatusPassed)
	if a := Health(&Report{ATA: d}, nil); a.Verdict != VerdictFailing {
		t.Errorf("pre-fail attribute below its threshold in another slot: %v %+v", a.Verdict, a.Reasons)
	}
}
