package external

import (
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// The checks below are what a host may not take on trust from another
// process: each returns a *MalformedError naming the first bad field.

var knownTech = map[plugin.Technology]bool{
	plugin.TechVolume: true, plugin.TechThin: true, plugin.TechShrink: true,
	plugin.TechSnapshot: true, plugin.TechClone: true, plugin.TechBlock: true,
	plugin.TechDirectory: true,
}

var knownMode = map[plugin.Mode]bool{
	plugin.ModeCreate: true, plugin.ModeRemove: true, plugin.ModeModify: true, plugin.ModeQuery: true,
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

func checkDescribe(d *describeResponse) error {
	if d.Error != nil {
		return malformed("describe.error", d.Error.Message, "describe may not fail")
	}
	if d.Name == "" {
		return malformed("name", "", "empty backend name")
	}
	l := d.Limits
	switch {
	case l.MaxNameLen < 0:
		return malformed("limits.max_name_len", strconv.Itoa(l.MaxNameLen), "negative")
	case l.Granularity < 0:
		return malformed("limits.granularity", i64(l.Granularity), "negative")
	case l.MinSize < 0:
		return malformed("limits.min_size", i64(l.MinSize), "negative")
	}
	return nil
}

func checkCapabilities(cs []plugin.Capability) error {
	for _, c := range cs {
		if !knownTech[c.Technology] {
			return malformed("capability.technology", string(c.Technology), "unknown technology")
		}
		if !knownMode[c.Mode] {
			return malformed("capability.mode", string(c.Mode), "unknown mode")
		}
	}
	return nil
}

func checkPools(ps []plugin.Pool) error {
	for _, p := range ps {
		switch {
		case p.Name == "":
			return malformed("pool.name", "", "empty")
		case p.CapacityBytes < 0:
			return malformed("pool.capacity_bytes", i64(p.CapacityBytes), "negative")
		case p.FreeBytes < 0:
			return malformed("pool.free_bytes", i64(p.FreeBytes), "negative")
		case p.FreeBytes > p.CapacityBytes:
			return malformed("pool.free_bytes", i64(p.FreeBytes), "more than the capacity")
		case p.AllocatedBytes < 0:
			return malformed("pool.allocated_bytes", i64(p.AllocatedBytes), "negative")
		case p.OverProvisioning < 0:
			return malformed("pool.over_provisioning", strconv.FormatFloat(p.OverProvisioning, 'g', -1, 64), "negative")
		}
	}
	return nil
}

func checkVolume(v plugin.Volume) error {
	switch {
	case v.ID == "":
		return malformed("volume.id", "", "empty")
	case v.SizeBytes < 0:
		return malformed("volume.size_bytes", i64(v.SizeBytes), "negative")
	case v.UsedBytes < -1:
		return malformed("volume.used_bytes", i64(v.UsedBytes), "below -1 (unknown)")
	}
	return nil
}

func checkVolumes(vs []plugin.Volume, pool string) error {
	for _, v := range vs {
		if err := checkVolume(v); err != nil {
			return err
		}
		if pool != "" && v.Pool != pool {
			return malformed("volume.pool", v.Pool, "asked for pool "+pool)
		}
	}
	return nil
}

func checkSnapshots(ss []plugin.Snapshot, volumeID string) error {
	for _, s := range ss {
		switch {
		case s.ID == "":
			return malformed("snapshot.id", "", "empty")
		case s.Size < 0:
			return malformed("snapshot.size_bytes", i64(s.Size), "negative")
		case volumeID != "" && s.SourceID != volumeID:
			return malformed("snapshot.source_id", s.SourceID, "asked for volume "+volumeID)
		}
	}
	return nil
}
