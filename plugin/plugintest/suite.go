package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Options says what the suite may use.
type Options struct {
	// Pool is the pool the suite creates its volumes in (required). It
	// should be empty of volumes named "pt-..." and have room for about
	// 20 Units of thick volumes.
	Pool string
	// Unit is the size the suite's volumes are built from; zero means the
	// backend's Granularity or MinSize, whichever is larger.
	Unit int64
	// Kind is passed as CreateRequest.Kind ("" for the backend's default).
	Kind plugin.Technology
	// Concurrency is how many goroutines create volumes at once (8 if 0).
	Concurrency int
	// Timeout bounds each check (2 minutes if 0).
	Timeout time.Duration
}

// check is one part of the suite; it returns every failure it found.
type check struct {
	name string
	fn   func(e *env) error
}

var checks = []check{
	{"capabilities", checkCapabilities},
	{"pools", checkPools},
	{"create", checkCreate},
	{"thin", checkThin},
	{"resize", checkResize},
	{"names", checkNames},
	{"sizes", checkSizes},
	{"notfound", checkNotFound},
	{"snapshots", checkSnapshots},
	{"clone", checkClone},
	{"concurrent", checkConcurrent},
	{"data", checkData},
}

// Run runs the conformance suite against one backend from newBackend, each
// check as a subtest. Every capability the backend declares available is
// exercised and must work; one declared unavailable must be refused with
// ErrNotSupported. Nothing is skipped.
func Run(t *testing.T, newBackend func(t *testing.T) plugin.Backend, o Options) {
	t.Helper()
	b := newBackend(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := runCheck(context.Background(), b, o, c); err != nil {
				t.Error(err)
			}
		})
	}
}

// results runs every check and returns the failures by check name (the
// self-test's view of Run).
func results(ctx context.Context, b plugin.Backend, o Options) map[string]error {
	out := map[string]error{}
	for _, c := range checks {
		if err := runCheck(ctx, b, o, c); err != nil {
			out[c.name] = err
		}
	}
	return out
}

func runCheck(ctx context.Context, b plugin.Backend, o Options, c check) (err error) {
	if o.Pool == "" {
		return errors.New("plugintest: Options.Pool is empty")
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	e := &env{ctx: ctx, b: b, o: o, lim: b.Limits(), prefix: "pt-" + c.name}
	if o.Unit <= 0 {
		e.o.Unit = max(e.lim.Granularity, e.lim.MinSize, 1)
	}
	caps, cerr := b.Capabilities(ctx)
	if cerr != nil {
		return fmt.Errorf("Capabilities: %w", cerr)
	}
	e.caps = caps
	defer func() {
		if p := recover(); p != nil {
			err = errors.Join(err, fmt.Errorf("panic: %v", p))
		}
		err = errors.Join(err, e.cleanup())
	}()
	return c.fn(e)
}

type env struct {
	ctx    context.Context
	b      plugin.Backend
	o      Options
	lim    plugin.Limits
	caps   plugin.Capabilities
	prefix string
	mu     sync.Mutex
	errs   []error
}

func (e *env) can(t plugin.Technology, m plugin.Mode) bool { return e.caps.Can(t, m) }

// fail records a failure and lets the check go on.
func (e *env) fail(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, fmt.Errorf(format, args...))
}

func (e *env) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return errors.Join(e.errs...)
}

func (e *env) name(s string) string { return e.prefix + "-" + s }

func (e *env) apply(what string, ops []sched.Operation) error {
	if _, err := plugin.Apply(e.ctx, nil, ops); err != nil {
		return fmt.Errorf("%s: running its operations: %w", what, err)
	}
	return nil
}

func (e *env) req(name string, size int64) plugin.CreateRequest {
	return plugin.CreateRequest{Pool: e.o.Pool, Name: name, SizeBytes: size, Kind: e.o.Kind}
}

