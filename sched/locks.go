package sched

// lockTable counts the claims held on each key and, for every key, the
// claims held at or below it; with both, a conflict check needs one look at
// each level of the key, however many claims are held elsewhere. Each claim
// is resolved once per run into the chain of nodes from its top-level key
// down to itself, so checks chase pointers instead of hashing strings.
//
// Reservations (the claims of operations that must wait, see dispatch) are
// counted in the same nodes, stamped with the dispatch round; a node whose
// stamp is old has no reservations, so a round never has to clear them.
type lockTable struct {
	nodes map[string]*lockNode
}

type lockNode struct {
	here, sub   [3]int32 // held, by Mode: on this key; on it or below
	round       uint64   // the dispatch round rhere and rsub belong to
	rhere, rsub [3]int32 // reserved in that round
}

// claim is a Resource resolved against a lockTable.
type claim struct {
	mode  Mode
	chain []*lockNode // ancestors top-down, then the key's own node
}

func newLockTable() lockTable { return lockTable{nodes: map[string]*lockNode{}} }

func (t *lockTable) resolve(rs []Resource) []claim {
	cs := make([]claim, len(rs))
	for i, r := range rs {
		p := r.Key.path
		var chain []*lockNode
		for j := 0; j <= len(p); j++ {
			if j < len(p) && p[j] != '/' {
				continue
			}
			n := t.nodes[p[:j]]
			if n == nil {
				n = &lockNode{}
				t.nodes[p[:j]] = n
			}
			chain = append(chain, n)
		}
		cs[i] = claim{mode: r.Mode, chain: chain}
	}
	return cs
}

// blocked reports whether any of cs conflicts with a held claim, or with a
// claim reserved in round (0: ignore reservations). Claims of one request
// never conflict with each other: an operation may claim a disk and one of
// its partitions.
func blocked(cs []claim, round uint64) bool {
	for _, c := range cs {
		last := len(c.chain) - 1
		for i, n := range c.chain {
			resv := round != 0 && n.round == round
			if i < last {
				if conflictsWith(n.here, c.mode) || (resv && conflictsWith(n.rhere, c.mode)) {
					return true
				}
				continue
			}
			if conflictsWith(n.sub, c.mode) || (resv && conflictsWith(n.rsub, c.mode)) {
				return true
			}
		}
	}
	return false
}

func conflictsWith(counts [3]int32, m Mode) bool {
	return counts[Exclusive] > 0 || (m == Exclusive && counts[Shared] > 0)
}

func acquire(cs []claim) {
	for _, c := range cs {
		for _, n := range c.chain {
			n.sub[c.mode]++
		}
		c.chain[len(c.chain)-1].here[c.mode]++
	}
}

func release(cs []claim) {
	for _, c := range cs {
		for _, n := range c.chain {
			n.sub[c.mode]--
		}
		c.chain[len(c.chain)-1].here[c.mode]--
	}
}

func reserve(cs []claim, round uint64) {
	for _, c := range cs {
		for _, n := range c.chain {
			if n.round != round {
				n.round = round
				n.rhere, n.rsub = [3]int32{}, [3]int32{}
			}
			n.rsub[c.mode]++
		}
		c.chain[len(c.chain)-1].rhere[c.mode]++
	}
}

// The Resource-level forms, for tests and the fuzz target.

func (t *lockTable) canGrant(rs []Resource) bool { return !blocked(t.resolve(rs), 0) }
func (t *lockTable) acquire(rs []Resource)       { acquire(t.resolve(rs)) }
func (t *lockTable) release(rs []Resource)       { release(t.resolve(rs)) }

// empty reports whether nothing is held.
func (t *lockTable) empty() bool {
	for _, n := range t.nodes {
		if n.sub != [3]int32{} || n.here != [3]int32{} {
			return false
		}
	}
	return true
}

// normalize drops claims a request makes twice and keeps the stronger mode
// when it claims one key both ways, so the counts stay balanced.
func normalize(rs []Resource) []Resource {
	out := make([]Resource, 0, len(rs))
	for _, r := range rs {
		dup := false
		for i := range out {
			if out[i].Key == r.Key {
				out[i].Mode = max(out[i].Mode, r.Mode)
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}
