package lvm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/dmioctl"
)

// PoolUsage is one sample of a thin pool's use, in bytes.
type PoolUsage struct {
	DataUsed, DataTotal int64
	MetaUsed, MetaTotal int64
	// Mode is the kernel's pool mode: "rw", "ro", "out_of_data_space",
	// "Fail" or "Error" ("" when the source cannot tell).
	Mode string
	// ErrorWhenFull: writes fail at once when the pool is full instead of
	// queueing (lvchange --errorwhenfull y; error_if_no_space).
	ErrorWhenFull bool
	NeedsCheck    bool
}

// DataPercent and MetaPercent are the use as lvs prints it.
func (u PoolUsage) DataPercent() float64 { return pct(u.DataUsed, u.DataTotal) }
func (u PoolUsage) MetaPercent() float64 { return pct(u.MetaUsed, u.MetaTotal) }

func pct(used, total int64) float64 {
	if total <= 0 {
		return 0
	}
	return float64(used) * 100 / float64(total)
}

// UsageSource samples a thin pool. The policy calls it once per interval
// per pool, from one goroutine.
type UsageSource interface {
	PoolUsage(ctx context.Context, vg, pool string) (PoolUsage, error)
}

// PoolLayout is what the policy needs besides the use: the room the VG has
// to grow the pool, and what the pool promised its thin LVs.
type PoolLayout struct {
	DataBytes, MetaBytes int64 // LV sizes of the pool's data and metadata
	VGFree               int64
	ExtentSize           int64
	ThinVirtual          int64 // sum of the virtual sizes of the pool's thin LVs
	Thins                int
	ErrorWhenFull        bool // lv_when_full is "error"
}

// LayoutSource reads a pool's layout. The policy reads it when it starts
// watching a pool, every WithLayoutRefresh, before every extension and on
// Admit.
type LayoutSource interface {
	PoolLayout(ctx context.Context, vg, pool string) (PoolLayout, error)
}

// ErrNotThinPool is a pool name that is not an active thin pool.
var ErrNotThinPool = errors.New("lvm: not an active thin pool")

// DMSource samples pools by ioctl on /dev/mapper/control (DM_TABLE_STATUS
// of the pool's "-tpool" device): no process per sample, and the kernel's
// own block counts rather than lvs's two-decimal percentages. It is safe
// for concurrent use.
type DMSource struct {
	mu     sync.Mutex
	c      *dmioctl.Control
	blocks map[string]uint64 // dm name -> data block size in sectors
}

// OpenDMSource opens /dev/mapper/control; it fails where device-mapper is
// not available (this repository's host test machines).
func OpenDMSource() (*DMSource, error) {
	c, err := dmioctl.Open()
	if err != nil {
		return nil, err
	}
	return &DMSource{c: c, blocks: map[string]uint64{}}, nil
}

// Close closes the control device.
func (s *DMSource) Close() error { return s.c.Close() }