// create creates and returns the volume; any failure is returned.
func (e *env) create(req plugin.CreateRequest) (*plugin.Volume, error) {
	what := fmt.Sprintf("CreateVolume(%s, %d bytes, thin %v, from %q)", req.Name, req.SizeBytes, req.Thin, req.FromSnapshot)
	ops, err := e.b.CreateVolume(e.ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("%s of a new volume returned no operations", what)
	}
	if err := e.apply(what, ops); err != nil {
		return nil, err
	}
	v, err := e.b.Volume(e.ctx, req.Pool+"/"+req.Name)
	if err != nil {
		return nil, fmt.Errorf("%s ran, then Volume: %w", what, err)
	}
	return v, nil
}

// mutate runs ops from a call that must succeed with at least one.
func (e *env) mutate(what string, ops []sched.Operation, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(ops) == 0 {
		return fmt.Errorf("%s returned no operations for a change", what)
	}
	return e.apply(what, ops)
}

// none checks a call that must succeed with no operations (a repeat).
func (e *env) none(what string, ops []sched.Operation, err error) {
	if err != nil {
		e.fail("%s (a repeat): %v, want no error", what, err)
	} else if len(ops) != 0 {
		e.fail("%s (a repeat): %d operations, want none", what, len(ops))
	}
}

// refused checks a call that must fail with target before anything runs.
func (e *env) refused(what string, ops []sched.Operation, err error, target error) {
	switch {
	case err == nil:
		e.fail("%s: accepted (%d operations), want %v", what, len(ops), target)
		if len(ops) > 0 {
			if aerr := e.apply(what, ops); aerr != nil {
				e.fail("and running them: %v", aerr)
			}
		}
	case !errors.Is(err, target):
		e.fail("%s: %v, want an error matching %v", what, err, target)
	case len(ops) != 0:
		e.fail("%s: an error and %d operations", what, len(ops))
	}
}

// wantSize checks a volume's size against the request rounded as Limits say.
func (e *env) wantSize(what string, v *plugin.Volume, requested int64) {
	want, err := plugin.RoundSize(e.lim, "size", requested)
	if err != nil {
		e.fail("%s: %v", what, err)
		return
	}
	if v.SizeBytes < requested {
		e.fail("%s: size %d, less than the %d requested", what, v.SizeBytes, requested)
	}
	if g := e.lim.Granularity; g > 1 && v.SizeBytes%g != 0 {
		e.fail("%s: size %d is not a multiple of the granularity %d", what, v.SizeBytes, g)
	}
	if v.SizeBytes != want {
		e.fail("%s: size %d, want %d (%d rounded up to %d, at least %d)", what, v.SizeBytes, want, requested, e.lim.Granularity, e.lim.MinSize)
	}
}

// odd is a size that is not a multiple of the granularity when it is > 1.
func (e *env) odd(units int64) int64 {
	n := units * e.o.Unit
	if e.lim.Granularity > 1 {
		n += e.lim.Granularity / 2
	}
	return n
}

// cleanup removes what the check left behind: clones, snapshots, volumes.
func (e *env) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.o.Timeout)
	defer cancel()
	vols, err := e.b.Volumes(ctx, e.o.Pool)
	if err != nil {
		return errors.Join(e.err(), fmt.Errorf("cleanup: Volumes: %w", err))
	}
	var errs []error
	mine := func(v plugin.Volume) bool { return strings.HasPrefix(v.Name, e.prefix+"-") }
	del := func(id string, snap bool) {
		var ops []sched.Operation
		var err error
		if snap {
			ops, err = e.b.DeleteSnapshot(ctx, id)
		} else {
			ops, err = e.b.DeleteVolume(ctx, id)
		}
		if err == nil {
			_, err = plugin.Apply(ctx, nil, ops)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup of %s: %w", id, err))
		}
	}
	for _, v := range vols {
		if mine(v) && v.SnapshotOf != "" {
			del(v.ID, false)
		}
	}
	if e.can(plugin.TechSnapshot, plugin.ModeQuery) {
		for _, v := range vols {
			if !mine(v) || v.SnapshotOf != "" { // clones are gone already
				continue
			}
			snaps, err := e.b.Snapshots(ctx, v.ID)
			if err != nil {
				errs = append(errs, fmt.Errorf("cleanup: Snapshots(%s): %w", v.ID, err))
			}
			for _, s := range snaps {
				del(s.ID, true)
			}
		}
	}
	for _, v := range vols {
		if mine(v) && v.SnapshotOf == "" {
			del(v.ID, false)
		}
	}
	return errors.Join(append([]error{e.err()}, errs...)...)
}

