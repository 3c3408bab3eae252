package storage

import (
	"fmt"
	"io"
	"strings"
)

// WriteTree prints an inventory for a person: the device tree with what
// each device holds, then LVM, backends, drive health, busy devices and
// every read that failed.
func WriteTree(w io.Writer, inv *Inventory) error {
	var b strings.Builder
	children := map[string]bool{}
	for _, d := range inv.Devices {
		for _, c := range d.Children {
			children[c] = true
		}
	}
	health := map[string]string{}
	for _, h := range inv.Health {
		health[h.Device] = h.Verdict
	}
	var walk func(d *Device, prefix string, last bool, depth int)
	walk = func(d *Device, prefix string, last bool, depth int) {
		branch, next := "", ""
		if depth > 0 {
			branch, next = "├─", "│ "
			if last {
				branch, next = "└─", "  "
			}
		}
		fmt.Fprintf(&b, "%s%s%s %s %s", prefix, branch, d.Name, d.Type, human(d.SizeBytes))
		if fs := inv.Filesystem(d.Path); fs != nil {
			fmt.Fprintf(&b, " %s", fs.Type)
			if fs.Label != "" {
				fmt.Fprintf(&b, " %q", fs.Label)
			}
			fmt.Fprintf(&b, " used %s of %s", human(fs.SizeBytes-fs.FreeBytes), human(fs.SizeBytes))
		} else if d.FSType != "" {
			fmt.Fprintf(&b, " %s", d.FSType)
		}
		if len(d.Mountpoints) > 0 {
			fmt.Fprintf(&b, " on %s", strings.Join(d.Mountpoints, ", "))
		}
		if d.Swap {
			b.WriteString(" [swap]")
		}
		if v, ok := health[d.Path]; ok {
			fmt.Fprintf(&b, " health:%s", v)
		}
		if d.Serial != "" {
			fmt.Fprintf(&b, " serial:%s", d.Serial)
		}
		b.WriteByte('\n')
		if depth > 16 {
			return
		}
		for i, c := range d.Children {
			if cd := inv.Device(c); cd != nil {
				walk(cd, prefix+next, i == len(d.Children)-1, depth+1)
			}
		}
	}
	for i := range inv.Devices {
		d := &inv.Devices[i]
		if !children[d.Path] {
			walk(d, "", true, 0)
		}
	}
	if inv.LVM != nil && len(inv.LVM.VGs) > 0 {
		b.WriteString("\nLVM:\n")
		for _, vg := range inv.LVM.VGs {
			fmt.Fprintf(&b, "  vg %s %s, %s free, %d PVs\n", vg.Name, human(vg.Size), human(vg.Free), vg.PVCount)
			for _, lv := range vg.LVs {
				fmt.Fprintf(&b, "    lv %s %s %s\n", lv.Name, human(lv.Size), strings.Join(lv.Layout, ","))
			}
		}
	}
	for _, be := range inv.Backends {
		fmt.Fprintf(&b, "\nbackend %s: %d pools, %d volumes\n", be.Name, len(be.Pools), len(be.Volumes))
		for _, p := range be.Pools {
			fmt.Fprintf(&b, "  pool %s %s, %s free\n", p.Name, human(p.CapacityBytes), human(p.FreeBytes))
		}
	}
	busy := false
	for _, r := range inv.Rates {
		if r.Util >= 1 {
			if !busy {
				b.WriteString("\nbusy devices:\n")
				busy = true
			}
			fmt.Fprintf(&b, "  %s %.0f%% util, %.1f r/s %.1f w/s\n", r.Name, r.Util, r.ReadsPerSec, r.WritesPerSec)
		}
	}
	if len(inv.Errors) > 0 {
		fmt.Fprintf(&b, "\ncould not read (%d):\n", len(inv.Errors))
		for _, e := range inv.Errors {
			fmt.Fprintf(&b, "  %s\n", e.Error())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func human(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	f := float64(n)
	i := -1
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f%ciB", f, units[i])
}
