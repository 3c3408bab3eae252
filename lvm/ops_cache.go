package lvm

import (
	"context"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// CacheAttachOp attaches cachePool to lv (lvconvert --type cache
// --cachepool); its undo splits the cache off again.
func (m *Manager) CacheAttachOp(ctx context.Context, vg, lv, cachePool string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpCacheAttach, vg: vg, desc: "cache " + vg + "/" + lv + " with " + cachePool,
		res:     []sched.Resource{m.lvKey(vg, lv), m.lvKey(vg, cachePool)},
		argv:    []string{"lvconvert", "-y", "--type", "cache", "--cachepool", vg + "/" + cachePool, vg + "/" + lv},
		inverse: []string{"lvconvert", "-y", "--splitcache", vg + "/" + lv}})
}

// CacheDetachOp detaches the cache of lv, keeping the cache pool
// (lvconvert --splitcache, which flushes dirty blocks first).
func (m *Manager) CacheDetachOp(ctx context.Context, vg, lv string, opts ...OpOption) (sched.Operation, error) {
	c, err := m.opConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.vgOp(ctx, c, vgChange{kind: OpCacheDetach, vg: vg, desc: "uncache " + vg + "/" + lv,
		res: []sched.Resource{m.lvKey(vg, lv)}, argv: []string{"lvconvert", "-y", "--splitcache", vg + "/" + lv}})
}