func checkCapabilities(e *env) error {
	if len(e.caps) == 0 {
		e.fail("Capabilities is empty")
	}
	for _, c := range e.caps {
		if !c.Available && c.Reason == "" {
			e.fail("%s %s is unavailable without a reason", c.Technology, c.Mode)
		}
	}
	for _, m := range []plugin.Mode{plugin.ModeCreate, plugin.ModeRemove, plugin.ModeQuery} {
		if !e.can(plugin.TechVolume, m) {
			c, _ := e.caps.Lookup(plugin.TechVolume, m)
			e.fail("volume %s is unavailable (%s %s): there is nothing to exercise", m, c.Reason, c.MissingTool)
		}
	}
	if e.o.Kind != "" && !e.can(e.o.Kind, plugin.ModeCreate) {
		e.fail("Options.Kind %s is not available", e.o.Kind)
	}
	l := e.lim
	if l.MaxNameLen <= 0 || l.Granularity <= 0 || l.MinSize < 0 {
		e.fail("Limits %+v: MaxNameLen and Granularity must be positive", l)
	}
	if e.b.Name() == "" {
		e.fail("Name is empty")
	}
	return nil
}

func (e *env) pool() (*plugin.Pool, error) {
	ps, err := e.b.Pools(e.ctx)
	if err != nil {
		return nil, fmt.Errorf("Pools: %w", err)
	}
	for i := range ps {
		if ps[i].Name == e.o.Pool {
			return &ps[i], nil
		}
	}
	return nil, fmt.Errorf("Pools has no %q: %+v", e.o.Pool, ps)
}

func checkPools(e *env) error {
	p, err := e.pool()
	if err != nil {
		return err
	}
	if p.Backend != e.b.Name() {
		e.fail("pool %s: Backend %q, want %q", p.Name, p.Backend, e.b.Name())
	}
	if p.CapacityBytes <= 0 || p.FreeBytes < 0 || p.FreeBytes > p.CapacityBytes {
		e.fail("pool %s: capacity %d, free %d", p.Name, p.CapacityBytes, p.FreeBytes)
	}
	before := p.FreeBytes
	size := 4 * e.o.Unit
	v, err := e.create(e.req(e.name("p"), size))
	if err != nil {
		return err
	}
	p2, err := e.pool()
	if err != nil {
		return err
	}
	if p2.AllocatedBytes < v.SizeBytes {
		e.fail("pool %s: allocated %d after a volume of %d was made", p.Name, p2.AllocatedBytes, v.SizeBytes)
	}
	if !v.Thin && p2.FreeBytes > before-v.SizeBytes/2 {
		e.fail("pool %s: free %d before, %d after a thick volume of %d", p.Name, before, p2.FreeBytes, v.SizeBytes)
	}
	return nil
}

func checkCreate(e *env) error {
	name := e.name("v")
	req := e.req(name, e.odd(2))
	v, err := e.create(req)
	if err != nil {
		return err
	}
	id := e.o.Pool + "/" + name
	if v.ID != id || v.Name != name || v.Pool != e.o.Pool {
		e.fail("Volume: ID %q name %q pool %q, want %q, %q, %q", v.ID, v.Name, v.Pool, id, name, e.o.Pool)
	}
	e.wantSize("new volume", v, req.SizeBytes)
	e.checkListed(v)
	ops, err := e.b.CreateVolume(e.ctx, req)
	e.none("the same CreateVolume", ops, err)
	other := req
	other.SizeBytes = req.SizeBytes + 3*e.o.Unit
	ops, err = e.b.CreateVolume(e.ctx, other)
	e.refused("CreateVolume of an existing name with another size", ops, err, plugin.ErrExists)

	ops, err = e.b.DeleteVolume(e.ctx, id)
	if err := e.mutate("DeleteVolume", ops, err); err != nil {
		return err
	}
	if _, err := e.b.Volume(e.ctx, id); !errors.Is(err, plugin.ErrNotFound) {
		e.fail("Volume after delete: %v, want ErrNotFound", err)
	}
	if vs, err := e.b.Volumes(e.ctx, e.o.Pool); err != nil {
		e.fail("Volumes: %v", err)
	} else {
		for _, x := range vs {
			if x.ID == id {
				e.fail("Volumes lists %s after delete", id)
			}
		}
	}
	ops, err = e.b.DeleteVolume(e.ctx, id)
	e.none("DeleteVolume of a deleted volume", ops, err)
	// A kind declared unavailable is refused.
	for _, k := range []plugin.Technology{plugin.TechBlock, plugin.TechDirectory} {
		if _, listed := e.caps.Lookup(k, plugin.ModeCreate); listed && !e.can(k, plugin.ModeCreate) {
			r := e.req(e.name("k"), e.o.Unit)
			r.Kind = k
			ops, err := e.b.CreateVolume(e.ctx, r)
			e.refused(fmt.Sprintf("CreateVolume of kind %s, unavailable", k), ops, err, plugin.ErrNotSupported)
		}
	}
	return nil
}

