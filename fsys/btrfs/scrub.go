package btrfs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// ScrubStats are one device's scrub counters (struct btrfs_scrub_progress),
// named as `btrfs scrub status -R` prints them.
type ScrubStats struct {
	DataExtentsScrubbed uint64 `json:"data_extents_scrubbed"`
	TreeExtentsScrubbed uint64 `json:"tree_extents_scrubbed"`
	DataBytesScrubbed   uint64 `json:"data_bytes_scrubbed"`
	TreeBytesScrubbed   uint64 `json:"tree_bytes_scrubbed"`
	ReadErrors          uint64 `json:"read_errors"`
	CsumErrors          uint64 `json:"csum_errors"`
	VerifyErrors        uint64 `json:"verify_errors"`
	NoCsum              uint64 `json:"no_csum"`
	CsumDiscards        uint64 `json:"csum_discards"`
	SuperErrors         uint64 `json:"super_errors"`
	MallocErrors        uint64 `json:"malloc_errors"`
	UncorrectableErrors uint64 `json:"uncorrectable_errors"`
	UnverifiedErrors    uint64 `json:"unverified_errors"`
	CorrectedErrors     uint64 `json:"corrected_errors"`
	LastPhysical        uint64 `json:"last_physical"`
}

func statsOf(p fsioctl.BtrfsScrubProgress) ScrubStats {
	return ScrubStats{p.DataExtentsScrubbed, p.TreeExtentsScrubbed, p.DataBytesScrubbed, p.TreeBytesScrubbed,
		p.ReadErrors, p.CsumErrors, p.VerifyErrors, p.NoCsum, p.CsumDiscards, p.SuperErrors, p.MallocErrors,
		p.UncorrectableErrors, p.UnverifiedErrors, p.CorrectedErrors, p.LastPhysical}
}

// Errors is the sum of the error counters (what `btrfs scrub status`
// calls "Error summary" apart from corrected ones).
func (s ScrubStats) Errors() uint64 {
	return s.ReadErrors + s.CsumErrors + s.VerifyErrors + s.SuperErrors + s.MallocErrors + s.UncorrectableErrors + s.UnverifiedErrors
}

func (s *ScrubStats) add(o ScrubStats) {
	s.DataExtentsScrubbed += o.DataExtentsScrubbed
	s.TreeExtentsScrubbed += o.TreeExtentsScrubbed
	s.DataBytesScrubbed += o.DataBytesScrubbed
	s.TreeBytesScrubbed += o.TreeBytesScrubbed
	s.ReadErrors += o.ReadErrors
	s.CsumErrors += o.CsumErrors
	s.VerifyErrors += o.VerifyErrors
	s.NoCsum += o.NoCsum
	s.CsumDiscards += o.CsumDiscards
	s.SuperErrors += o.SuperErrors
	s.MallocErrors += o.MallocErrors
	s.UncorrectableErrors += o.UncorrectableErrors
	s.UnverifiedErrors += o.UnverifiedErrors
	s.CorrectedErrors += o.CorrectedErrors
}

// DeviceScrub is the state of one device's scrub.
type DeviceScrub struct {
	Devid    uint64     `json:"devid"`
	Path     string     `json:"path"`
	Used     int64      `json:"used_bytes"` // allocated on the device: what a full scrub reads at most
	Start    uint64     `json:"start"`      // where this run started (a resume: the last run's last_physical)
	Stats    ScrubStats `json:"stats"`
	Running  bool       `json:"running"`
	Canceled bool       `json:"canceled"`
	Finished bool       `json:"finished"`
	Err      string     `json:"error,omitempty"`
}

// ScrubStatus is a scrub of every device chosen.
type ScrubStatus struct {
	Devices []DeviceScrub `json:"devices"`
}

// Totals sums every device's counters (LastPhysical is left 0).
func (s ScrubStatus) Totals() ScrubStats {
	var t ScrubStats
	for _, d := range s.Devices {
		t.add(d.Stats)
	}
	return t
}

