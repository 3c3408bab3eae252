package lvm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

// A policy over a simulated 100 MiB pool filling at 2 MiB/s, with a clock
// the example moves: the policy extends the pool before it reaches 80%,
// predicts the time to full, and refuses a thin LV beyond the
// over-provisioning ratio. In production the sources are OpenDMSource and
// NewReportSource, the grower the lifecycle Manager or NewToolGrower, and
// Run drives the checks.
func ExamplePolicy() {
	pool := newFakePool(100, 8, 1024) // data MiB, metadata MiB, VG free MiB
	pool.thinVirtual = 100 << 20
	clk := newFakeClock()
	p, err := NewPolicy(pool, pool, WithGrower(pool), WithPolicyClock(clk), WithLookahead(10*time.Second),
		WithAlertHandler(func(e perf.AlertEvent) { fmt.Println("alert:", e.Rule, e.State) }))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := p.Watch(ctx, "vg0", "pool"); err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < 40; i++ {
		_ = p.Check(ctx)
		clk.Advance(time.Second)
		pool.write(2 << 20)
	}
	st, _ := p.Status("vg0", "pool")
	fmt.Printf("pool %d MiB, %.0f%% used, filling %.1f MiB/s, full in %v\n",
		st.Usage.DataTotal>>20, st.Usage.DataPercent(), st.DataRate/(1<<20), st.DataTimeToFull.Round(time.Second))
	for _, x := range st.Extensions {
		fmt.Printf("extended %s %d -> %d MiB\n", x.Space, x.From>>20, x.To>>20)
	}
	err = p.Admit(ctx, "vg0", "pool", 64<<20)
	var re *AdmitError
	if errors.As(err, &re) {
		fmt.Printf("refused: %s, ratio %.2f > %.2f\n", re.Code, re.Ratio, re.Limit)
	}
	// Output:
	// pool 128 MiB, 61% used, filling 2.0 MiB/s, full in 25s
	// extended data 100 -> 128 MiB
	// refused: over-provisioned, ratio 1.28 > 1.00
}