// checkListed: v is in Volumes(pool) and Volumes("") as Volume(id) says.
func (e *env) checkListed(v *plugin.Volume) {
	for _, pool := range []string{e.o.Pool, ""} {
		vs, err := e.b.Volumes(e.ctx, pool)
		if err != nil {
			e.fail("Volumes(%q): %v", pool, err)
			continue
		}
		n := 0
		for _, x := range vs {
			if x.ID == v.ID {
				n++
				if x.SizeBytes != v.SizeBytes || x.Name != v.Name || x.Pool != v.Pool || x.Thin != v.Thin || x.SnapshotOf != v.SnapshotOf {
					e.fail("Volumes(%q) says %+v, Volume says %+v", pool, x, *v)
				}
			}
		}
		if n != 1 {
			e.fail("Volumes(%q) lists %s %d times", pool, v.ID, n)
		}
	}
}

func checkThin(e *env) error {
	req := e.req(e.name("t"), e.odd(2))
	req.Thin = true
	if !e.can(plugin.TechThin, plugin.ModeCreate) {
		ops, err := e.b.CreateVolume(e.ctx, req)
		e.refused("CreateVolume thin, thin unavailable", ops, err, plugin.ErrNotSupported)
		return nil
	}
	v, err := e.create(req)
	if err != nil {
		return err
	}
	if !v.Thin {
		e.fail("thin volume: Thin is false")
	}
	e.wantSize("thin volume", v, req.SizeBytes)
	e.checkListed(v)
	ops, err := e.b.CreateVolume(e.ctx, req)
	e.none("the same thin CreateVolume", ops, err)
	return nil
}

func checkResize(e *env) error {
	v, err := e.create(e.req(e.name("r"), 2*e.o.Unit))
	if err != nil {
		return err
	}
	if !e.can(plugin.TechVolume, plugin.ModeModify) {
		ops, err := e.b.ResizeVolume(e.ctx, v.ID, 4*e.o.Unit)
		e.refused("ResizeVolume, modify unavailable", ops, err, plugin.ErrNotSupported)
		return nil
	}
	grow := e.odd(4)
	ops, err := e.b.ResizeVolume(e.ctx, v.ID, grow)
	if err := e.mutate("ResizeVolume up", ops, err); err != nil {
		return err
	}
	if v, err = e.b.Volume(e.ctx, v.ID); err != nil {
		return err
	}
	e.wantSize("grown volume", v, grow)
	e.checkListed(v)
	ops, err = e.b.ResizeVolume(e.ctx, v.ID, v.SizeBytes)
	e.none("ResizeVolume to its size", ops, err)
	ops, err = e.b.ResizeVolume(e.ctx, v.ID, grow)
	e.none("ResizeVolume up again", ops, err)

	shrink := 3 * e.o.Unit
	ops, err = e.b.ResizeVolume(e.ctx, v.ID, shrink)
	if !e.can(plugin.TechShrink, plugin.ModeModify) {
		e.refused("ResizeVolume down, shrink unavailable", ops, err, plugin.ErrNotSupported)
		if v2, err := e.b.Volume(e.ctx, v.ID); err == nil && v2.SizeBytes != v.SizeBytes {
			e.fail("refused shrink changed the size: %d -> %d", v.SizeBytes, v2.SizeBytes)
		}
		return nil
	}
	if err := e.mutate("ResizeVolume down", ops, err); err != nil {
		return err
	}
	if v, err = e.b.Volume(e.ctx, v.ID); err != nil {
		return err
	}
	e.wantSize("shrunk volume", v, shrink)
	return nil
}

