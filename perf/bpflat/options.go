package bpflat

import (
	"log/slog"
	"slices"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// Option configures a Collector. Options are validated once, by New.
type Option func(*config) error

type config struct {
	root        sysfs.Root
	maxInFlight int
	maxSeries   int
	keep        func(string) bool
	window      int
	alpha       float64
	warmup      int
	rules       []Rule
	handlers    []AlertHandler
	revalidate  int
	log         *slog.Logger
	stages      []latency.Stage

	fail func(step string) error // tests: make New fail at a step
}

func defaults() config {
	return config{maxInFlight: 16384, maxSeries: 1024, window: 60, alpha: 0.05, warmup: 30, revalidate: 10,
		stages: []latency.Stage{latency.Total}}
}

// pair reports whether the stages need each request's issue time.
func (c *config) pair() bool {
	return slices.Contains(c.stages, latency.Device) || slices.Contains(c.stages, latency.Queue)
}

// WithStages chooses the stages measured. The default is Total alone
// (creation to completion, the time iostat's await averages): one program
// on block_rq_complete. Device and Queue split it at the request's issue
// to the driver; they need each request's issue time, and so a second
// program (on block_rq_issue) and the in-flight table, which costs about
// twice as much per request: WithStages(latency.Stages...) measures all
// three.
func WithStages(stages ...latency.Stage) Option {
	return func(c *config) error {
		if len(stages) == 0 {
			return optErr("no stages")
		}
		for _, s := range stages {
			if s < latency.Device || s > latency.Total {
				return optErr("unknown stage %d", s)
			}
		}
		c.stages = slices.Clone(stages)
		return nil
	}
}

// WithRoot names devices from /sys under dir instead of the live system
// (a container's view of /sys). The programs always run in the live kernel.
func WithRoot(dir string) Option {
	return func(c *config) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return optErr("root: %v", err)
		}
		c.root = r
		return nil
	}
}

// WithMaxInFlight sizes the kernel's table of issued requests (default
// 16384, about 1.2 MiB of kernel memory). It is an LRU table: when more
// requests are in flight than it holds, the oldest entries give way and
// those requests' completions count as Stats.Unmatched.
func WithMaxInFlight(n int) Option {
	return func(c *config) error {
		if n < 64 || n > 1<<22 {
			return optErr("max in flight %d not in [64, 4194304]", n)
		}
		c.maxInFlight = n
		return nil
	}
}

// WithMaxSeries bounds the (device, operation) pairs the kernel keeps
// histograms for (default 1024; each takes about 12.5 KiB once it is used).
// Requests of pairs beyond it count as Stats.HistogramsFull.
func WithMaxSeries(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1<<16 {
			return optErr("max series %d not in [1, 65536]", n)
		}
		c.maxSeries = n
		return nil
	}
}

// WithDeviceFilter measures only devices for which keep returns true (by
// their kernel name, a whole disk's: requests of a partition count for its
// disk). The filter runs in the kernel too: New, and every Read and
// Collect, put the devices of /sys/dev/block it keeps into a map the
// program consults, so a request of any other device costs the kernel a
// few loads and two map lookups, not a clock read or a histogram update. A
// device that appears (or starts to match) is measured from the next Read
// or Collect on; one that stops matching has its histograms deleted. keep
// is called with the collector's lock held, never concurrently.
func WithDeviceFilter(keep func(name string) bool) Option {
	return func(c *config) error {
		if keep == nil {
			return optErr("nil device filter")
		}
		c.keep = keep
		return nil
	}
}

// WithWindow sets how many Collect intervals Window merges (default 60).
func WithWindow(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1<<16 {
			return optErr("window %d not in [1, 65536]", n)
		}
		c.window = n
		return nil
	}
}

// WithBaseline sets the deviation rules' baseline factor and warm-up, as
// perf.WithBaseline does (default 0.05 and 30 intervals).
func WithBaseline(alpha float64, warmup int) Option {
	return func(c *config) error {
		if _, err := perf.NewBaseline(alpha, warmup); err != nil {
			return err
		}
		c.alpha, c.warmup = alpha, warmup
		return nil
	}
}

// WithRules adds alert rules on latency quantiles, evaluated at every
// Collect.
func WithRules(rules ...Rule) Option {
	return func(c *config) error { c.rules = append(c.rules, rules...); return nil }
}

// WithAlertHandler adds a handler for the rules' alerts. Handlers run in
// order on one goroutine of the collector, never on the caller of Collect.
func WithAlertHandler(h AlertHandler) Option {
	return func(c *config) error {
		if h == nil {
			return optErr("nil alert handler")
		}
		c.handlers = append(c.handlers, h)
		return nil
	}
}

// WithRevalidateEvery checks every n Collects that each device's number
// still belongs to the same device (its /sys/dev/block link and diskseq);
// a device that vanished or was replaced (a loop device attached to another
// file) has its histograms restarted (default 10; 0: only when a device
// first appears).
func WithRevalidateEvery(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return optErr("revalidate interval %d < 0", n)
		}
		c.revalidate = n
		return nil
	}
}

// WithLogger sets the logger (nil discards).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.log = l; return nil }
}

// withFailAt makes New fail with err right after the named step ("map
// eos_rq_starts", "program eos_rq_issue", "attach eos_rq_complete", ...),
// calling before (if not nil) first, while everything made so far is still
// open: the tests' way to check that nothing half-made is left behind.
func withFailAt(step string, err error, before func()) Option {
	return func(c *config) error {
		c.fail = func(s string) error {
			if s != step {
				return nil
			}
			if before != nil {
				before()
			}
			return err
		}
		return nil
	}
}
