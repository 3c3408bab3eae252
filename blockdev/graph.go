package blockdev

import (
	"errors"
	"path/filepath"
	"slices"
)

// Graph is every block device of a system and how they stack: a partition is
// a child of its disk, a device-mapper or md device is a child of each device
// it is built on (sysfs holders/slaves). A device with several parents (an
// LVM volume spanning two disks, a RAID1) is a child of each.
//
// A Graph is a snapshot; it is not updated by later kernel changes and is safe
// for concurrent reads.
type Graph struct {
	devs     map[MajMin]*Device
	byName   map[string]*Device
	byPath   map[string]*Device
	order    []MajMin // every device, lsblk order
	children map[MajMin][]MajMin
	parents  map[MajMin][]MajMin
	errs     []error // failures that concern the whole graph (ErrMounts, ErrSwaps)
}

func newGraph() *Graph {
	return &Graph{
		devs:     map[MajMin]*Device{},
		byName:   map[string]*Device{},
		byPath:   map[string]*Device{},
		children: map[MajMin][]MajMin{},
		parents:  map[MajMin][]MajMin{},
	}
}

// Device returns the device with number m.
func (g *Graph) Device(m MajMin) (*Device, bool) {
	d, ok := g.devs[m]
	return d, ok
}

// ByName returns the device with kernel name kname ("sda1", "dm-0"). The
// display name of a dm device ("vg0-lv0") is accepted too.
func (g *Graph) ByName(kname string) (*Device, bool) {
	d, ok := g.byName[kname]
	return d, ok
}

// ByPath returns the device whose node is path: /dev/sda1, /dev/mapper/vg0-lv0
// or /dev/dm-0. Only the name is looked at; the path is not resolved on disk.
func (g *Graph) ByPath(path string) (*Device, bool) {
	path = filepath.Clean(path)
	if d, ok := g.byPath[path]; ok {
		return d, true
	}
	dir, base := filepath.Split(path)
	if dir == "/dev/" || dir == "/dev/mapper/" {
		return g.ByName(base)
	}
	return nil, false
}

// All returns every device: each root followed depth-first by what is
// stacked on it, a device with several parents listed once.
func (g *Graph) All() []*Device {
	out := make([]*Device, 0, len(g.order))
	for _, m := range g.order {
		out = append(out, g.devs[m])
	}
	return out
}

// Errs returns the failures that concern the whole graph rather than one
// device: an unreadable mount table (ErrMounts) or swap table (ErrSwaps).
// When it is not empty, a device without mounts or swap may still be in use;
// see the package documentation.
func (g *Graph) Errs() []error { return slices.Clone(g.errs) }

// addErr records a graph-wide failure once per kind, so that a Watch
// snapshot does not pile up the same failure event after event.
func (g *Graph) addErr(kind, err error) {
	for _, e := range g.errs {
		if errors.Is(e, kind) {
			return
		}
	}
	g.errs = append(g.errs, err)
}

// Len is the number of devices.
func (g *Graph) Len() int { return len(g.devs) }

// Roots returns the devices that are built on no other device (disks, loop
// devices, zram...), in lsblk's order.
func (g *Graph) Roots() []*Device {
	var out []*Device
	for _, m := range g.order {
		if len(g.parents[m]) == 0 {
			out = append(out, g.devs[m])
		}
	}
	return out
}

// Children returns what is stacked directly on d: its partitions, then the
// devices that hold it (dm, md), in lsblk's order.
func (g *Graph) Children(d *Device) []*Device { return g.list(g.children[d.MajMin]) }

// Parents returns the devices d is built on: the disk of a partition, the
// slaves of a dm or md device.
func (g *Graph) Parents(d *Device) []*Device { return g.list(g.parents[d.MajMin]) }

// Descendants returns everything stacked on d, directly or not, each once.
func (g *Graph) Descendants(d *Device) []*Device {
	return g.walk(d, g.children)
}

// Ancestors returns everything d is built on, directly or not, each once.
func (g *Graph) Ancestors(d *Device) []*Device {
	return g.walk(d, g.parents)
}

// InUse returns d and every device stacked on it that is mounted or active
// swap. Preflight checks refuse to touch d while this is not empty, and
// while g.Errs() is not empty: an empty answer from a graph whose mount or
// swap table could not be read does not mean unused.
func (g *Graph) InUse(d *Device) []*Device {
	var out []*Device
	if d.InUse() {
		out = append(out, d)
	}
	for _, x := range g.Descendants(d) {
		if x.InUse() {
			out = append(out, x)
		}
	}
	return out
}

// Disk returns the whole disk of a partition, or d itself.
func (g *Graph) Disk(d *Device) *Device {
	if d.Type == TypePart {
		for _, p := range g.Parents(d) {
			return p
		}
	}
	return d
}

func (g *Graph) list(ms []MajMin) []*Device {
	out := make([]*Device, 0, len(ms))
	for _, m := range ms {
		out = append(out, g.devs[m])
	}
	return out
}

func (g *Graph) walk(d *Device, edges map[MajMin][]MajMin) []*Device {
	seen := map[MajMin]bool{d.MajMin: true}
	var out []*Device
	stack := slices.Clone(edges[d.MajMin])
	slices.Reverse(stack)
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[m] {
			continue
		}
		seen[m] = true
		out = append(out, g.devs[m])
		next := slices.Clone(edges[m])
		slices.Reverse(next)
		stack = append(stack, next...)
	}
	return out
}

func (g *Graph) add(d *Device) {
	g.devs[d.MajMin] = d
	g.byName[d.KName] = d
	if _, taken := g.byPath[d.Path]; !taken {
		g.byPath[d.Path] = d
	}
	if d.Name != d.KName {
		if _, taken := g.byName[d.Name]; !taken {
			g.byName[d.Name] = d
		}
	}
}

func (g *Graph) link(parent, child MajMin) {
	if slices.Contains(g.children[parent], child) {
		return
	}
	g.children[parent] = append(g.children[parent], child)
	g.parents[child] = append(g.parents[child], parent)
}