// badChar is a printable character the backend does not allow.
func (e *env) badChar() string {
	for _, c := range "!*@#$%^&()=~ ,;'" {
		if !strings.ContainsRune(e.lim.NameChars, c) {
			return string(c)
		}
	}
	return "\u00e9"
}

func (e *env) badNames() []string {
	return []string{"", ".", "..", "/", "a/b", "x\x00y", "-lead", "a" + e.badChar() + "b", strings.Repeat("n", e.lim.MaxNameLen+1)}
}

func checkNames(e *env) error {
	before, err := e.b.Volumes(e.ctx, e.o.Pool)
	if err != nil {
		return fmt.Errorf("Volumes: %w", err)
	}
	for _, n := range e.badNames() {
		ops, err := e.b.CreateVolume(e.ctx, e.req(n, e.o.Unit))
		e.refused(fmt.Sprintf("CreateVolume named %q", n), ops, err, plugin.ErrInvalid)
	}
	after, err := e.b.Volumes(e.ctx, e.o.Pool)
	if err != nil {
		return fmt.Errorf("Volumes: %w", err)
	}
	if len(after) != len(before) {
		e.fail("bad names changed the pool: %d volumes before, %d after", len(before), len(after))
	}
	long := e.prefix + "-"
	long += strings.Repeat("L", max(0, e.lim.MaxNameLen-len(long)))
	if len(long) > e.lim.MaxNameLen {
		return errors.Join(e.err(), fmt.Errorf("MaxNameLen %d is shorter than the suite's prefix", e.lim.MaxNameLen))
	}
	v, err := e.create(e.req(long, e.o.Unit))
	if err != nil {
		return fmt.Errorf("a name of MaxNameLen (%d) bytes: %w", len(long), err)
	}
	e.checkListed(v)
	if e.can(plugin.TechSnapshot, plugin.ModeCreate) {
		for _, n := range e.badNames() {
			ops, err := e.b.CreateSnapshot(e.ctx, v.ID, n)
			e.refused(fmt.Sprintf("CreateSnapshot named %q", n), ops, err, plugin.ErrInvalid)
		}
	}
	ops, err := e.b.DeleteVolume(e.ctx, v.ID)
	return e.mutate("DeleteVolume of the long name", ops, err)
}

func checkSizes(e *env) error {
	p, err := e.pool()
	if err != nil {
		return err
	}
	for _, n := range []int64{0, -1, -e.o.Unit} {
		ops, err := e.b.CreateVolume(e.ctx, e.req(e.name("s"), n))
		e.refused(fmt.Sprintf("CreateVolume of %d bytes", n), ops, err, plugin.ErrInvalid)
	}
	huge := p.CapacityBytes + p.FreeBytes + 16*e.o.Unit
	ops, err := e.b.CreateVolume(e.ctx, e.req(e.name("s"), huge))
	e.refused(fmt.Sprintf("CreateVolume of %d bytes, pool of %d", huge, p.CapacityBytes), ops, err, plugin.ErrNoSpace)
	if _, err := e.b.Volume(e.ctx, e.o.Pool+"/"+e.name("s")); !errors.Is(err, plugin.ErrNotFound) {
		e.fail("a refused CreateVolume left a volume: %v", err)
	}
	v, err := e.create(e.req(e.name("r"), e.o.Unit))
	if err != nil {
		return err
	}
	for _, n := range []int64{0, -1} {
		ops, err := e.b.ResizeVolume(e.ctx, v.ID, n)
		e.refused(fmt.Sprintf("ResizeVolume to %d bytes", n), ops, err, plugin.ErrInvalid)
	}
	if e.can(plugin.TechVolume, plugin.ModeModify) {
		ops, err = e.b.ResizeVolume(e.ctx, v.ID, huge)
		e.refused(fmt.Sprintf("ResizeVolume to %d bytes", huge), ops, err, plugin.ErrNoSpace)
	}
	return nil
}