// PoolUsage implements UsageSource. An active pool with thin LVs is the
// device "vg-pool-tpool"; lvm maps a pool without any as "vg-pool".
func (s *DMSource) PoolUsage(ctx context.Context, vg, pool string) (PoolUsage, error) {
	if err := ctx.Err(); err != nil {
		return PoolUsage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var firstErr error
	for _, name := range []string{DMName(vg, pool) + "-tpool", DMName(vg, pool)} {
		u, err := s.usage(name)
		if err == nil {
			return u, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return PoolUsage{}, fmt.Errorf("%w: %s/%s: %v", ErrNotThinPool, vg, pool, firstErr)
}

func (s *DMSource) usage(name string) (PoolUsage, error) {
	st, err := s.c.TableStatus(name, false)
	if err != nil {
		return PoolUsage{}, err
	}
	if len(st.Targets) != 1 || st.Targets[0].Type != "thin-pool" {
		return PoolUsage{}, fmt.Errorf("%s has no thin-pool target", name)
	}
	ps, err := ParseThinPoolStatus(st.Targets[0].Params)
	if err != nil {
		return PoolUsage{}, err
	}
	bs, ok := s.blocks[name]
	if !ok {
		tb, err := s.c.TableStatus(name, true)
		if err != nil {
			return PoolUsage{}, err
		}
		if len(tb.Targets) != 1 {
			return PoolUsage{}, fmt.Errorf("%s: %d table lines", name, len(tb.Targets))
		}
		if bs, err = thinPoolBlockSectors(tb.Targets[0].Params); err != nil {
			return PoolUsage{}, err
		}
		s.blocks[name] = bs
	}
	return usageFromStatus(ps, bs), nil
}

func usageFromStatus(ps ThinPoolStatus, blockSectors uint64) PoolUsage {
	b := int64(blockSectors) * 512
	return PoolUsage{
		DataUsed: int64(ps.UsedDataBlocks) * b, DataTotal: int64(ps.TotalDataBlocks) * b,
		MetaUsed: int64(ps.UsedMetaBlocks) * ThinMetadataBlockBytes, MetaTotal: int64(ps.TotalMetaBlocks) * ThinMetadataBlockBytes,
		Mode: ps.Mode, ErrorWhenFull: ps.ErrorIfNoSpace, NeedsCheck: ps.NeedsCheck,
	}
}

// ReportSource samples pools and reads their layout with one `lvs` of the
// pool's VG: data_percent and metadata_percent (two decimals, so the use is
// known to 0.01% of the pool), the pool's and its thin LVs' sizes, and the
// VG's free space. It is both sources where device-mapper ioctls are not
// available (or not allowed), and the policy's LayoutSource in any case.
type ReportSource struct{ t *Tool }

// NewReportSource reads pools through t.
func NewReportSource(t *Tool) (*ReportSource, error) {
	if t == nil {
		return nil, errors.New("lvm: nil tool")
	}
	return &ReportSource{t: t}, nil
}

const poolFields = "vg_name,lv_name,lv_attr,lv_size,lv_metadata_size,pool_lv,data_percent,metadata_percent,vg_free,vg_extent_size,lv_when_full"

type poolReport struct {
	usage  PoolUsage
	layout PoolLayout
}

func (s *ReportSource) read(ctx context.Context, vg, pool string) (poolReport, error) {
	rep, err := s.t.report(ctx, "lvs", "-a", "-o", poolFields, vg)
	if rep == nil {
		return poolReport{}, err
	}
	if err != nil {
		return poolReport{}, err
	}
	var out poolReport
	found := false
	for _, o := range rep.Report {
		for _, r := range o["lv"] {
			if r["vg_name"] != vg {
				continue
			}
			name := strings.Trim(r["lv_name"], "[]")
			if strings.Trim(r["pool_lv"], "[]") == pool && strings.HasPrefix(r["lv_attr"], "V") {
				out.layout.ThinVirtual += r.int64("lv_size")
				out.layout.Thins++
				continue
			}
			if name != pool {
				continue
			}
			a, err := ParseLVAttr(r["lv_attr"])
			if err != nil {
				return poolReport{}, err
			}
			if a.Type != 't' {
				return poolReport{}, fmt.Errorf("%w: %s/%s is lv_attr %s", ErrNotThinPool, vg, pool, a.Raw)
			}
			found = true
			l := &out.layout
			l.DataBytes, l.MetaBytes = r.int64("lv_size"), r.int64("lv_metadata_size")
			l.VGFree, l.ExtentSize = r.int64("vg_free"), r.int64("vg_extent_size")
			l.ErrorWhenFull = r["lv_when_full"] == "error"
			u := &out.usage
			u.DataTotal, u.MetaTotal = l.DataBytes, l.MetaBytes
			u.DataUsed = fromPercent(r.percent("data_percent"), l.DataBytes)
			u.MetaUsed = fromPercent(r.percent("metadata_percent"), l.MetaBytes)
			u.ErrorWhenFull = l.ErrorWhenFull
			switch {
			case a.State != 'a' && a.State != 'c':
				u.Mode = ""
			case a.Health == 'F':
				u.Mode = "Fail"
			case a.Health == 'M':
				u.Mode = "ro"
			case a.Health == 'D':
				u.Mode = "out_of_data_space"
			default:
				u.Mode = "rw"
			}
			u.NeedsCheck = a.State == 'c'
		}
	}
	if !found {
		return poolReport{}, fmt.Errorf("%w: %s/%s", ErrNotFound, vg, pool)
	}
	return out, nil
}

func fromPercent(p float64, total int64) int64 {
	if p <= 0 {
		return 0
	}
	return int64(math.Round(p * float64(total) / 100))
}

// PoolUsage implements UsageSource. An inactive pool has no use to report
// and is ErrNotThinPool.
func (s *ReportSource) PoolUsage(ctx context.Context, vg, pool string) (PoolUsage, error) {
	r, err := s.read(ctx, vg, pool)
	if err != nil {
		return PoolUsage{}, err
	}
	if r.usage.Mode == "" {
		return PoolUsage{}, fmt.Errorf("%w: %s/%s is not active", ErrNotThinPool, vg, pool)
	}
	return r.usage, nil
}

// PoolLayout implements LayoutSource.
func (s *ReportSource) PoolLayout(ctx context.Context, vg, pool string) (PoolLayout, error) {
	r, err := s.read(ctx, vg, pool)
	return r.layout, err
}
