package lvm

import (
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/dmioctl"
)

// dmState is what device-mapper says about the mapped devices: nil when
// the kernel has none (then lvm's state columns are unknown).
type dmState map[string]*dmioctl.Status

// readDMState lists the mapped devices and reads each one's status lines
// (DM_TABLE_STATUS): the header has the device number and open count, and a
// thin pool's status line its used data and metadata blocks.
func readDMState() dmState {
	c, err := dmioctl.Open()
	if err != nil {
		return nil
	}
	defer c.Close()
	devs, err := c.ListDevices()
	if err != nil {
		return nil
	}
	st := dmState{}
	for _, d := range devs {
		s, err := c.TableStatus(d.Name, false)
		if err != nil {
			continue // removed since the list
		}
		st[d.Name] = s
	}
	return st
}

// applyDMState fills the kernel columns of every LV the way lvs does:
// state 'a' (or 's' suspended) and open 'o' for a mapped LV, '-' for an
// unmapped one, 'X' for both when there is no device-mapper.
func applyDMState(r *Report, st dmState) {
	for _, v := range r.VGs {
		for _, l := range v.LVs {
			a := l.Attr
			switch s := st[DMName(v.Name, l.Name)]; {
			case st == nil:
				a.State, a.Open = 'X', 'X'
			case s == nil || !s.Active():
				a.State, a.Open = '-', '-'
			default:
				a.State, a.Open = 'a', '-'
				if s.Suspended() {
					a.State = 's'
				}
				if s.OpenCount > 0 {
					a.Open = 'o'
				}
				if s.ReadOnly() && a.Permissions == 'w' {
					a.Permissions = 'R'
				}
				l.KernelMajor, l.KernelMinor = int(s.Major), int(s.Minor)
			}
			a.Raw = a.String()
			l.Attr = a
		}
	}
}
