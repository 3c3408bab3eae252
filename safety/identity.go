package safety

import (
	"fmt"
	"strings"
)

// Identity names a mutation's target so that recovery can tell whether the
// device now at Path is still the same one. The caller fills what it knows;
// an empty field is not compared. For a regular file (tests, images) Major and
// Minor are the file system's st_dev and Inode its inode.
type Identity struct {
	Path    string `json:"path"`
	Major   uint32 `json:"major,omitempty"`
	Minor   uint32 `json:"minor,omitempty"`
	DiskSeq uint64 `json:"diskseq,omitempty"`
	Serial  string `json:"serial,omitempty"`
	WWN     string `json:"wwn,omitempty"`
	PTUUID  string `json:"ptuuid,omitempty"`
	Inode   uint64 `json:"inode,omitempty"`
	// BootID is the kernel's boot id when the identity was read: maj:min
	// and diskseq only mean something within one boot.
	BootID string `json:"boot_id,omitempty"`
}

// String is a short human name: the path and the strongest keys.
func (id Identity) String() string {
	var b strings.Builder
	b.WriteString(id.Path)
	if id.Major != 0 || id.Minor != 0 {
		fmt.Fprintf(&b, " (%d:%d", id.Major, id.Minor)
		if id.DiskSeq != 0 {
			fmt.Fprintf(&b, " diskseq %d", id.DiskSeq)
		}
		b.WriteString(")")
	}
	if id.WWN != "" {
		b.WriteString(" wwn " + id.WWN)
	} else if id.Serial != "" {
		b.WriteString(" serial " + id.Serial)
	}
	if b.Len() == 0 {
		return "(unnamed target)"
	}
	return b.String()
}

// Mismatch compares a recorded identity (id) with the one observed now and
// returns nil when nothing contradicts. Only fields set on both sides count.
// A partition-table UUID differs legitimately while a table is being
// rewritten, so a current PTUUID that is empty or listed in alsoPTUUID is
// accepted.
//
// maj:min and diskseq are handed out per boot (diskseq counts from boot,
// NVMe and loop minors as devices appear): across a reboot (BootID differs)
// they prove nothing either way, and the same disk must be found by what
// survives a reboot, its serial, WWN or (for a file) inode. Without one of
// those on both sides a rebooted target cannot be proven the same: mismatch.
func (id Identity) Mismatch(now Identity, alsoPTUUID ...string) error {
	var diffs []string
	sameBoot := id.BootID == "" || now.BootID == "" || id.BootID == now.BootID
	if !sameBoot && !(id.Serial != "" && now.Serial != "") && !(id.WWN != "" && now.WWN != "") &&
		!(id.Inode != 0 && now.Inode != 0) {
		diffs = append(diffs, "rebooted since, and no serial, WWN or inode proves it is the same device")
	}
	if sameBoot && (id.Major != 0 || id.Minor != 0) && (now.Major != 0 || now.Minor != 0) &&
		(id.Major != now.Major || id.Minor != now.Minor) {
		diffs = append(diffs, fmt.Sprintf("maj:min %d:%d, now %d:%d", id.Major, id.Minor, now.Major, now.Minor))
	}
	if sameBoot && id.DiskSeq != 0 && now.DiskSeq != 0 && id.DiskSeq != now.DiskSeq {
		diffs = append(diffs, fmt.Sprintf("diskseq %d, now %d", id.DiskSeq, now.DiskSeq))
	}
	if id.Serial != "" && now.Serial != "" && id.Serial != now.Serial {
		diffs = append(diffs, fmt.Sprintf("serial %q, now %q", id.Serial, now.Serial))
	}
	if id.WWN != "" && now.WWN != "" && !strings.EqualFold(id.WWN, now.WWN) {
		diffs = append(diffs, fmt.Sprintf("wwn %q, now %q", id.WWN, now.WWN))
	}
	if id.Inode != 0 && now.Inode != 0 && id.Inode != now.Inode {
		diffs = append(diffs, fmt.Sprintf("inode %d, now %d", id.Inode, now.Inode))
	}
	if id.PTUUID != "" && now.PTUUID != "" && !strings.EqualFold(id.PTUUID, now.PTUUID) {
		ok := false
		for _, u := range alsoPTUUID {
			if strings.EqualFold(u, now.PTUUID) {
				ok = true
				break
			}
		}
		if !ok {
			diffs = append(diffs, fmt.Sprintf("partition table %s, now %s", id.PTUUID, now.PTUUID))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrIdentityMismatch, id.Path, strings.Join(diffs, "; "))
}

// SameTarget reports whether two identities name the same device, as
// lock-down and pending-recovery lookups decide it.
func (id Identity) SameTarget(o Identity) bool { return id.sameTarget(o) }

// sameTarget reports whether two identities name the same device, for
// lock-down lookups. Strong keys (WWN, serial, diskseq, inode) decide when
// both sides have one; otherwise maj:min, then the path.
func (id Identity) sameTarget(o Identity) bool {
	switch {
	case id.WWN != "" && o.WWN != "":
		return strings.EqualFold(id.WWN, o.WWN)
	case id.Serial != "" && o.Serial != "":
		return id.Serial == o.Serial
	}
	if (id.Major != 0 || id.Minor != 0) && (o.Major != 0 || o.Minor != 0) {
		if id.Major != o.Major || id.Minor != o.Minor {
			return false
		}
		if id.Inode != 0 && o.Inode != 0 {
			return id.Inode == o.Inode
		}
		// A lock-down outlives a re-attach of a loop device (new diskseq):
		// maj:min alone is enough to stay careful.
		return true
	}
	return id.Path != "" && id.Path == o.Path
}
