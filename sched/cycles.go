package sched

import "slices"

// findCycles lists the elementary cycles of the dependency graph, up to
// limit, each starting at its operation earliest in plan order. It first
// splits the graph into strongly connected components (Tarjan) so that the
// acyclic bulk of a large plan costs linear time, then enumerates cycles
// inside each component with Johnson's algorithm, whose blocking sets keep
// the cost proportional to the number of cycles found.
func findCycles(g *graph, limit int) (cycles [][]string, truncated bool) {
	n := len(g.ops)
	comp := tarjan(g.deps)
	size := make([]int32, n)
	for v := range n {
		size[comp[v]]++
	}
	// Only components with a cycle matter; list them in order of their
	// first member to keep the output stable.
	members := map[int32][]int32{}
	var order []int32
	for v := range n {
		c := comp[v]
		if size[c] == 1 && !hasSelfLoop(g.deps, int32(v)) {
			continue
		}
		if _, ok := members[c]; !ok {
			order = append(order, c)
		}
		members[c] = append(members[c], int32(v))
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

	// Per component, in local numbering (plan order within the component).
	ids     []int32   // local -> graph index
	adj     [][]int32 // local dependency edges inside the component
	allowed []bool
	blocked []bool
	b       [][]int32
	path    []int32
	start   int32
}

// component enumerates the cycles of one strongly connected component.
// Following Johnson, each round takes the strongly connected part of the
// vertices from s on that holds the least vertex with a cycle, lists the
// cycles through that vertex, and moves past it; every round but the last
// finds a cycle, so the work stays proportional to the cycles found.
func (j *johnson) component(ms []int32) {
	m := len(ms)
	local := make(map[int32]int32, m)
	for i, v := range ms {
		local[v] = int32(i)
	}
	j.ids = ms
	j.adj = make([][]int32, m)
	for i, v := range ms {
		for _, w := range j.g.deps[v] {
			if lw, ok := local[w]; ok {
				j.adj[i] = append(j.adj[i], lw)
			}
		}
	}
	j.allowed = make([]bool, m)
	j.blocked = make([]bool, m)
	j.b = make([][]int32, m)
	for s := int32(0); int(s) < m && !j.truncated; s++ {
		comp := tarjanFrom(j.adj, s)
		// The least vertex >= s that lies on a cycle of the subgraph.
		least := int32(-1)
		size := map[int32]int{}
		for v := s; int(v) < m; v++ {
			size[comp[v]]++
		}
		for v := s; int(v) < m; v++ {
			if size[comp[v]] > 1 || slices.Contains(j.adj[v], v) {
				least = v
				break
			}
		}
		if least < 0 {
			return
		}
		s = least
		for v := range j.allowed {
			j.allowed[v] = v >= int(s) && comp[v] == comp[s]
			j.blocked[v] = false
			j.b[v] = j.b[v][:0]
		}
		j.start = s
		j.path = j.path[:0]
		j.circuit(s)
	}
}

func (j *johnson) circuit(v int32) bool {
	found := false
	j.path = append(j.path, v)
	j.blocked[v] = true
	for _, w := range j.adj[v] {
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
				c[i] = j.g.ops[j.ids[u]].ID
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
		for _, w := range j.adj[v] {
			if j.allowed[w] && !slices.Contains(j.b[w], v) {
				j.b[w] = append(j.b[w], v)
			}
		}
	}
	j.path = j.path[:len(j.path)-1]
	return found
}

func (j *johnson) unblock(u int32) {
	j.blocked[u] = false
	for len(j.b[u]) > 0 {
		w := j.b[u][len(j.b[u])-1]
		j.b[u] = j.b[u][:len(j.b[u])-1]
		if j.blocked[w] {
			j.unblock(w)
		}
	}
}

// tarjanFrom numbers the components of the subgraph of vertices >= lo;
// vertices below lo get -1.
func tarjanFrom(adj [][]int32, lo int32) []int32 {
	sub := make([][]int32, len(adj))
	for v := lo; int(v) < len(adj); v++ {
		for _, w := range adj[v] {
			if w >= lo {
				sub[v] = append(sub[v], w)
			}
		}
	}
	comp := tarjan(sub)
	for v := int32(0); v < lo; v++ {
		comp[v] = -1
	}
	return comp
}
