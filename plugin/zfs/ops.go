package zfs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Key is the scheduler key of a dataset: below the pool's, so a change to
// a pool as a whole conflicts with every change inside it.
func Key(pool, dataset string) sched.Key { return sched.Root("zfs", pool).Child("dataset", dataset) }

// step is one zfs command and the command that undoes it (nil: none).
type step struct{ do, undo []string }

// op is one operation running steps in order; if a step fails, the steps
// before it are undone, so a failed Execute leaves nothing behind, and
// Rollback undoes them all in reverse.
func (b *Backend) op(kind, id string, res []sched.Resource, steps ...step) sched.Operation {
	undo := func(ctx context.Context, done []step) error {
		var errs []error
		for i := len(done) - 1; i >= 0; i-- {
			if done[i].undo != nil {
				if err := b.t.runRetryBusy(ctx, done[i].undo...); err != nil {
					errs = append(errs, err)
				}
			}
		}
		return errors.Join(errs...)
	}
	o := sched.Operation{ID: "zfs." + kind + " " + id, Kind: "zfs." + kind, Resources: res,
		Execute: func(ctx context.Context, _ sched.Progress) error {
			for i, s := range steps {
				b.log.Debug("zfs", "op", kind, "id", id, "args", s.do)
				if err := b.t.runRetryBusy(ctx, s.do...); err != nil {
					if uerr := undo(context.WithoutCancel(ctx), steps[:i]); uerr != nil {
						return fmt.Errorf("%w (and undoing: %w)", err, uerr)
					}
					return err
				}
			}
			return nil
		}}
	if slicesAny(steps) {
		o.Rollback = func(ctx context.Context) error { return undo(ctx, steps) }
	}
	return o
}

func slicesAny(steps []step) bool {
	for _, s := range steps {
		if s.undo != nil {
			return true
		}
	}
	return false
}

func bytesArg(n int64) string { return strconv.FormatInt(n, 10) }

// free is what a thick volume could still take from the pool.
func (b *Backend) free(ctx context.Context, pool string) (int64, error) {
	p, err := b.t.get(ctx, nil, []string{"available"}, pool)
	if err != nil {
		return 0, err
	}
	return p.size(pool, "available")
}

func checkTags(tags []string) error {
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, ",\x00\n\t") || len(t) > 128 {
			return &plugin.InvalidError{Field: "tag", Value: t, Reason: "empty, too long, or contains ',' or a control character"}
		}
	}
	return nil
}

