package lvm

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

type alertLog struct {
	mu sync.Mutex
	ev []perf.AlertEvent
}

func (a *alertLog) handle(e perf.AlertEvent) { a.mu.Lock(); a.ev = append(a.ev, e); a.mu.Unlock() }

func (a *alertLog) find(rule string, st perf.AlertState) *perf.AlertEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := range a.ev {
		if a.ev[i].Rule == rule && a.ev[i].State == st {
			return &a.ev[i]
		}
	}
	return nil
}

func newTestPolicy(t *testing.T, f *fakePool, clk *fakeClock, grow bool, opts ...PolicyOption) (*Policy, *alertLog) {
	t.Helper()
	al := &alertLog{}
	o := []PolicyOption{WithPolicyClock(clk), WithAlertHandler(al.handle), WithLookahead(10 * time.Second)}
	if grow {
		o = append(o, WithGrower(f))
	}
	p, err := NewPolicy(f, f, append(o, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Watch(context.Background(), "vg", "pool"); err != nil {
		t.Fatal(err)
	}
	return p, al
}

// A steady fill of 2 MiB/s into a 100 MiB pool: the policy extends when
// the fitted rate says the pool reaches 80% within the 10 s lookahead, so
// the use never reaches the threshold and no write fails.
func TestPolicyExtendsBeforeThreshold(t *testing.T) {
	f := newFakePool(100, 8, 1024)
	clk := newFakeClock()
	p, al := newTestPolicy(t, f, clk, true)
	ctx := context.Background()
	maxPct, failed := 0.0, int64(0)
	for i := 0; i < 200; i++ {
		if err := p.Check(ctx); err != nil {
			t.Fatal(err)
		}
		f.get(func(f *fakePool) { maxPct = max(maxPct, pct(f.dataUsed, f.dataTotal)) })
		clk.Advance(time.Second)
		failed += f.write(2 << 20)
	}
	st, _ := p.Status("vg", "pool")
	t.Logf("after 400 MiB: %d data extensions, max use %.1f%%, pool %d MiB, first: %+v", st.DataExtends, maxPct, st.Usage.DataTotal>>20, st.Extensions[0])
	if failed != 0 {
		t.Fatalf("%d bytes of writes failed", failed)
	}
	if maxPct >= DefaultDataThreshold {
		t.Fatalf("use reached %.1f%%, the threshold is %v", maxPct, DefaultDataThreshold)
	}
	if st.DataExtends == 0 || st.MetaExtends != 0 {
		t.Fatalf("extends data %d meta %d", st.DataExtends, st.MetaExtends)
	}
	if !strings.Contains(st.Extensions[0].Reason, "reaches 80%") {
		t.Errorf("the first extension was not predictive: %q", st.Extensions[0].Reason)
	}
	if e := al.find("thinpool-data-high", perf.Firing); e != nil {
		t.Errorf("the data alert fired although the policy kept ahead: %+v", e)
	}
	if len(f.violations) > 0 {
		t.Fatal(f.violations)
	}
}

// A noisy fill (±3 MiB per sample around 1 MiB/s): the least-squares rate
// and the time to full come within a few percent of the truth, where the
// last difference alone would be off by up to 600%.
func TestPolicyPrediction(t *testing.T) {
	f := newFakePool(1024, 8, 0)
	clk := newFakeClock()
	p, _ := newTestPolicy(t, f, clk, false, WithHistory(30))
	ctx := context.Background()
	noise := []int64{3, -2, 1, -3, 2, 0, -1, 3, -2, 1}
	base := int64(100 << 20)
	for i := 0; i < 30; i++ {
		f.set(func(f *fakePool) { f.dataUsed = base + int64(i)<<20 + noise[i%len(noise)]<<20 })
		if err := p.Check(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	st, _ := p.Status("vg", "pool")
	rate := st.DataRate / (1 << 20)
	t.Logf("fitted %.3f MiB/s (true 1), time to full %v, to threshold %v", rate, st.DataTimeToFull, st.DataTimeToThreshold)
	if math.Abs(rate-1) > 0.1 {
		t.Fatalf("rate %.3f MiB/s, want 1 ± 0.1", rate)
	}
	left := float64(st.Usage.DataTotal-st.Usage.DataUsed) / (1 << 20)
	if got := st.DataTimeToFull.Seconds(); math.Abs(got-left)/left > 0.1 {
		t.Fatalf("time to full %.0f s, want %.0f s ± 10%%", got, left)
	}
	if st.MetaTimeToFull != NeverFull {
		t.Fatalf("metadata not filling, time to full %v", st.MetaTimeToFull)
	}
}

// Metadata fills, data does not: only the metadata grows (with its own
// threshold), and GrowPool keeps the data size (0).
func TestPolicyMetadataSeparate(t *testing.T) {
	f := newFakePool(100, 8, 1024)
	f.dataUsed = 50 << 20
	clk := newFakeClock()
	p, _ := newTestPolicy(t, f, clk, true, WithMetaThreshold(60), WithDataThreshold(90))
	ctx := context.Background()
	for i := 0; i < 60; i++ {
		f.set(func(f *fakePool) { f.metaUsed += 256 << 10 })
		if err := p.Check(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	st, _ := p.Status("vg", "pool")
	if st.MetaExtends == 0 || st.DataExtends != 0 {
		t.Fatalf("extends meta %d data %d", st.MetaExtends, st.DataExtends)
	}
	for _, g := range f.grows {
		if g.data != 0 {
			t.Fatalf("data grown with metadata: %+v", f.grows)
		}
	}
	if pm := st.Usage.MetaPercent(); pm >= 60 {
		t.Fatalf("metadata reached %.1f%%", pm)
	}
	// The spare counts: the VG lost twice the metadata growth.
	var lost int64
	f.get(func(f *fakePool) { lost = (1024 << 20) - f.vgFree; _ = lost; lost -= 2 * (f.metaTotal - 8<<20) })
	if lost != 0 {
		t.Fatalf("VG free accounting off by %d", lost)
	}
}

// No VG free space: the pool is switched to error-when-full and a critical
// alert fires; Admit refuses. When space returns the pool grows (at the
// next layout refresh), goes back to queueing and the alert resolves.
func TestPolicyExhaustedSwitchesErrorWhenFull(t *testing.T) {
	f := newFakePool(100, 8, 0)
	f.dataUsed = 85 << 20
	clk := newFakeClock()
	p, al := newTestPolicy(t, f, clk, true)
	ctx := context.Background()
	_ = p.Check(ctx)
	e := al.find(AlertCannotGrow, perf.Firing)
	if e == nil || e.Severity != perf.SeverityCritical || e.Device != "vg/pool" {
		t.Fatalf("no critical cannot-grow alert: %+v", al.ev)
	}
	if len(f.modeSets) != 1 || !f.modeSets[0] || !f.errorWhenFull {
		t.Fatalf("error-when-full not set: %v", f.modeSets)
	}
	st, _ := p.Status("vg", "pool")
	if !st.CannotGrow || !st.SwitchedErrorWhenFull {
		t.Fatalf("status %+v", st)
	}
	var re *AdmitError
	if err := p.Admit(ctx, "vg", "pool", 1<<20); !errors.As(err, &re) || re.Code != RefusedCannotGrow {
		t.Fatalf("Admit: %v", err)
	}
	// The same state again: no second switch, no second alert.
	clk.Advance(time.Second)
	_ = p.Check(ctx)
	if len(f.modeSets) != 1 || len(al.ev) != 2 { // cannot-grow + data-high
		t.Fatalf("repeated: modes %v alerts %+v", f.modeSets, al.ev)
	}
	f.set(func(f *fakePool) { f.vgFree = 100 << 20 })
	clk.Advance(time.Second)
	_ = p.Check(ctx)
	if len(f.grows) != 0 {
		t.Fatalf("re-planned before the layout refresh: %+v", f.grows)
	}
	clk.Advance(DefaultLayoutRefresh)
	_ = p.Check(ctx)
	if al.find(AlertCannotGrow, perf.Resolved) == nil {
		t.Fatalf("cannot-grow not resolved: %+v", al.ev)
	}
	if len(f.modeSets) != 2 || f.modeSets[1] || f.errorWhenFull {
		t.Fatalf("not switched back to queueing: %v", f.modeSets)
	}
}

// A pool already in error-when-full mode is left as it is.
func TestPolicyExhaustedAlreadyErrorWhenFull(t *testing.T) {
	f := newFakePool(100, 8, 0)
	f.dataUsed, f.errorWhenFull = 90<<20, true
	clk := newFakeClock()
	p, al := newTestPolicy(t, f, clk, true)
	_ = p.Check(context.Background())
	if len(f.modeSets) != 0 || al.find(AlertCannotGrow, perf.Firing) == nil {
		t.Fatalf("modes %v alerts %+v", f.modeSets, al.ev)
	}
}

func TestPolicyAdmit(t *testing.T) {
	f := newFakePool(100, 8, 1024)
	f.thinVirtual = 60 << 20
	clk := newFakeClock()
	p, _ := newTestPolicy(t, f, clk, true)
	ctx := context.Background()
	code := func(err error) RefusalCode {
		var re *AdmitError
		if err == nil {
			return ""
		}
		if !errors.As(err, &re) || !errors.Is(err, ErrNotAdmitted) {
			t.Fatalf("not a *AdmitError: %v", err)
		}
		return re.Code
	}
	if c := code(p.Admit(ctx, "vg", "other", 1)); c != RefusedUnmonitored {
		t.Fatalf("unwatched pool: %q", c)
	}
	if c := code(p.Admit(ctx, "vg", "pool", 1)); c != RefusedUnmonitored {
		t.Fatalf("never sampled: %q", c)
	}
	_ = p.Check(ctx)
	if c := code(p.Admit(ctx, "vg", "pool", 0)); c != RefusedInvalid {
		t.Fatalf("zero size: %q", c)
	}
	if err := p.Admit(ctx, "vg", "pool", 40<<20); err != nil {
		t.Fatalf("ratio 1.0 exactly: %v", err)
	}
	err := p.Admit(ctx, "vg", "pool", 50<<20)
	var re *AdmitError
	if code(err) != RefusedOverProvisioned || !errors.As(err, &re) || math.Abs(re.Ratio-1.1) > 1e-9 || re.Limit != 1 {
		t.Fatalf("over-provisioned: %v", err)
	}
	t.Log(err)
	p2, _ := newTestPolicy(t, f, clk, true, WithOverProvisioning(2))
	_ = p2.Check(ctx)
	if err := p2.Admit(ctx, "vg", "pool", 140<<20); err != nil {
		t.Fatalf("ratio 2: %v", err)
	}
	// Samples stop: three intervals later the pool counts as unmonitored.
	f.set(func(f *fakePool) { f.sampleErr = errors.New("gone") })
	for i := 0; i < 4; i++ {
		clk.Advance(time.Second)
		_ = p.Check(ctx)
	}
	if c := code(p.Admit(ctx, "vg", "pool", 1)); c != RefusedUnmonitored {
		t.Fatalf("stale: %q", c)
	}
	if len(p.Alerts()) == 0 || p.Alerts()[0].Rule != AlertSampleFailed {
		t.Fatalf("no unmonitored alert: %+v", p.Alerts())
	}
}

// The threshold alerts are perf rules: with no grower the data-high
// warning fires above 80%, the critical one above 95%, and the kernel's
// out-of-data-space mode raises its own critical alert; Unwatch resolves
// them with a reason.
func TestPolicyAlertsWithoutGrower(t *testing.T) {
	f := newFakePool(100, 8, 1024)
	clk := newFakeClock()
	p, al := newTestPolicy(t, f, clk, false)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		f.write(10 << 20)
		_ = p.Check(ctx)
		clk.Advance(time.Second)
	}
	for _, r := range []string{"thinpool-data-high", "thinpool-data-critical", AlertOutOfDataSpace} {
		if al.find(r, perf.Firing) == nil {
			t.Errorf("%s did not fire: %+v", r, al.ev)
		}
	}
	if al.find(AlertCannotGrow, perf.Firing) != nil || len(f.grows) != 0 {
		t.Fatalf("a watch-only policy acted: %v", f.grows)
	}
	p.Unwatch("vg", "pool")
	_ = p.Check(ctx)
	if e := al.find("thinpool-data-high", perf.Resolved); e == nil || e.Reason == "" {
		t.Fatalf("not resolved on unwatch: %+v", al.ev)
	}
}

func TestPolicyGrowFailure(t *testing.T) {
	f := newFakePool(100, 8, 1024)
	f.dataUsed, f.growErr = 90<<20, errors.New("lvextend: device busy")
	clk := newFakeClock()
	p, al := newTestPolicy(t, f, clk, true)
	if err := p.Check(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if al.find(AlertExtendFailed, perf.Firing) == nil || len(f.modeSets) != 0 {
		t.Fatalf("alerts %+v modes %v", al.ev, f.modeSets)
	}
}

func TestPolicyOptions(t *testing.T) {
	f := newFakePool(1, 1, 1)
	bad := []PolicyOption{
		WithPolicyInterval(time.Millisecond), WithDataThreshold(0), WithDataThreshold(100), WithMetaThreshold(-1),
		WithExtendStep(0, 20), WithExtendStep(20, 2000), WithOverProvisioning(0), WithOverProvisioning(math.Inf(1)),
		WithLookahead(-1), WithHistory(1), WithLayoutRefresh(0), WithGrowTimeout(0), WithGrower(nil), WithPolicyClock(nil), WithAlertHandler(nil),
		WithDataAlertRules(perf.Rule{Name: "x", Kind: perf.Threshold, Metric: perf.MetricIOPS, Above: 1}),
		WithMetaAlertRules(perf.Rule{Name: "", Kind: perf.Threshold, Above: 1}),
	}
	for i, o := range bad {
		if _, err := NewPolicy(f, f, o); err == nil {
			t.Errorf("option %d accepted", i)
		}
	}
	if _, err := NewPolicy(nil, f); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := NewPolicy(f, f, WithDataAlertRules(perf.Rule{Name: "d", Kind: perf.Threshold, Above: 50})); err != nil {
		t.Error(err)
	}
}

// Run samples every interval of its clock and returns on cancel, leaving
// no goroutine behind.
func TestPolicyRunStopsOnCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := newFakePool(100, 8, 1024)
	clk := newFakeClock()
	p, _ := newTestPolicy(t, f, clk, true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	for i := 0; i < 5; i++ {
		for clk.pending() == 0 {
			time.Sleep(time.Millisecond)
		}
		clk.Advance(time.Second)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if st, _ := p.Status("vg", "pool"); st.Samples < 5 {
		t.Fatalf("%d samples", st.Samples)
	}
}

// Whatever the fill, discards, VG free space, extent size and thresholds,
// the policy never asks for more than the VG has free (counting the
// metadata spare) and never for a smaller size.
func TestPolicyNeverBeyondFreeNeverShrinks(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ext := int64(1) << rapid.IntRange(20, 24).Draw(rt, "extentShift")
		f := &fakePool{dataTotal: ext * rapid.Int64Range(1, 64).Draw(rt, "dataExt"),
			metaTotal: ext * rapid.Int64Range(1, 8).Draw(rt, "metaExt"),
			vgFree:    ext * rapid.Int64Range(0, 200).Draw(rt, "freeExt"), extent: ext, mode: "rw"}
		clk := newFakeClock()
		p, err := NewPolicy(f, f, WithPolicyClock(clk), WithGrower(f),
			WithDataThreshold(rapid.Float64Range(50, 95).Draw(rt, "dthr")),
			WithMetaThreshold(rapid.Float64Range(50, 95).Draw(rt, "mthr")),
			WithExtendStep(rapid.Float64Range(1, 100).Draw(rt, "dstep"), rapid.Float64Range(1, 100).Draw(rt, "mstep")),
			WithLookahead(time.Duration(rapid.IntRange(0, 60).Draw(rt, "look"))*time.Second),
			WithHistory(rapid.IntRange(2, 20).Draw(rt, "hist")))
		if err != nil {
			rt.Fatal(err)
		}
		if err := p.Watch(context.Background(), "vg", "pool"); err != nil {
			rt.Fatal(err)
		}
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			d := rapid.Int64Range(-ext, 4*ext).Draw(rt, "dataDelta")
			m := rapid.Int64Range(-ext/8, ext/2).Draw(rt, "metaDelta")
			f.set(func(f *fakePool) {
				f.dataUsed = min(max(f.dataUsed+d, 0), f.dataTotal)
				f.metaUsed = min(max(f.metaUsed+m, 0), f.metaTotal)
			})
			var before PoolLayout
			before, _ = f.PoolLayout(context.Background(), "vg", "pool")
			_ = p.Check(context.Background())
			after, _ := f.PoolLayout(context.Background(), "vg", "pool")
			if after.DataBytes < before.DataBytes || after.MetaBytes < before.MetaBytes || after.VGFree < 0 {
				rt.Fatalf("shrank or overdrew: %+v -> %+v", before, after)
			}
			clk.Advance(time.Duration(rapid.IntRange(1, 5).Draw(rt, "dt")) * time.Second)
		}
		if len(f.violations) > 0 {
			rt.Fatal(f.violations)
		}
	})
}

func TestPlanGrowth(t *testing.T) {
	mib := int64(1 << 20)
	l := PoolLayout{DataBytes: 100 * mib, MetaBytes: 8 * mib, VGFree: 1024 * mib, ExtentSize: 4 * mib}
	d := space{name: "data", used: 80 * mib, total: 100 * mib, threshold: 80, step: 20}
	m := space{name: "metadata", used: 4 * mib, total: 8 * mib, threshold: 80, step: 20}
	// Slow fill: the step, rounded up to extents (20 MiB = 5 extents).
	if g := planGrowth(l, d, m, true, false, 10*time.Second); g.data != 120*mib || g.meta != 0 {
		t.Fatalf("step: %+v", g)
	}
	// Fast fill (10 MiB/s, lookahead 10 s): enough to stay under 80% for
	// 20 s: (80+200)/0.8 = 350 MiB.
	d.rate = 10 * float64(mib)
	if g := planGrowth(l, d, m, true, false, 10*time.Second); g.data != 352*mib {
		t.Fatalf("rate: %+v", g)
	}
	// 10 MiB free: metadata first, twice its growth (spare), data the rest.
	l.VGFree = 10 * mib
	if g := planGrowth(l, d, m, true, true, 10*time.Second); g.meta != 12*mib || g.data != 0 {
		t.Fatalf("tight: %+v", g)
	}
	l.VGFree = 0
	if g := planGrowth(l, d, m, true, true, 10*time.Second); g != (growthPlan{}) {
		t.Fatalf("none free: %+v", g)
	}
}

// blockingGrower holds every extension until released.
type blockingGrower struct {
	*fakePool
	started chan struct{}
	release chan struct{}
}

func (g *blockingGrower) GrowPool(ctx context.Context, vg, pool string, data, meta int64) error {
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.fakePool.GrowPool(ctx, vg, pool, data, meta)
}

// Under Run an extension does not stop the sampling: while lvm works the
// policy goes on sampling and alerting, starts no second extension of the
// same pool, and Run waits for the extension before it returns.
func TestPolicyRunSamplesWhileGrowing(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := newFakePool(100, 8, 1024)
	f.dataUsed = 90 << 20
	g := &blockingGrower{fakePool: f, started: make(chan struct{}, 4), release: make(chan struct{})}
	clk := newFakeClock()
	p, err := NewPolicy(f, f, WithPolicyClock(clk), WithGrower(g))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Watch(context.Background(), "vg", "pool"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-g.started
	for i := 0; i < 5; i++ {
		for clk.pending() == 0 {
			time.Sleep(time.Millisecond)
		}
		clk.Advance(time.Second)
	}
	for clk.pending() == 0 {
		time.Sleep(time.Millisecond)
	}
	st, _ := p.Status("vg", "pool")
	if st.Samples < 6 || len(g.started) != 0 {
		t.Fatalf("samples %d, extensions started meanwhile %d", st.Samples, len(g.started))
	}
	close(g.release)
	for st, _ := p.Status("vg", "pool"); st.DataExtends != 1; st, _ = p.Status("vg", "pool") {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// halfGrower, the first time, applies the metadata extension and then
// fails the data one, as ToolGrower would when the second lvextend fails.
type halfGrower struct {
	*fakePool
	failed bool
}

func (g *halfGrower) GrowPool(ctx context.Context, vg, pool string, data, meta int64) error {
	if g.failed {
		return g.fakePool.GrowPool(ctx, vg, pool, data, meta)
	}
	g.failed = true
	if meta > 0 {
		if err := g.fakePool.GrowPool(ctx, vg, pool, 0, meta); err != nil {
			return err
		}
	}
	if data > 0 {
		return errors.New("lvextend -L: killed")
	}
	return nil
}

// An extension that fails half-way (metadata grown, data not): the policy
// plans the next one from the layout as it now is, so the metadata is not
// grown again and nothing shrinks; the data is retried.
func TestPolicyPartialGrowFailure(t *testing.T) {
	f := newFakePool(100, 8, 1024)
	f.dataUsed, f.metaUsed = 85<<20, 7<<20
	clk := newFakeClock()
	p, err := NewPolicy(f, f, WithPolicyClock(clk), WithGrower(&halfGrower{fakePool: f}))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Watch(context.Background(), "vg", "pool"); err != nil {
		t.Fatal(err)
	}
	if err := p.Check(context.Background()); err == nil {
		t.Fatal("no error for the failed half")
	}
	var meta int64
	f.get(func(f *fakePool) { meta = f.metaTotal })
	if meta <= 8<<20 {
		t.Fatalf("metadata not grown: %d", meta)
	}
	clk.Advance(time.Second)
	_ = p.Check(context.Background())
	last := f.grows[len(f.grows)-1]
	if last.meta != 0 || last.data == 0 {
		t.Fatalf("second attempt %+v (metadata already %d)", last, meta)
	}
	if len(f.violations) > 0 {
		t.Fatal(f.violations)
	}
}

// A very slow fill of a very large pool: the time to the threshold is
// centuries, which as nanoseconds would overflow; no extension.
func TestPolicySlowFillNoOverflow(t *testing.T) {
	p := &Policy{lookahead: 30 * time.Second}
	need, why := p.needs(space{name: "data", used: 1 << 40, total: 1 << 50, threshold: 80, rate: 1e-3})
	if need {
		t.Fatalf("extended for a fill that reaches the threshold in centuries: %s", why)
	}
}