// Done and Total are bytes scrubbed so far and bytes allocated on the
// devices scrubbed, for a progress bar (a resumed scrub starts past 0).
func (s ScrubStatus) Done() int64 {
	t := s.Totals()
	return clamp(t.DataBytesScrubbed + t.TreeBytesScrubbed)
}

// Total is the allocated bytes of the devices scrubbed.
func (s ScrubStatus) Total() int64 {
	var n int64
	for _, d := range s.Devices {
		n += d.Used
	}
	return n
}

// Canceled reports whether any device's scrub was cancelled.
func (s ScrubStatus) Canceled() bool {
	for _, d := range s.Devices {
		if d.Canceled {
			return true
		}
	}
	return false
}

// Resume is the start offsets a resumed scrub takes: each cancelled
// device's last_physical; finished devices are left out.
func (s ScrubStatus) Resume() map[uint64]uint64 {
	out := map[uint64]uint64{}
	for _, d := range s.Devices {
		if d.Canceled {
			out[d.Devid] = d.Stats.LastPhysical
		}
	}
	return out
}

// ScrubOptions choose what a scrub does.
type ScrubOptions struct {
	// ReadOnly only counts errors; otherwise the kernel repairs what a good
	// copy exists for (RAID1, DUP, ...).
	ReadOnly bool `json:"read_only"`
	// Devids limits the scrub to these devices; nil is every device.
	Devids []uint64 `json:"devids,omitempty"`
	// Start resumes: a device listed starts at that physical offset (the
	// last_physical a cancelled run reported), and one not listed is
	// skipped. nil scrubs every chosen device from 0.
	Start map[uint64]uint64 `json:"start,omitempty"`
	// Interval is how often progress is polled (default 1s).
	Interval time.Duration `json:"-"`
}

// ErrScrubRunning: a scrub already runs on the filesystem.
var ErrScrubRunning = errors.New("btrfs: a scrub is already running")

