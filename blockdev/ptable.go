package blockdev

// tables sets PTType and PTUUID of the devices read in this pass, after
// udev and probing: a device's own table first, then, for a partition, the
// table that holds its entry, as udev records it (a partition imports its
// disk's ID_PART_TABLE_* properties, and its own probe overwrites the type
// when it carries a table itself, such as a dos extended partition's).
func (x *discovery) tables() {
	// Disks first: a partition takes its disk's identifier.
	for _, pass := range []bool{false, true} {
		for _, m := range x.g.order {
			d := x.g.devs[m]
			if (d.Type == TypePart) != pass || !x.isFresh(d) {
				continue
			}
			x.table(d)
		}
	}
}

func (x *discovery) table(d *Device) {
	switch {
	case d.Probe != nil:
		d.PTType, d.PTUUID = d.Probe.PTType, d.Probe.PTUUID
		if d.PTType == "" && d.Probe.HasPartEntry {
			d.PTType = d.Probe.PartEntryScheme
		}
	case d.Udev != nil:
		d.PTType, d.PTUUID = d.Udev["ID_PART_TABLE_TYPE"], d.Udev["ID_PART_TABLE_UUID"]
		if d.PTType == "" {
			d.PTType = d.Udev["ID_PART_ENTRY_SCHEME"]
		}
	}
	if d.Type != TypePart || d.PTUUID != "" || d.PTType == "" {
		return
	}
	// The identifier of the table holding the entry: the disk's, when
	// the entry is in the disk's table (its scheme is the disk's type).
	if disk := x.g.Disk(d); disk != d && disk.PTUUID != "" && x.entryScheme(d) == disk.PTType {
		d.PTUUID = disk.PTUUID
	}
}

// entryScheme is the scheme of the table holding d's entry: from its probe,
// or its udev properties; "" when neither says.
func (x *discovery) entryScheme(d *Device) string {
	if d.Probe != nil {
		if d.Probe.HasPartEntry {
			return d.Probe.PartEntryScheme
		}
		return ""
	}
	if d.Udev != nil {
		if s := d.Udev["ID_PART_ENTRY_SCHEME"]; s != "" {
			return s
		}
	}
	return ""
}