func checkNotFound(e *env) error {
	id := e.o.Pool + "/" + e.name("absent")
	if _, err := e.b.Volume(e.ctx, id); !errors.Is(err, plugin.ErrNotFound) {
		e.fail("Volume(%s): %v, want ErrNotFound", id, err)
	}
	ops, err := e.b.ResizeVolume(e.ctx, id, 2*e.o.Unit)
	e.refused("ResizeVolume of an absent volume", ops, err, plugin.ErrNotFound)
	ops, err = e.b.DeleteVolume(e.ctx, id)
	e.none("DeleteVolume of an absent volume", ops, err)
	req := e.req(e.name("x"), e.o.Unit)
	req.Pool = "pt-no-such-pool"
	ops, err = e.b.CreateVolume(e.ctx, req)
	e.refused("CreateVolume in an absent pool", ops, err, plugin.ErrNotFound)
	if e.can(plugin.TechSnapshot, plugin.ModeCreate) {
		ops, err = e.b.CreateSnapshot(e.ctx, id, "s")
		e.refused("CreateSnapshot of an absent volume", ops, err, plugin.ErrNotFound)
	}
	return nil
}

func checkSnapshots(e *env) error {
	v, err := e.create(e.req(e.name("v"), 2*e.o.Unit))
	if err != nil {
		return err
	}
	if !e.can(plugin.TechSnapshot, plugin.ModeCreate) {
		ops, err := e.b.CreateSnapshot(e.ctx, v.ID, "s1")
		e.refused("CreateSnapshot, snapshots unavailable", ops, err, plugin.ErrNotSupported)
		return nil
	}
	ops, err := e.b.CreateSnapshot(e.ctx, v.ID, "s1")
	if err := e.mutate("CreateSnapshot", ops, err); err != nil {
		return err
	}
	var id string
	for _, vol := range []string{v.ID, ""} {
		ss, err := e.b.Snapshots(e.ctx, vol)
		if err != nil {
			return fmt.Errorf("Snapshots(%q): %w", vol, err)
		}
		n := 0
		for _, s := range ss {
			if s.Name == "s1" && s.SourceID == v.ID {
				n++
				id = s.ID
			} else if vol != "" {
				e.fail("Snapshots(%s) lists %+v", vol, s)
			}
		}
		if n != 1 {
			e.fail("Snapshots(%q) lists the snapshot %d times: %+v", vol, n, ss)
		}
	}
	if id == "" {
		return e.err()
	}
	ops, err = e.b.CreateSnapshot(e.ctx, v.ID, "s1")
	e.none("the same CreateSnapshot", ops, err)
	if _, err := e.b.Volume(e.ctx, v.ID); err != nil {
		e.fail("Volume after snapshot: %v", err)
	}
	if vs, err := e.b.Volumes(e.ctx, e.o.Pool); err == nil {
		for _, x := range vs {
			if strings.Contains(x.ID, "@") || x.Name == "s1" {
				e.fail("Volumes lists the snapshot as a volume: %+v", x)
			}
		}
	}
	ops, err = e.b.DeleteSnapshot(e.ctx, id)
	if err := e.mutate("DeleteSnapshot", ops, err); err != nil {
		return err
	}
	if ss, err := e.b.Snapshots(e.ctx, v.ID); err != nil || len(ss) != 0 {
		e.fail("Snapshots after delete: %+v, %v", ss, err)
	}
	ops, err = e.b.DeleteSnapshot(e.ctx, id)
	e.none("DeleteSnapshot of a deleted snapshot", ops, err)
	return nil
}