// Scrub scrubs the chosen devices, one BTRFS_IOC_SCRUB per device, all at
// once (each ioctl blocks until its device is done), polling
// BTRFS_IOC_SCRUB_PROGRESS every Interval and calling progress (which may
// be nil) with the state of all of them. When ctx ends, the kernel's scrub
// is cancelled (BTRFS_IOC_SCRUB_CANCEL); Scrub returns the counters with
// ctx's error, and the status's Resume says where to go on. It returns
// once every device's ioctl has returned.
func (f *FS) Scrub(ctx context.Context, o ScrubOptions, progress func(ScrubStatus)) (ScrubStatus, error) {
	if err := ctx.Err(); err != nil {
		return ScrubStatus{}, err
	}
	devs, err := f.Devices(ctx)
	if err != nil {
		return ScrubStatus{}, err
	}
	want := map[uint64]bool{}
	for _, id := range o.Devids {
		want[id] = true
	}
	var st ScrubStatus
	for _, d := range devs {
		if len(want) > 0 && !want[d.Devid] {
			continue
		}
		start := uint64(0)
		if o.Start != nil {
			s, ok := o.Start[d.Devid]
			if !ok {
				continue
			}
			start = s
		}
		st.Devices = append(st.Devices, DeviceScrub{Devid: d.Devid, Path: d.Path, Used: d.Used, Start: start, Running: true})
	}
	if len(st.Devices) == 0 {
		return st, fmt.Errorf("%w: no device to scrub (devids %v, resume %v)", ErrInvalid, o.Devids, o.Start)
	}
	interval := o.Interval
	if interval <= 0 {
		interval = time.Second
	}
	var mu sync.Mutex
	snapshot := func() ScrubStatus {
		mu.Lock()
		defer mu.Unlock()
		return ScrubStatus{Devices: append([]DeviceScrub(nil), st.Devices...)}
	}
	var wg sync.WaitGroup
	for i := range st.Devices {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mu.Lock()
			a := fsioctl.BtrfsScrubArgs{Devid: st.Devices[i].Devid, Start: st.Devices[i].Start, End: math.MaxUint64}
			mu.Unlock()
			if o.ReadOnly {
				a.Flags = fsioctl.BtrfsScrubReadonly
			}
			err := fsioctl.BtrfsScrub(f.fd, &a)
			mu.Lock()
			defer mu.Unlock()
			d := &st.Devices[i]
			d.Running = false
			d.Stats = statsOf(a.Progress)
			switch {
			case err == nil:
				d.Finished = true
			case errors.Is(err, unix.ECANCELED):
				d.Canceled = true
			case errors.Is(err, unix.EINPROGRESS):
				d.Err = ErrScrubRunning.Error()
			default:
				d.Err = wrap(f.mountpoint, err).Error()
			}
		}(i)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	cancelled := false
	for {
		select {
		case <-done:
			final := snapshot()
			if progress != nil {
				progress(final)
			}
			for _, d := range final.Devices {
				if d.Err == ErrScrubRunning.Error() {
					return final, fmt.Errorf("%w: device %d of %s", ErrScrubRunning, d.Devid, f.mountpoint)
				}
				if d.Err != "" {
					return final, fmt.Errorf("btrfs: scrub of device %d: %s", d.Devid, d.Err)
				}
			}
			if cancelled {
				return final, ctx.Err()
			}
			return final, nil
		case <-ctx.Done():
			if !cancelled {
				cancelled = true
				// ENOTCONN: it ended meanwhile, or a device's scrub has not
				// reached the kernel yet; the ticks below cancel again.
				_ = fsioctl.BtrfsScrubCancel(f.fd)
				tick.Reset(10 * time.Millisecond)
			}
		case <-tick.C:
			if cancelled {
				_ = fsioctl.BtrfsScrubCancel(f.fd)
			}
			mu.Lock()
			for i := range st.Devices {
				d := &st.Devices[i]
				if !d.Running {
					continue
				}
				a := fsioctl.BtrfsScrubArgs{Devid: d.Devid}
				if err := fsioctl.BtrfsScrubProgressOf(f.fd, &a); err == nil {
					d.Stats = statsOf(a.Progress)
				}
			}
			mu.Unlock()
			if progress != nil {
				progress(snapshot())
			}
		}
	}
}

// ScrubProgress reads the counters of the scrubs running now, one entry
// per device that has one (BTRFS_IOC_SCRUB_PROGRESS); ErrNotRunning when
// none does.
func (f *FS) ScrubProgress(ctx context.Context) (ScrubStatus, error) {
	devs, err := f.Devices(ctx)
	if err != nil {
		return ScrubStatus{}, err
	}
	var st ScrubStatus
	for _, d := range devs {
		a := fsioctl.BtrfsScrubArgs{Devid: d.Devid}
		err := fsioctl.BtrfsScrubProgressOf(f.fd, &a)
		if errors.Is(err, unix.ENOTCONN) {
			continue
		}
		if err != nil {
			return st, wrap(f.mountpoint, err)
		}
		st.Devices = append(st.Devices, DeviceScrub{Devid: d.Devid, Path: d.Path, Used: d.Used, Stats: statsOf(a.Progress), Running: true})
	}
	if len(st.Devices) == 0 {
		return st, fmt.Errorf("%w: no scrub on %s", ErrNotRunning, f.mountpoint)
	}
	return st, nil
}

// CancelScrub cancels the running scrub (whoever started it); the
// starting Scrub returns with every device Canceled. ErrNotRunning when
// none runs.
func (f *FS) CancelScrub(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := fsioctl.BtrfsScrubCancel(f.fd)
	if errors.Is(err, unix.ENOTCONN) {
		return fmt.Errorf("%w: no scrub on %s", ErrNotRunning, f.mountpoint)
	}
	return wrap(f.mountpoint, err)
}
