package btrfs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// BalanceFilter chooses the chunks of one type a balance relocates and
// what it makes of them; the zero value takes every chunk as it is.
type BalanceFilter struct {
	// Usage, when set, takes only chunks at most this percent full (0..100).
	Usage *int `json:"usage,omitempty"`
	// Devid, when not 0, takes only chunks with a stripe on that device.
	Devid uint64 `json:"devid,omitempty"`
	// Convert, when set, rewrites the chunks to this profile (single, dup,
	// raid0, raid1, raid10, raid5, raid6, raid1c3, raid1c4).
	Convert string `json:"convert,omitempty"`
	// Soft skips chunks already of the Convert profile.
	Soft bool `json:"soft,omitempty"`
}

func (b *BalanceFilter) args() (fsioctl.BtrfsBalanceArgs, error) {
	var a fsioctl.BtrfsBalanceArgs
	if b.Usage != nil {
		if *b.Usage < 0 || *b.Usage > 100 {
			return a, fmt.Errorf("%w: usage filter %d%% (0..100)", ErrInvalid, *b.Usage)
		}
		a.Flags |= fsioctl.BtrfsBalanceArgsUsage
		a.Usage = uint64(*b.Usage)
	}
	if b.Devid != 0 {
		a.Flags |= fsioctl.BtrfsBalanceArgsDevid
		a.Devid = b.Devid
	}
	if b.Convert != "" {
		bits, err := profileBits(b.Convert)
		if err != nil {
			return a, err
		}
		a.Flags |= fsioctl.BtrfsBalanceArgsConvert
		a.Target = bits
		if b.Soft {
			a.Flags |= fsioctl.BtrfsBalanceArgsSoft
		}
	}
	return a, nil
}

// BalanceOptions choose which chunk types a balance takes and how. With
// all three nil every chunk of every type is balanced (a full balance).
// Metadata's filter applies to system chunks too when System is nil, as
// the btrfs tool does.
type BalanceOptions struct {
	Data     *BalanceFilter `json:"data,omitempty"`
	Metadata *BalanceFilter `json:"metadata,omitempty"`
	System   *BalanceFilter `json:"system,omitempty"`
	// Force allows reducing metadata redundancy (a convert to a weaker
	// profile) and a separate system filter.
	Force bool `json:"force,omitempty"`
	// Interval is how often progress is polled (default 1s).
	Interval time.Duration `json:"-"`
}

func (o BalanceOptions) ioctlArgs() (*fsioctl.BtrfsBalanceIoctlArgs, error) {
	a := &fsioctl.BtrfsBalanceIoctlArgs{}
	d, m, s := o.Data, o.Metadata, o.System
	if d == nil && m == nil && s == nil {
		d, m, s = &BalanceFilter{}, &BalanceFilter{}, &BalanceFilter{}
	}
	if s == nil && m != nil {
		s = m
	}
	var err error
	if d != nil {
		a.Flags |= fsioctl.BtrfsBalanceData
		if a.Data, err = d.args(); err != nil {
			return nil, err
		}
	}
	if m != nil {
		a.Flags |= fsioctl.BtrfsBalanceMetadata
		if a.Meta, err = m.args(); err != nil {
			return nil, err
		}
	}
	if s != nil {
		a.Flags |= fsioctl.BtrfsBalanceSystem
		if a.Sys, err = s.args(); err != nil {
			return nil, err
		}
	}
	if o.Force {
		a.Flags |= fsioctl.BtrfsBalanceForce
	}
	return a, nil
}

// BalanceStatus is a balance's state and chunk counts
// (struct btrfs_balance_progress): Expected is the estimate of chunks to
// relocate, Considered those looked at, Completed those relocated.
type BalanceStatus struct {
	Running         bool   `json:"running"`
	Paused          bool   `json:"paused"`
	PauseRequested  bool   `json:"pause_requested"`
	CancelRequested bool   `json:"cancel_requested"`
	Expected        uint64 `json:"expected"`
	Considered      uint64 `json:"considered"`
	Completed       uint64 `json:"completed"`
}

// State is "running", "paused", "pause requested", "cancel requested" or
// "done", as `btrfs balance status` words it.
func (s BalanceStatus) State() string {
	switch {
	case s.CancelRequested:
		return "cancel requested"
	case s.PauseRequested:
		return "pause requested"
	case s.Running:
		return "running"
	case s.Paused:
		return "paused"
	}
	return "done"
}

func statusOf(a *fsioctl.BtrfsBalanceIoctlArgs) BalanceStatus {
	return BalanceStatus{
		Running:         a.State&fsioctl.BtrfsBalanceStateRunning != 0,
		Paused:          a.State&fsioctl.BtrfsBalanceStateRunning == 0,
		PauseRequested:  a.State&fsioctl.BtrfsBalanceStatePauseReq != 0,
		CancelRequested: a.State&fsioctl.BtrfsBalanceStateCancelReq != 0,
		Expected:        a.Stat.Expected, Considered: a.Stat.Considered, Completed: a.Stat.Completed,
	}
}

// ErrBalancePaused: the balance was paused (by PauseBalance, from anywhere)
// and can be resumed.
var ErrBalancePaused = errors.New("btrfs: balance paused")

