package lvm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotAdmitted is a thin LV the policy does not admit; an *AdmitError says
// why.
var ErrNotAdmitted = errors.New("lvm: thin LV refused by the thin-pool policy")

// RefusalCode names why Admit refused.
type RefusalCode string

const (
	// RefusedInvalid: the requested size is not positive.
	RefusedInvalid RefusalCode = "invalid-size"
	// RefusedUnmonitored: the pool is not watched, or has not been sampled
	// successfully within three intervals, so nothing would keep it from
	// filling.
	RefusedUnmonitored RefusalCode = "unmonitored"
	// RefusedOverProvisioned: the thin LVs' virtual sizes would exceed the
	// over-provisioning ratio of the pool's data size.
	RefusedOverProvisioned RefusalCode = "over-provisioned"
	// RefusedCannotGrow: the pool needs space its VG does not have, or it
	// is out of data space or failed.
	RefusedCannotGrow RefusalCode = "cannot-grow"
)

// AdmitError is Admit's refusal, with numbers where they apply.
type AdmitError struct {
	VG, Pool string
	Code     RefusalCode
	Reason   string
	// For RefusedOverProvisioned: the virtual sizes after admitting, the
	// pool's data size, the ratio that gives and the limit.
	Virtual, PoolData int64
	Ratio, Limit      float64
}

func (e *AdmitError) Error() string {
	return fmt.Sprintf("lvm: thin LV in %s/%s refused (%s): %s", e.VG, e.Pool, e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrNotAdmitted) true.
func (e *AdmitError) Is(target error) bool { return target == ErrNotAdmitted }

// Admit says whether a new thin LV of newVirtualBytes may be created in
// vg/pool: nil, or a *AdmitError. It refuses when the pool is not
// watched (or its samples are failing), when the pool cannot grow or is
// full or failed, and when the sum of the thin LVs' virtual sizes with the
// new one would exceed the over-provisioning ratio of the pool's data size.
// It reads the layout fresh, so thin LVs created since the last check
// count.
func (p *Policy) Admit(ctx context.Context, vg, pool string, newVirtualBytes int64) error {
	refuse := func(c RefusalCode, format string, args ...any) error {
		return &AdmitError{VG: vg, Pool: pool, Code: c, Reason: fmt.Sprintf(format, args...)}
	}
	if newVirtualBytes <= 0 {
		return refuse(RefusedInvalid, "virtual size %d", newVirtualBytes)
	}
	p.mu.Lock()
	ps := p.pools[poolKey(vg, pool)]
	var lastAt = ps.lastAtOrZero()
	var cannot bool
	var mode string
	if ps != nil {
		cannot, mode = ps.cannotGrow, ps.last.Mode
	}
	p.mu.Unlock()
	now := p.clock.Now()
	switch {
	case ps == nil:
		return refuse(RefusedUnmonitored, "the pool is not watched by the policy")
	case lastAt.IsZero():
		return refuse(RefusedUnmonitored, "the pool has not been sampled yet")
	case now.Sub(lastAt) > 3*p.interval:
		return refuse(RefusedUnmonitored, "the last good sample is %v old (interval %v)", now.Sub(lastAt).Round(p.interval/10), p.interval)
	case cannot:
		return refuse(RefusedCannotGrow, "the pool needs space and its VG has none")
	case mode == "out_of_data_space" || mode == "Fail" || mode == "Error" || mode == "ro":
		return refuse(RefusedCannotGrow, "the pool is %s", mode)
	}
	l, err := p.layout.PoolLayout(ctx, vg, pool)
	if err != nil {
		return err
	}
	if l.DataBytes <= 0 {
		return refuse(RefusedUnmonitored, "the pool's data size is unknown")
	}
	virt := l.ThinVirtual + newVirtualBytes
	ratio := float64(virt) / float64(l.DataBytes)
	if ratio > p.overprov*(1+1e-12) {
		return &AdmitError{VG: vg, Pool: pool, Code: RefusedOverProvisioned, Virtual: virt, PoolData: l.DataBytes,
			Ratio: ratio, Limit: p.overprov,
			Reason: fmt.Sprintf("thin LVs would total %d bytes on %d bytes of pool data: ratio %.3f over the limit %.3f",
				virt, l.DataBytes, ratio, p.overprov)}
	}
	return nil
}

func (ps *poolState) lastAtOrZero() (t time.Time) {
	if ps == nil {
		return t
	}
	return ps.lastAt
}

// OverProvisioning is the largest ratio of thin virtual sizes to a pool's
// data size that Admit allows.
func (p *Policy) OverProvisioning() float64 { return p.overprov }