func checkClone(e *env) error {
	if !e.can(plugin.TechSnapshot, plugin.ModeCreate) {
		if e.can(plugin.TechClone, plugin.ModeCreate) {
			e.fail("clone declared without snapshots")
		}
		return nil
	}
	v, err := e.create(e.req(e.name("v"), 2*e.o.Unit))
	if err != nil {
		return err
	}
	ops, err := e.b.CreateSnapshot(e.ctx, v.ID, "c")
	if err := e.mutate("CreateSnapshot", ops, err); err != nil {
		return err
	}
	ss, err := e.b.Snapshots(e.ctx, v.ID)
	if err != nil || len(ss) != 1 {
		return fmt.Errorf("Snapshots: %+v, %v", ss, err)
	}
	req := e.req(e.name("c"), v.SizeBytes)
	req.FromSnapshot = ss[0].ID
	if !e.can(plugin.TechClone, plugin.ModeCreate) {
		ops, err := e.b.CreateVolume(e.ctx, req)
		e.refused("CreateVolume from a snapshot, clones unavailable", ops, err, plugin.ErrNotSupported)
		return nil
	}
	c, err := e.create(req)
	if err != nil {
		return err
	}
	if c.SnapshotOf != ss[0].ID {
		e.fail("clone: SnapshotOf %q, want %q", c.SnapshotOf, ss[0].ID)
	}
	e.checkListed(c)
	ops, err = e.b.CreateVolume(e.ctx, req)
	e.none("the same clone CreateVolume", ops, err)
	bad := req
	bad.Name = e.name("c2")
	bad.FromSnapshot = v.ID + "@pt-absent"
	ops, err = e.b.CreateVolume(e.ctx, bad)
	e.refused("CreateVolume from an absent snapshot", ops, err, plugin.ErrNotFound)
	return nil
}

func checkConcurrent(e *env) error {
	n := e.o.Concurrency
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = e.create(e.req(e.name(fmt.Sprint(i)), e.o.Unit))
		}(i)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	vs, err := e.b.Volumes(e.ctx, e.o.Pool)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, v := range vs {
		seen[v.Name] = true
	}
	for i := 0; i < n; i++ {
		if !seen[e.name(fmt.Sprint(i))] {
			e.fail("Volumes lacks %s after concurrent creates", e.name(fmt.Sprint(i)))
		}
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := e.o.Pool + "/" + e.name(fmt.Sprint(i))
			ops, err := e.b.DeleteVolume(e.ctx, id)
			errs[i] = e.mutate("DeleteVolume "+id, ops, err)
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkData writes into the volume's device or directory, grows it, and
// reads the data back.
func checkData(e *env) error {
	block, dir := e.can(plugin.TechBlock, plugin.ModeCreate), e.can(plugin.TechDirectory, plugin.ModeCreate)
	if !block && !dir {
		return nil
	}
	v, err := e.create(e.req(e.name("d"), 2*e.o.Unit))
	if err != nil {
		return err
	}
	pattern := bytes.Repeat([]byte("plugintest-data\n"), 256)
	var write func() error
	var read func() ([]byte, error)
	switch {
	case v.Device != "":
		write = func() error {
			f, err := os.OpenFile(v.Device, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.WriteAt(pattern, 0); err != nil {
				return err
			}
			return f.Sync()
		}
		read = func() ([]byte, error) {
			f, err := os.Open(v.Device)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			b := make([]byte, len(pattern))
			_, err = f.ReadAt(b, 0)
			return b, err
		}
	case v.Path != "":
		p := filepath.Join(v.Path, "plugintest.data")
		write = func() error { return os.WriteFile(p, pattern, 0o644) }
		read = func() ([]byte, error) { return os.ReadFile(p) }
	default:
		return fmt.Errorf("volume %s has neither Device nor Path, but block %v / directory %v are declared", v.ID, block, dir)
	}
	if err := write(); err != nil {
		return fmt.Errorf("writing into %s: %w", v.ID, err)
	}
	if !e.can(plugin.TechVolume, plugin.ModeModify) {
		return nil
	}
	ops, err := e.b.ResizeVolume(e.ctx, v.ID, 4*e.o.Unit)
	if err := e.mutate("ResizeVolume up", ops, err); err != nil {
		return err
	}
	if v2, err := e.b.Volume(e.ctx, v.ID); err != nil {
		return err
	} else if v2.Device != v.Device || v2.Path != v.Path {
		e.fail("grow moved the volume: %q %q -> %q %q", v.Device, v.Path, v2.Device, v2.Path)
	}
	got, err := read()
	if err != nil {
		return fmt.Errorf("reading after grow: %w", err)
	}
	if !bytes.Equal(got, pattern) {
		e.fail("data changed across a grow")
	}
	return nil
}