// Balance runs a balance (BTRFS_IOC_BALANCE_V2, which blocks until it ends)
// and polls BTRFS_IOC_BALANCE_PROGRESS every Interval, calling progress
// (may be nil). When ctx ends the balance is cancelled
// (BTRFS_IOC_BALANCE_CTL cancel: the chunk being moved is finished first)
// and ctx's error returned. A pause from elsewhere ends it with
// ErrBalancePaused; a cancel from elsewhere with unix.ECANCELED wrapped.
func (f *FS) Balance(ctx context.Context, o BalanceOptions, progress func(BalanceStatus)) (BalanceStatus, error) {
	a, err := o.ioctlArgs()
	if err != nil {
		return BalanceStatus{}, err
	}
	return f.runBalance(ctx, a, o.Interval, progress)
}

// ResumeBalance resumes a paused balance (BALANCE_V2 with
// BTRFS_BALANCE_RESUME), as Balance runs it. ErrNotRunning when there is
// none to resume.
func (f *FS) ResumeBalance(ctx context.Context, interval time.Duration, progress func(BalanceStatus)) (BalanceStatus, error) {
	st, err := f.BalanceProgress(ctx)
	if err != nil {
		return st, err
	}
	if st.Running {
		return st, fmt.Errorf("%w: the balance on %s is running, not paused", ErrInvalid, f.mountpoint)
	}
	return f.runBalance(ctx, &fsioctl.BtrfsBalanceIoctlArgs{Flags: fsioctl.BtrfsBalanceResume}, interval, progress)
}

func (f *FS) runBalance(ctx context.Context, a *fsioctl.BtrfsBalanceIoctlArgs, interval time.Duration, progress func(BalanceStatus)) (BalanceStatus, error) {
	if err := ctx.Err(); err != nil {
		return BalanceStatus{}, err
	}
	if interval <= 0 {
		interval = time.Second
	}
	errc := make(chan error, 1)
	go func() { errc <- fsioctl.BtrfsBalance(f.fd, a) }()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	cancelled := false
	last := BalanceStatus{Running: true}
	for {
		select {
		case err := <-errc:
			final := BalanceStatus{Expected: a.Stat.Expected, Considered: a.Stat.Considered, Completed: a.Stat.Completed}
			if err == nil && progress != nil {
				progress(final)
			}
			switch {
			case err == nil:
				return final, nil
			case cancelled:
				return final, ctx.Err()
			case errors.Is(err, unix.ECANCELED):
				if st, perr := f.BalanceProgress(context.WithoutCancel(ctx)); perr == nil && st.Paused {
					return st, fmt.Errorf("%w on %s", ErrBalancePaused, f.mountpoint)
				}
				return final, wrap(f.mountpoint, err)
			}
			return final, wrap(f.mountpoint, err)
		case <-ctx.Done():
			if !cancelled {
				cancelled = true
				// ENOTCONN: it ended, or has not reached the kernel yet;
				// the ticks below cancel again.
				_ = fsioctl.BtrfsBalanceCtl(f.fd, fsioctl.BtrfsBalanceCtlCancel)
				tick.Reset(10 * time.Millisecond)
			}
		case <-tick.C:
			if cancelled {
				_ = fsioctl.BtrfsBalanceCtl(f.fd, fsioctl.BtrfsBalanceCtlCancel)
			}
			if st, err := f.BalanceProgress(context.WithoutCancel(ctx)); err == nil {
				last = st
				if progress != nil {
					progress(last)
				}
			}
		}
	}
}

// BalanceProgress reads the running or paused balance's state and counts;
// ErrNotRunning when there is none.
func (f *FS) BalanceProgress(ctx context.Context) (BalanceStatus, error) {
	if err := ctx.Err(); err != nil {
		return BalanceStatus{}, err
	}
	a, err := fsioctl.BtrfsBalanceProgressOf(f.fd)
	if errors.Is(err, unix.ENOTCONN) {
		return BalanceStatus{}, fmt.Errorf("%w: no balance on %s", ErrNotRunning, f.mountpoint)
	}
	if err != nil {
		return BalanceStatus{}, wrap(f.mountpoint, err)
	}
	return statusOf(&a), nil
}

// PauseBalance asks the running balance to pause after the chunk it is
// moving; the balance's own ioctl returns then. ErrNotRunning when none
// runs.
func (f *FS) PauseBalance(ctx context.Context) error {
	return f.balanceCtl(ctx, fsioctl.BtrfsBalanceCtlPause)
}

// CancelBalance cancels the running or paused balance (after the chunk
// being moved). ErrNotRunning when there is none.
func (f *FS) CancelBalance(ctx context.Context) error {
	return f.balanceCtl(ctx, fsioctl.BtrfsBalanceCtlCancel)
}

func (f *FS) balanceCtl(ctx context.Context, cmd int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := fsioctl.BtrfsBalanceCtl(f.fd, cmd)
	if errors.Is(err, unix.ENOTCONN) {
		return fmt.Errorf("%w: no balance on %s", ErrNotRunning, f.mountpoint)
	}
	return wrap(f.mountpoint, err)
}
