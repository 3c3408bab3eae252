package zfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Name is the backend's registered name.
const Name = "zfs"

// TagsProperty is the user property a volume's tags are kept in.
const TagsProperty = "eos-storage:tags"

// maxDatasetName is ZFS's limit on a whole dataset or snapshot name
// (ZFS_MAX_DATASET_NAME_LEN 256, with its NUL).
const maxDatasetName = 255

var limits = plugin.Limits{MaxNameLen: 100, NameChars: "_-.:", Granularity: 1 << 20, MinSize: 1 << 20}

// volProps are the properties a volume is read from.
var volProps = []string{"type", "used", "available", "refquota", "refreservation", "volsize", "mountpoint", "mounted", "origin", TagsProperty}

// Backend is the in-tree ZFS backend: the volumes of a pool are the
// datasets directly below its root dataset, filesystems (directory
// volumes, refquota as the size) or zvols (block volumes, volsize). It is
// safe for concurrent use.
type Backend struct {
	t     *tool
	log   *slog.Logger
	pools []string // nil: every pool
}

// Option configures New.
type Option func(*Backend) error

// WithLogger logs each mutation as it runs, at debug level.
func WithLogger(l *slog.Logger) Option {
	return func(b *Backend) error {
		if l == nil {
			return errors.New("zfs: nil logger")
		}
		b.log = l
		return nil
	}
}

// WithPools offers only these pools (every imported pool otherwise).
func WithPools(names ...string) Option {
	return func(b *Backend) error {
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "/@ \t\n\x00") {
				return fmt.Errorf("zfs: pool name %q", n)
			}
		}
		b.pools = slices.Clone(names)
		return nil
	}
}

// New returns a backend running zpool and zfs through r. It runs nothing:
// a missing tool or daemon shows in Capabilities, never here.
func New(r command.Runner, opts ...Option) (*Backend, error) {
	if r == nil {
		return nil, errors.New("zfs: nil runner")
	}
	b := &Backend{t: &tool{r: r}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("zfs: nil Option")
		}
		if err := o(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Backend) Name() string          { return Name }
func (b *Backend) Limits() plugin.Limits { return limits }

var allModes = []plugin.Mode{plugin.ModeCreate, plugin.ModeRemove, plugin.ModeModify, plugin.ModeQuery}

// Capabilities asks the machine now. Every technology is unavailable, with
// the tool named, when zpool or zfs is missing; block volumes are
// unavailable on zfs-fuse, which has no zvols.
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	var reason, missing string
	var f flavor
	if n, err := b.t.missing(); n != "" {
		reason, missing = fmt.Sprintf("%s not found: %v", n, err), n
	} else if f, err = b.t.detect(ctx); err != nil {
		var tm *command.ToolMissingError
		if errors.As(err, &tm) {
			missing = tm.Tool
		}
		reason = "zpool list failed: " + err.Error()
	}
	var caps plugin.Capabilities
	add := func(t plugin.Technology, why string, modes ...plugin.Mode) {
		for _, m := range modes {
			c := plugin.Capability{Technology: t, Mode: m, Available: reason == "" && why == ""}
			if reason != "" {
				c.Reason, c.MissingTool = reason, missing
			} else {
				c.Reason = why
			}
			caps = append(caps, c)
		}
	}
	noZvols := ""
	if !f.zvols {
		noZvols = "zfs-fuse has no zvols (its zfs create -V is not implemented)"
	}
	add(plugin.TechVolume, "", allModes...)
	add(plugin.TechThin, "", allModes...)
	add(plugin.TechShrink, "", plugin.ModeModify)
	add(plugin.TechSnapshot, "", plugin.ModeCreate, plugin.ModeRemove, plugin.ModeQuery)
	add(plugin.TechClone, "", plugin.ModeCreate)
	add(plugin.TechDirectory, "", allModes...)
	add(plugin.TechBlock, noZvols, allModes...)
	return caps, nil
}

func (b *Backend) require(ctx context.Context, t plugin.Technology, m plugin.Mode) error {
	caps, err := b.Capabilities(ctx)
	if err != nil {
		return err
	}
	return plugin.Require(Name, caps, t, m)
}

func (b *Backend) offered(pool string) bool { return b.pools == nil || slices.Contains(b.pools, pool) }

