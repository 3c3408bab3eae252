package blockdev

import (
	"cmp"
	"slices"
)

// stack links partitions to their disks and holders to what they hold, then
// fixes the order every listing uses.
func (x *discovery) stack() {
	g := x.g
	for disk, parts := range x.parts {
		slices.SortStableFunc(parts, func(a, b MajMin) int { return comparePart(g.devs[a], g.devs[b]) })
		for _, p := range parts {
			g.link(disk, p)
		}
	}
	lowers := make([]MajMin, 0, len(x.holders))
	for m := range x.holders {
		lowers = append(lowers, m)
	}
	slices.SortFunc(lowers, func(a, b MajMin) int { return compareRoot(g.devs[a], g.devs[b]) })
	for _, m := range lowers {
		names := x.holders[m]
		var hs []*Device
		for _, n := range names {
			if h, ok := g.byName[n]; ok && h.MajMin != m {
				hs = append(hs, h)
			}
		}
		slices.SortFunc(hs, compareRoot)
		for _, h := range hs {
			n := h.KName
			if g.reaches(h.MajMin, m) {
				// A holder loop cannot happen in a real kernel; a broken or
				// hostile tree must not make the walk below endless.
				g.devs[m].addErr("holders/"+n, ErrSyntax)
				continue
			}
			g.link(m, h.MajMin)
		}
	}
	for m, names := range x.slaves {
		for _, n := range names {
			if l, ok := g.byName[n]; ok && l.MajMin != m && !g.reaches(m, l.MajMin) {
				g.link(l.MajMin, m)
			}
		}
	}
	g.reorder()
}

// reorder fixes the order of All and Roots: whole devices by number, each
// followed depth-first by what is stacked on it.
func (g *Graph) reorder() {
	var roots []MajMin
	for m, d := range g.devs {
		if d.Type != TypePart {
			roots = append(roots, m)
		}
	}
	slices.SortStableFunc(roots, func(a, b MajMin) int { return compareRoot(g.devs[a], g.devs[b]) })
	g.order = g.order[:0]
	seen := map[MajMin]bool{}
	var visit func(MajMin)
	visit = func(m MajMin) {
		if seen[m] {
			return
		}
		seen[m] = true
		g.order = append(g.order, m)
		for _, c := range g.children[m] {
			visit(c)
		}
	}
	for _, r := range roots {
		if len(g.parents[r]) == 0 {
			visit(r)
		}
	}
	// Anything left is on a cycle or under one; list it rather than lose it.
	for _, r := range roots {
		visit(r)
	}
}

// reaches reports whether to is reachable from from along child edges.
func (g *Graph) reaches(from, to MajMin) bool {
	seen := map[MajMin]bool{}
	stack := []MajMin{from}
	for len(stack) > 0 {
		m := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if m == to {
			return true
		}
		if seen[m] {
			continue
		}
		seen[m] = true
		stack = append(stack, g.children[m]...)
	}
	return false
}

func comparePart(a, b *Device) int {
	if a.PartNumber != nil && b.PartNumber != nil && *a.PartNumber != *b.PartNumber {
		return cmp.Compare(*a.PartNumber, *b.PartNumber)
	}
	return cmp.Compare(a.KName, b.KName)
}

// compareRoot orders by device number, as lsblk lists whole devices.
func compareRoot(a, b *Device) int {
	if c := cmp.Compare(a.MajMin.Major, b.MajMin.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.MajMin.Minor, b.MajMin.Minor); c != 0 {
		return c
	}
	return cmp.Compare(a.KName, b.KName)
}
