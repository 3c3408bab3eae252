package safety

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
	"golang.org/x/sys/unix"
)

// Guarded describes a mutating operation for Guard: the scheduler's data
// plus the safety wrapping of its Execute and Rollback.
type Guarded struct {
	// Op carries ID, Kind, Priority, Resources, Dependencies, Timeout,
	// Retry and BatchKey to the scheduler; its Execute and Rollback are
	// ignored (use the fields below). Empty Resources default to an
	// exclusive claim on the target (sched.Disk(maj:min), or its partition).
	Op sched.Operation
	// Target is the device (or file) the operation writes.
	Target string
	// Preflight, when set, runs Check for that operation kind before every
	// attempt; a refusal fails the operation with a *RefusedError.
	Preflight     Op
	PreflightOpts []CheckOption
	// Exclusive keeps an O_EXCL descriptor (DeviceLock.Excl) for the
	// whole mutation; leave it false for operations that must open the
	// device themselves while it is claimed (an online resize).
	Exclusive bool
	// Intent is journaled before each attempt. Op defaults to Op.Kind, the
	// target identity is read from Target when Intent.Target.Path is empty.
	Intent Intent
	// Execute makes the change. m is its journaled mutation (call m.Step at
	// crash-relevant points), lock the held device.
	Execute func(ctx context.Context, m *Mutation, lock *DeviceLock, progress sched.Progress) error
	// Compensate undoes a successful Execute when the plan rolls back. When
	// it is nil or fails, the before-images are restored; when that fails,
	// the target is locked down.
	Compensate func(ctx context.Context, lock *DeviceLock) error
	// OnFailure, when set, is the first level of the undo of a failed
	// Execute: it brings the target back to a consistent old state by the
	// operation's own means (e2undo after a failed mkfs, a check after a
	// failed resize) and the mutation ends compensated. When it is nil or
	// fails, the before-images are restored; when there are none or that
	// fails, the target is locked down.
	OnFailure func(ctx context.Context, lock *DeviceLock, cause error) error
	// RollbackAllows are the preflight codes the forward mutation itself
	// makes true (pvcreate makes the target an lvm_member): its rollback's
	// preflight lets them through, journaled as overrides, and refuses on
	// everything else.
	RollbackAllows []Code
}