// poolNames lists the imported pools this backend offers.
func (b *Backend) poolNames(ctx context.Context) ([]PoolRow, error) {
	rows, err := b.t.pools(ctx)
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for _, r := range rows {
		if b.offered(r.Name) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (b *Backend) hasPool(ctx context.Context, pool string) error {
	rows, err := b.poolNames(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.Name == pool {
			return nil
		}
	}
	return fmt.Errorf("zfs pool %q: %w", pool, plugin.ErrNotFound)
}

// Pools reports each pool's root dataset: capacity is its used plus
// available bytes (exact, from zfs get -p, on zfs-fuse too), free what a
// thick volume could still take.
func (b *Backend) Pools(ctx context.Context) ([]plugin.Pool, error) {
	rows, err := b.poolNames(ctx)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.Name
	}
	p, err := b.t.get(ctx, nil, []string{"used", "available"}, names...)
	if err != nil {
		return nil, err
	}
	vols, err := b.volumes(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make([]plugin.Pool, 0, len(names))
	for _, n := range names {
		used, err := p.size(n, "used")
		if err != nil {
			return nil, err
		}
		avail, err := p.size(n, "available")
		if err != nil {
			return nil, err
		}
		pl := plugin.Pool{Name: n, Backend: Name, CapacityBytes: used + avail, FreeBytes: avail, Thin: true}
		for _, v := range vols {
			if v.Pool == n {
				pl.AllocatedBytes += v.SizeBytes
			}
		}
		if pl.CapacityBytes > 0 {
			pl.OverProvisioning = float64(pl.AllocatedBytes) / float64(pl.CapacityBytes)
		}
		out = append(out, pl)
	}
	return out, nil
}

// splitID splits "pool/name" after checking it names a volume this
// backend could own.
func splitID(field, id string) (pool, name string, err error) {
	pool, name, ok := strings.Cut(id, "/")
	if !ok || pool == "" || strings.ContainsAny(id, "@\x00") || strings.Contains(name, "/") {
		return "", "", &plugin.InvalidError{Field: field, Value: id, Reason: "not pool/name"}
	}
	if err := plugin.CheckName(limits, field, name); err != nil {
		return "", "", err
	}
	return pool, name, nil
}

// volumes reads the volumes of the pools (their root's children).
func (b *Backend) volumes(ctx context.Context, pools []string) ([]plugin.Volume, error) {
	if len(pools) == 0 {
		return nil, nil
	}
	p, err := b.t.get(ctx, []string{"-d", "1"}, volProps, pools...)
	if err != nil {
		return nil, err
	}
	var out []plugin.Volume
	for _, n := range p.Names {
		pool, rest, ok := strings.Cut(n, "/")
		if !ok || strings.ContainsAny(rest, "/@") || !slices.Contains(pools, pool) {
			continue
		}
		v, err := toVolume(p, n)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, *v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// toVolume builds a volume from its properties; nil for a dataset that is
// not a filesystem or a zvol.
func toVolume(p *Props, name string) (*plugin.Volume, error) {
	m := p.By[name]
	pool, vname, _ := strings.Cut(name, "/")
	v := &plugin.Volume{ID: name, Name: vname, Pool: pool}
	var err error
	if v.UsedBytes, err = p.size(name, "used"); err != nil {
		return nil, err
	}
	resv, err := p.size(name, "refreservation")
	if err != nil {
		return nil, err
	}
	v.Thin = resv == 0
	switch m["type"] {
	case "filesystem":
		if v.SizeBytes, err = p.size(name, "refquota"); err != nil {
			return nil, err
		}
		if v.SizeBytes == 0 { // no quota: what it could grow to
			avail, err := p.size(name, "available")
			if err != nil {
				return nil, err
			}
			v.SizeBytes = v.UsedBytes + avail
		}
		if m["mounted"] == "yes" && strings.HasPrefix(m["mountpoint"], "/") {
			v.Path = m["mountpoint"]
		}
	case "volume":
		if v.SizeBytes, err = p.size(name, "volsize"); err != nil {
			return nil, err
		}
		v.Device = "/dev/zvol/" + name
	default:
		return nil, nil
	}
	if o := m["origin"]; o != "" && o != "-" {
		v.SnapshotOf = o
	}
	if t := m[TagsProperty]; t != "" && t != "-" {
		v.Tags = strings.Split(t, ",")
	}
	return v, nil
}

// Volumes lists a pool's volumes ("" for every offered pool).
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	rows, err := b.poolNames(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range rows {
		if pool == "" || r.Name == pool {
			names = append(names, r.Name)
		}
	}
	if pool != "" && len(names) == 0 {
		return nil, fmt.Errorf("zfs pool %q: %w", pool, plugin.ErrNotFound)
	}
	return b.volumes(ctx, names)
}

// Volume returns one volume by "pool/name".
func (b *Backend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	pool, _, err := splitID("volume", id)
	if err != nil {
		return nil, err
	}
	if !b.offered(pool) {
		return nil, fmt.Errorf("zfs pool %q: %w", pool, plugin.ErrNotFound)
	}
	p, err := b.t.get(ctx, nil, volProps, id)
	if err != nil {
		return nil, err
	}
	v, err := toVolume(p, id)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("zfs dataset %q is a %s: %w", id, p.By[id]["type"], plugin.ErrNotFound)
	}
	return v, nil
}

// Snapshots lists a volume's snapshots ("" for every offered volume).
func (b *Backend) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	args := []string{"list", "-H", "-t", "snapshot", "-o", "name"}
	if volumeID != "" {
		pool, _, err := splitID("volume", volumeID)
		if err != nil {
			return nil, err
		}
		if !b.offered(pool) {
			return nil, fmt.Errorf("zfs pool %q: %w", pool, plugin.ErrNotFound)
		}
		args = append(args, "-r", volumeID)
	}
	out, err := b.t.run(ctx, "zfs", args...)
	if err != nil {
		return nil, err
	}
	all, err := ParseNames(out)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range all {
		vol, _, ok := strings.Cut(n, "@")
		if !ok {
			return nil, &ParseError{What: "zfs list -t snapshot", Text: n, Reason: "not a snapshot name"}
		}
		pool, rest, ok := strings.Cut(vol, "/")
		if !ok || strings.Contains(rest, "/") || !b.offered(pool) || (volumeID != "" && vol != volumeID) {
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil, nil
	}
	p, err := b.t.get(ctx, nil, []string{"creation", "referenced"}, names...)
	if err != nil {
		return nil, err
	}
	ss := make([]plugin.Snapshot, 0, len(names))
	for _, n := range names {
		vol, sn, _ := strings.Cut(n, "@")
		s := plugin.Snapshot{ID: n, Name: sn, SourceID: vol, ReadOnly: true}
		if s.Size, err = p.size(n, "referenced"); err != nil {
			return nil, err
		}
		c, err := strconv.ParseInt(p.By[n]["creation"], 10, 64)
		if err != nil {
			return nil, &ParseError{What: "zfs get", Text: n + " creation=" + p.By[n]["creation"], Reason: "not seconds since the epoch"}
		}
		s.Created = time.Unix(c, 0).UTC()
		ss = append(ss, s)
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i].ID < ss[j].ID })
	return ss, nil
}