// CreateVolume makes a filesystem dataset (refquota and, when thick,
// refreservation of the size), a zvol (Kind TechBlock: volsize, sparse
// when thin), or a clone of a snapshot in the same pool.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if err := plugin.CheckName(limits, "name", req.Name); err != nil {
		return nil, err
	}
	if strings.ContainsAny(req.Pool, "/@\x00") || req.Pool == "" {
		return nil, &plugin.InvalidError{Field: "pool", Value: req.Pool, Reason: "not a pool name"}
	}
	if len(req.Pool)+1+len(req.Name)+1+limits.MaxNameLen > maxDatasetName {
		return nil, &plugin.InvalidError{Field: "name", Value: req.Name, Reason: fmt.Sprintf("pool/name@snapshot could pass ZFS's %d bytes", maxDatasetName)}
	}
	size, err := plugin.RoundSize(limits, "size", req.SizeBytes)
	if err != nil {
		return nil, err
	}
	if err := checkTags(req.Tags); err != nil {
		return nil, err
	}
	block := false
	switch req.Kind {
	case "", plugin.TechDirectory:
	case plugin.TechBlock:
		block = true
	default:
		return nil, &plugin.InvalidError{Field: "kind", Value: string(req.Kind), Reason: "want block or directory"}
	}
	var srcVol string
	if req.FromSnapshot != "" {
		vol, sn, ok := strings.Cut(req.FromSnapshot, "@")
		pool, _, err := splitID("from_snapshot", vol)
		if !ok || err != nil || plugin.CheckName(limits, "from_snapshot", sn) != nil {
			return nil, &plugin.InvalidError{Field: "from_snapshot", Value: req.FromSnapshot, Reason: "not pool/volume@snapshot"}
		}
		if pool != req.Pool {
			return nil, &plugin.InvalidError{Field: "from_snapshot", Value: req.FromSnapshot, Reason: "a ZFS clone stays in its snapshot's pool " + pool}
		}
		srcVol = vol
	}
	for _, need := range []struct {
		t  plugin.Technology
		on bool
	}{{plugin.TechVolume, true}, {plugin.TechBlock, block}, {plugin.TechDirectory, !block}, {plugin.TechThin, req.Thin}, {plugin.TechClone, srcVol != ""}} {
		if need.on {
			if err := b.require(ctx, need.t, plugin.ModeCreate); err != nil {
				return nil, err
			}
		}
	}
	if err := b.hasPool(ctx, req.Pool); err != nil {
		return nil, err
	}
	id := req.Pool + "/" + req.Name
	if v, err := b.Volume(ctx, id); err == nil {
		if v.SizeBytes == size && v.Thin == req.Thin && v.SnapshotOf == req.FromSnapshot && (v.Device != "") == block {
			return nil, nil
		}
		return nil, fmt.Errorf("zfs volume %q (%d bytes, thin %v, from %q): %w", id, v.SizeBytes, v.Thin, v.SnapshotOf, plugin.ErrExists)
	} else if !errors.Is(err, plugin.ErrNotFound) {
		return nil, err
	}
	if srcVol != "" {
		if _, err := b.t.get(ctx, nil, []string{"type"}, req.FromSnapshot); err != nil {
			return nil, err
		}
	}
	if !req.Thin {
		free, err := b.free(ctx, req.Pool)
		if err != nil {
			return nil, err
		}
		if size > free {
			return nil, fmt.Errorf("zfs volume %q: %d bytes, pool %s has %d: %w", id, size, req.Pool, free, plugin.ErrNoSpace)
		}
	}
	var opts []string
	if len(req.Tags) > 0 {
		opts = append(opts, "-o", TagsProperty+"="+strings.Join(req.Tags, ","))
	}
	var steps []step
	destroy := []string{"destroy", id}
	switch {
	case block && srcVol != "":
		steps = []step{{append(append([]string{"clone"}, opts...), req.FromSnapshot, id), destroy},
			{[]string{"set", "volsize=" + bytesArg(size), id}, nil}}
	case block:
		a := []string{"create"}
		if req.Thin {
			a = append(a, "-s")
		}
		a = append(append(a, "-V", bytesArg(size)), opts...)
		steps = []step{{append(a, id), destroy}}
	default:
		opts = append(opts, "-o", "refquota="+bytesArg(size))
		if !req.Thin {
			opts = append(opts, "-o", "refreservation="+bytesArg(size))
		}
		if srcVol != "" {
			steps = []step{{append(append([]string{"clone"}, opts...), req.FromSnapshot, id), destroy}}
		} else {
			steps = []step{{append(append([]string{"create"}, opts...), id), destroy}}
		}
	}
	res := []sched.Resource{Key(req.Pool, req.Name).Exclusive()}
	if srcVol != "" {
		_, sname, _ := strings.Cut(srcVol, "/")
		res = append(res, Key(req.Pool, sname).Shared())
	}
	return []sched.Operation{b.op("create", id, res, steps...)}, nil
}