// Guard turns a Guarded into a sched.Operation whose Execute runs the
// preflight, takes the device lock, journals the intent and before-images,
// runs the change and journals its outcome, and, when Execute fails, undoes
// what it wrote (before-images, then lock-down), since the scheduler expects
// a failed Execute to leave nothing behind. Its Rollback is journaled as a
// mutation of its own and goes level by level: Compensate, the forward
// mutation's before-images, lock-down. The rollback's preflight is the
// forward one, except that undoing a format or a partition table (whose
// target is, by then, not empty) is checked as a wipe: unused, emptiness
// not required.
func Guard(j *Journal, g Guarded) (sched.Operation, error) {
	if j == nil || g.Execute == nil || g.Target == "" || g.Op.ID == "" {
		return sched.Operation{}, fmt.Errorf("%w: Guard needs a journal, an ID, a target and Execute", ErrInvalid)
	}
	if g.Preflight != "" && !g.Preflight.Valid() {
		return sched.Operation{}, fmt.Errorf("%w: preflight op %q", ErrInvalid, g.Preflight)
	}
	op := g.Op
	if op.Kind == "" {
		op.Kind = "safety.guarded"
	}
	if g.Intent.Op == "" {
		g.Intent.Op = op.Kind
	}
	// WithRoot among the preflight options also says where locking and
	// identification find sysfs and /dev.
	root, err := rootOf(g.PreflightOpts)
	if err != nil {
		return sched.Operation{}, err
	}
	if len(op.Resources) == 0 {
		key, err := targetKey(root, g.Target)
		if err != nil {
			return sched.Operation{}, err
		}
		op.Resources = []sched.Resource{key.Exclusive()}
	}
	var mu sync.Mutex
	var done *Mutation // the successful forward mutation
	op.Execute = func(ctx context.Context, progress sched.Progress) error {
		m, lock, err := g.begin(ctx, j, root, g.Intent, g.Preflight)
		if err != nil {
			return err
		}
		defer lock.Close()
		if err := g.Execute(ctx, m, lock, progress); err != nil {
			// A failed Execute must leave nothing behind: restore, or lock down.
			// The undo's error already carries Execute's (cause); when the
			// undo fails in any way the caller must know the target may
			// not be as it was.
			var undo func(context.Context) error
			if g.OnFailure != nil {
				cause := err
				undo = func(ctx context.Context) error { return g.OnFailure(ctx, lock, cause) }
			}
			if _, uerr := m.Undo(context.WithoutCancel(ctx), err, undo); uerr != nil {
				return uerr
			}
			return err
		}
		if err := m.Done(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		mu.Lock()
		done = m
		mu.Unlock()
		return nil
	}
	op.Rollback = func(ctx context.Context) error {
		mu.Lock()
		fwd := done
		mu.Unlock()
		if fwd == nil {
			return nil
		}
		in := g.Intent
		in.Op = op.Kind + ".rollback"
		in.Description = "undo of mutation " + fwd.ID()
		in.Overrides = nil
		// Undoing a format or a new table writes to a device that is, by
		// then, not empty: the undo needs it unused, as a wipe does.
		pre := g.Preflight
		if pre.needsEmpty() {
			pre = OpWipe
		}
		rg := g
		for _, code := range g.RollbackAllows {
			// What the forward mutation made (pvcreate's LVM label) must
			// not refuse its own undo; the override is journaled.
			rg.PreflightOpts = append(append([]CheckOption(nil), rg.PreflightOpts...),
				WithOverride(code, "made by mutation "+fwd.ID()+", which this undoes", "safety.Guard"))
		}
		m, lock, err := rg.begin(ctx, j, root, in, pre)
		if err != nil {
			return err
		}
		defer lock.Close()
		var cerr error
		if g.Compensate != nil {
			if cerr = g.Compensate(ctx, lock); cerr == nil {
				return m.Done(ctx)
			}
			m.Step(ctx, "compensate", cerr.Error())
		} else {
			cerr = errors.New("no compensation")
		}
		if len(fwd.images) > 0 {
			if rerr := j.restoreImages(ctx, fwd.intent.Target.Path, fwd.images); rerr == nil {
				m.Step(ctx, "restored", "before-images of "+fwd.ID())
				return m.Done(ctx)
			} else {
				cerr = errors.Join(cerr, fmt.Errorf("restore before-images of %s: %w", fwd.ID(), rerr))
			}
		}
		// Undoing the undo would restore the rollback's own before-images,
		// which are the forward mutation's "new" state: lock down instead.
		_, err = m.lockDown(cerr, "rollback failed: ")
		return err
	}
	return op, nil
}

// begin runs the preflight, locks the device and begins the mutation.
func (g *Guarded) begin(ctx context.Context, j *Journal, root sysfs.Root, in Intent, pre Op) (*Mutation, *DeviceLock, error) {
	if pre != "" {
		r, err := Check(ctx, g.Target, pre, append([]CheckOption{WithJournal(j)}, g.PreflightOpts...)...)
		if err != nil {
			return nil, nil, err
		}
		if !r.Allowed {
			return nil, nil, r.Err()
		}
		in.Overrides = append(in.Overrides, usedOverrides(r)...)
	}
	lock, err := lockDevice(ctx, root, g.Target, g.Exclusive)
	if err != nil {
		if errors.Is(err, ErrBusy) {
			err = fmt.Errorf("%w (%w)", err, sched.ErrRetryable)
		}
		return nil, nil, err
	}
	if in.Target.Path == "" {
		id, err := identityAt(ctx, root, g.Target, openDevice)
		if err != nil {
			lock.Close()
			return nil, nil, err
		}
		in.Target = id
	}
	m, err := j.Begin(ctx, in)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return m, lock, nil
}

func usedOverrides(r *Report) []Override {
	var out []Override
	for _, x := range r.Reasons {
		if x.Overridden {
			out = append(out, Override{Code: x.Code, Reason: x.Override})
		}
	}
	return out
}

// targetKey is the scheduler resource of a device: its disk, or the
// partition of its disk; a regular file is a resource of its own.
func targetKey(root sysfs.Root, path string) (sched.Key, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return sched.Key{}, fmt.Errorf("safety: %s: %w", path, os.NewSyscallError("stat", err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return sched.Root("file", path), nil
	}
	mm := fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	dir, err := filepath.EvalSymlinks(root.Sys("dev", "block", mm))
	if err != nil {
		return sched.Disk(mm), nil
	}
	pn, err := sysfs.ReadAttr(filepath.Join(dir, "partition"))
	if err != nil {
		return sched.Disk(mm), nil
	}
	disk, err := sysfs.ReadAttr(filepath.Join(filepath.Dir(dir), "dev"))
	n, perr := strconv.Atoi(pn)
	if err != nil || perr != nil {
		return sched.Disk(mm), nil
	}
	return sched.Disk(disk).Partition(n), nil
}

// TargetKey is the scheduler resource of the device at path, as Guard
// claims it by default: its disk (sched.Disk(maj:min)), the partition of
// its disk, or, for a regular file, a resource of its own. Packages that
// add finer claims (the filesystem on it, a mountpoint) build on this key.
// WithRoot among opts says where sysfs is read.
func TargetKey(path string, opts ...CheckOption) (sched.Key, error) {
	root, err := rootOf(opts)
	if err != nil {
		return sched.Key{}, err
	}
	return targetKey(root, path)
}
