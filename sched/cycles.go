package sched

// findCycles lists the elementary cycles of the dependency graph, up to
// limit, each starting at its operation earliest in plan order. It first
// splits the graph into strongly connected components (Tarjan) so that the
// acyclic bulk of a large plan costs linear time, then enumerates cycles
// inside each component with Johnson's algorithm, whose blocking sets keep
// the cost proportional to the number of cycles found.
func findCycles(g *graph, limit int) (cycles [][]string, truncated bool) {
	n := len(g.ops)
	comp := tarjan(g.deps)
	members := map[int32][]int32{}
	for v := range n {
		members[comp[v]] = append(members[comp[v]], int32(v))
	}
	// Components in order of their first member keep the output stable.
	var order []int32
	seen := map[int32]bool{}
	for v := range n {
		c := comp[v]
		if seen[c] {
			continue
		}
		seen[c] = true
		ms := members[c]
		if len(ms) == 1 && !hasSelfLoop(g.deps, ms[0]) {
			continue
		}
		order = append(order, c)
	}
	j := johnson{g: g, limit: limit}
	for _, c := range order {
		j.component(members[c])
		if j.truncated {
			break
		}
	}
	return j.cycles, j.truncated
}

func hasSelfLoop(adj [][]int32, v int32) bool {
	for _, w := range adj[v] {
		if w == v {
			return true
		}
	}
	return false
}

// tarjan returns a component number per vertex. It is iterative so that a
// 10,000-long dependency chain cannot exhaust the stack budget.
func tarjan(adj [][]int32) []int32 {
	n := len(adj)
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	comp := make([]int32, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int32
	type frame struct{ v, next int32 }
	var calls []frame
	var next, ncomp int32
	for root := range n {
		if index[root] >= 0 {
			continue
		}
		calls = append(calls, frame{v: int32(root)})
		index[root], low[root] = next, next
		next++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			v := f.v
			if int(f.next) < len(adj[v]) {
				w := adj[v][f.next]
				f.next++
				if index[w] < 0 {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					calls = append(calls, frame{v: w})
				} else if onStack[w] {
					low[v] = min(low[v], index[w])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					comp[w] = ncomp
					if w == v {
						break
					}
				}
				ncomp++
			}
		}
	}
	return comp
}

type johnson struct {
	g         *graph
	limit     int
	cycles    [][]string
	truncated bool

	allowed map[int32]bool
	blocked map[int32]bool
	b       map[int32]map[int32]bool
	path    []int32
	start   int32
}

// component enumerates the cycles of one strongly connected component, its
// members sorted by plan order.
func (j *johnson) component(ms []int32) {
	for si, s := range ms {
		// The subgraph of members at or after s in plan order, cut down
		// to the part strongly connected with s.
		rest := map[int32]bool{}
		for _, v := range ms[si:] {
			rest[v] = true
		}
		j.allowed = strongWith(j.g, s, rest)
		if len(j.allowed) == 1 && !hasSelfLoop(j.g.deps, s) {
			continue
		}
		j.blocked = map[int32]bool{}
		j.b = map[int32]map[int32]bool{}
		j.start = s
		j.path = j.path[:0]
		j.circuit(s)
		if j.truncated {
			return
		}
	}
}

func (j *johnson) circuit(v int32) bool {
	found := false
	j.path = append(j.path, v)
	j.blocked[v] = true
	for _, w := range j.g.deps[v] {
		if j.truncated {
			break
		}
		if !j.allowed[w] {
			continue
		}
		if w == j.start {
			if len(j.cycles) == j.limit {
				j.truncated = true
				break
			}
			c := make([]string, len(j.path))
			for i, u := range j.path {
				c[i] = j.g.ops[u].ID
			}
			j.cycles = append(j.cycles, c)
			found = true
		} else if !j.blocked[w] && j.circuit(w) {
			found = true
		}
	}
	if found {
		j.unblock(v)
	} else {
		for _, w := range j.g.deps[v] {
			if !j.allowed[w] {
				continue
			}
			if j.b[w] == nil {
				j.b[w] = map[int32]bool{}
			}
			j.b[w][v] = true
		}
	}
	j.path = j.path[:len(j.path)-1]
	return found
}

func (j *johnson) unblock(u int32) {
	j.blocked[u] = false
	for w := range j.b[u] {
		delete(j.b[u], w)
		if j.blocked[w] {
			j.unblock(w)
		}
	}
}

// strongWith returns the vertices of rest that s reaches and that reach s.
func strongWith(g *graph, s int32, rest map[int32]bool) map[int32]bool {
	fwd := reach(g.deps, s, rest)
	bwd := reach(g.outs, s, rest)
	out := map[int32]bool{}
	for v := range fwd {
		if bwd[v] {
			out[v] = true
		}
	}
	return out
}

func reach(adj [][]int32, s int32, rest map[int32]bool) map[int32]bool {
	seen := map[int32]bool{s: true}
	stack := []int32{s}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range adj[v] {
			if rest[w] && !seen[w] {
				seen[w] = true
				stack = append(stack, w)
			}
		}
	}
	return seen
}