// ResizeVolume sets refquota (and refreservation when thick) of a
// filesystem, or volsize of a zvol. Shrinking a filesystem below what it
// references is refused by zfs (ErrInUse); shrinking a zvol cuts its end
// off, as lvreduce does.
func (b *Backend) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	pool, name, err := splitID("volume", id)
	if err != nil {
		return nil, err
	}
	size, err := plugin.RoundSize(limits, "size", newBytes)
	if err != nil {
		return nil, err
	}
	if err := b.require(ctx, plugin.TechVolume, plugin.ModeModify); err != nil {
		return nil, err
	}
	v, err := b.Volume(ctx, id)
	if err != nil {
		return nil, err
	}
	old := v.SizeBytes
	switch {
	case size == old:
		return nil, nil
	case size < old:
		if err := b.require(ctx, plugin.TechShrink, plugin.ModeModify); err != nil {
			return nil, err
		}
	case !v.Thin:
		free, err := b.free(ctx, pool)
		if err != nil {
			return nil, err
		}
		if size-old > free {
			return nil, fmt.Errorf("zfs volume %q: %d more bytes, pool %s has %d: %w", id, size-old, pool, free, plugin.ErrNoSpace)
		}
	}
	set := func(prop string, to, from int64) step {
		return step{[]string{"set", prop + "=" + bytesArg(to), id}, []string{"set", prop + "=" + bytesArg(from), id}}
	}
	var steps []step
	switch {
	case v.Device != "":
		steps = []step{set("volsize", size, old)}
	case v.Thin:
		steps = []step{set("refquota", size, old)}
	case size > old: // the quota grows first, so it never sits below the reservation
		steps = []step{set("refquota", size, old), set("refreservation", size, old)}
	default:
		steps = []step{set("refreservation", size, old), set("refquota", size, old)}
	}
	return []sched.Operation{b.op("resize", id, []sched.Resource{Key(pool, name).Exclusive()}, steps...)}, nil
}

// DeleteVolume destroys a volume without snapshots (ErrInUse with them);
// an absent volume needs nothing.
func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	pool, name, err := splitID("volume", id)
	if err != nil {
		return nil, err
	}
	if err := b.require(ctx, plugin.TechVolume, plugin.ModeRemove); err != nil {
		return nil, err
	}
	if _, err := b.Volume(ctx, id); errors.Is(err, plugin.ErrNotFound) {
		if err := b.hasPool(ctx, pool); err != nil {
			return nil, err
		}
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	ss, err := b.Snapshots(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ss) > 0 {
		return nil, fmt.Errorf("zfs volume %q has %d snapshots (%s): %w", id, len(ss), ss[0].ID, plugin.ErrInUse)
	}
	return []sched.Operation{b.op("destroy", id, []sched.Resource{Key(pool, name).Exclusive()}, step{do: []string{"destroy", id}})}, nil
}

// CreateSnapshot takes volume@name; an existing one needs nothing.
func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error) {
	if err := plugin.CheckName(limits, "snapshot", name); err != nil {
		return nil, err
	}
	pool, vname, err := splitID("volume", volumeID)
	if err != nil {
		return nil, err
	}
	if err := b.require(ctx, plugin.TechSnapshot, plugin.ModeCreate); err != nil {
		return nil, err
	}
	if _, err := b.Volume(ctx, volumeID); err != nil {
		return nil, err
	}
	id := volumeID + "@" + name
	if _, err := b.t.get(ctx, nil, []string{"type"}, id); err == nil {
		return nil, nil
	} else if !errors.Is(err, plugin.ErrNotFound) {
		return nil, err
	}
	return []sched.Operation{b.op("snapshot", id, []sched.Resource{Key(pool, vname).Exclusive()},
		step{[]string{"snapshot", id}, []string{"destroy", id}})}, nil
}

// DeleteSnapshot destroys a snapshot no clone depends on (ErrInUse
// otherwise); an absent one needs nothing.
func (b *Backend) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	vol, sn, ok := strings.Cut(snapshotID, "@")
	if !ok {
		return nil, &plugin.InvalidError{Field: "snapshot", Value: snapshotID, Reason: "not pool/volume@name"}
	}
	if err := plugin.CheckName(limits, "snapshot", sn); err != nil {
		return nil, err
	}
	pool, vname, err := splitID("snapshot", vol)
	if err != nil {
		return nil, err
	}
	if err := b.require(ctx, plugin.TechSnapshot, plugin.ModeRemove); err != nil {
		return nil, err
	}
	if _, err := b.t.get(ctx, nil, []string{"type"}, snapshotID); errors.Is(err, plugin.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	vols, err := b.Volumes(ctx, pool)
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		if v.SnapshotOf == snapshotID {
			return nil, fmt.Errorf("zfs snapshot %q has clone %q: %w", snapshotID, v.ID, plugin.ErrInUse)
		}
	}
	return []sched.Operation{b.op("destroy-snapshot", snapshotID, []sched.Resource{Key(pool, vname).Exclusive()},
		step{do: []string{"destroy", snapshotID}})}, nil
}
