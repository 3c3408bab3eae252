package sched

// lockTable counts the claims held on each key and, for every key, the
// claims held at or below it. With both counts a conflict check costs one map
// lookup per level of the key, however many claims are held elsewhere.
type lockTable struct {
	nodes map[string]*lockNode
}

type lockNode struct {
	here [3]int32 // by Mode: claims on exactly this key
	sub  [3]int32 // by Mode: claims on this key or below it
}

func newLockTable() lockTable { return lockTable{nodes: map[string]*lockNode{}} }

// canGrant reports whether all claims could be added without conflicting
// with what the table holds. Claims of one request never conflict with each
// other: an operation may well claim a disk and one of its partitions.
func (t *lockTable) canGrant(claims []Resource) bool {
	if len(t.nodes) == 0 {
		return true
	}
	for _, c := range claims {
		p := c.Key.path
		for i := 0; i < len(p); i++ {
			if p[i] != '/' {
				continue
			}
			if n := t.nodes[p[:i]]; n != nil {
				if n.here[Exclusive] > 0 || (c.Mode == Exclusive && n.here[Shared] > 0) {
					return false
				}
			}
		}
		n := t.nodes[p]
		if n == nil {
			continue
		}
		if n.sub[Exclusive] > 0 || (c.Mode == Exclusive && n.sub[Shared] > 0) {
			return false
		}
	}
	return true
}

func (t *lockTable) acquire(claims []Resource) {
	for _, c := range claims {
		t.walk(c.Key.path, func(n *lockNode) { n.sub[c.Mode]++ })
		t.node(c.Key.path).here[c.Mode]++
	}
}

func (t *lockTable) release(claims []Resource) {
	for _, c := range claims {
		t.nodes[c.Key.path].here[c.Mode]--
		p := c.Key.path
		for i := 0; i <= len(p); i++ {
			if i < len(p) && p[i] != '/' {
				continue
			}
			n := t.nodes[p[:i]]
			n.sub[c.Mode]--
			if n.sub[Shared] == 0 && n.sub[Exclusive] == 0 {
				delete(t.nodes, p[:i])
			}
		}
	}
}

// walk calls f on the node of every prefix of p, p included, creating them.
func (t *lockTable) walk(p string, f func(*lockNode)) {
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		f(t.node(p[:i]))
	}
}

func (t *lockTable) node(p string) *lockNode {
	n := t.nodes[p]
	if n == nil {
		n = &lockNode{}
		t.nodes[p] = n
	}
	return n
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
