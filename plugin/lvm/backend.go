package lvm

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lvm2 "github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Name is the backend's registered name.
const Name = "lvm"

const (
	// maxNameLen keeps a snapshot's LV name ("_" vol "+" snap) and its
	// device-mapper names within lvm's 127 bytes.
	maxNameLen = 48
	// nameChars: '+' is left out of volume and snapshot names, so it can
	// join them in a snapshot's LV name.
	nameChars = "_.-"
	// granularity is lvm's default extent size; a VG with larger extents
	// rounds further (to a multiple of this).
	granularity = 4 << 20

	tagVolume   = "eos-storage.volume"
	tagSnapshot = "eos-storage.snapshot"
	tagUser     = "eos-storage.tag:"     // + base64url of a caller's tag
	tagFrom     = "eos-storage.from:"    // + base64url of the snapshot ID a clone came from
	tagCreated  = "eos-storage.created:" // + Unix nanoseconds of a snapshot's creation
	// tagIncomplete marks a thick clone whose copy has not been synced:
	// not listed as a volume; a create of its name removes and redoes it.
	tagIncomplete = "eos-storage.incomplete"
)

var limits = plugin.Limits{MaxNameLen: maxNameLen, NameChars: nameChars, Granularity: granularity, MinSize: granularity}

// Backend keeps volumes as LVs of one VG: thick (linear) LVs in the pool
// named after the VG, and thin LVs in its thin pool. Only LVs it made
// (tagged eos-storage.volume) are its volumes; every other LV of the VG is
// left alone and never listed.
type Backend struct {
	m        *lvm2.Manager
	t        *lvm2.Tool
	vg       string
	thinPool string
	policy   *lvm2.Policy
	ratio    float64
	log      *slog.Logger
	extent   atomic.Int64 // the VG's extent size, from the last inventory
}

// Option configures a Backend.
type Option func(*Backend) error

// WithThinPool names the VG's thin pool that thin volumes
// (CreateRequest.Thin, or the pool of that name) are made in.
func WithThinPool(name string) Option {
	return func(b *Backend) error {
		if err := checkLVName(name); err != nil {
			return err
		}
		b.thinPool = name
		return nil
	}
}

// WithPolicy admits thin volumes (and thin grows) through the thin-pool
// policy's Admit, which also refuses a pool it does not watch; the
// policy's over-provisioning ratio then sizes the thin pool's free space.
func WithPolicy(p *lvm2.Policy) Option {
	return func(b *Backend) error {
		if p == nil {
			return &plugin.InvalidError{Field: "policy", Reason: "nil"}
		}
		b.policy = p
		return nil
	}
}

// WithOverProvisioning is the largest ratio of thin virtual sizes to the
// thin pool's data size when no policy is given (default
// lvm.DefaultOverProvisioning, 1.0: never promise more than there is).
func WithOverProvisioning(ratio float64) Option {
	return func(b *Backend) error {
		if !(ratio >= 1) || ratio > 1000 {
			return &plugin.InvalidError{Field: "over-provisioning", Value: fmt.Sprint(ratio), Reason: "want 1 to 1000"}
		}
		b.ratio = ratio
		return nil
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(b *Backend) error {
		if l == nil {
			return &plugin.InvalidError{Field: "logger", Reason: "nil"}
		}
		b.log = l
		return nil
	}
}

// New returns the backend of VG vg, changed through m (whose journal makes
// every change a guarded, journaled lvm mutation). Nothing is checked
// here: Capabilities says what works.
func New(m *lvm2.Manager, vg string, opts ...Option) (*Backend, error) {
	if m == nil {
		return nil, &plugin.InvalidError{Field: "manager", Reason: "nil"}
	}
	if err := checkLVName(vg); err != nil {
		return nil, err
	}
	b := &Backend{m: m, t: m.Tool(), vg: vg, ratio: lvm2.DefaultOverProvisioning, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(b); err != nil {
			return nil, err
		}
	}
	if b.thinPool == vg {
		return nil, &plugin.InvalidError{Field: "thin pool", Value: vg, Reason: "the thick pool is named after the VG already"}
	}
	return b, nil
}

func (b *Backend) Name() string { return Name }

// Limits are the name rules and, as the granularity, the VG's extent size
// once an inventory has read it (lvm's default 4 MiB before).
func (b *Backend) Limits() plugin.Limits {
	l := limits
	if e := b.extent.Load(); e >= 1<<20 {
		l.Granularity, l.MinSize = e, e
	}
	return l
}

// lvmReserved are the parts lvm refuses in an LV name (its own sub-LVs).
var lvmReserved = []string{"_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_wcorig", "_mimage", "_mlog",
	"_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vdata", "_vorigin", "_imeta", "_iorig", "_vdo"}

// checkLVName is lvm's own rule for VG and pool names.
func checkLVName(s string) error {
	if err := plugin.CheckName(plugin.Limits{MaxNameLen: 127, NameChars: "+_.-"}, "name", s); err != nil {
		return err
	}
	return checkReserved(s)
}

func checkReserved(s string) error {
	if strings.HasPrefix(s, "snapshot") || strings.HasPrefix(s, "pvmove") {
		return &plugin.InvalidError{Field: "name", Value: s, Reason: "lvm reserves names starting with snapshot or pvmove"}
	}
	for _, r := range lvmReserved {
		if strings.Contains(s, r) {
			return &plugin.InvalidError{Field: "name", Value: s, Reason: "lvm reserves " + r}
		}
	}
	return nil
}

// validName: plugin.CheckName under Limits, a letter or digit first (a
// snapshot's LV starts with '_', so no volume can take its name), and
// none of lvm's reserved parts.
func validName(field, s string) error {
	if err := plugin.CheckName(limits, field, s); err != nil {
		return err
	}
	if c := s[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return &plugin.InvalidError{Field: field, Value: s, Reason: "must start with a letter or digit"}
	}
	return checkReserved(s)
}

func (b *Backend) volID(name string) string       { return b.vg + "/" + name }
func (b *Backend) snapID(vol, snap string) string { return b.vg + "/" + vol + "@" + snap }

// snapLV is the LV name of volume vol's snapshot snap.
func snapLV(vol, snap string) string { return "_" + vol + "+" + snap }

// parseSnapLV undoes snapLV.
func parseSnapLV(lv string) (vol, snap string, ok bool) {
	rest, ok := strings.CutPrefix(lv, "_")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "+")
}

func (b *Backend) splitVolumeID(id string) (string, error) {
	name, ok := strings.CutPrefix(id, b.vg+"/")
	if !ok {
		return "", &plugin.InvalidError{Field: "volume id", Value: id, Reason: "not of VG " + b.vg}
	}
	return name, validName("volume id", name)
}

func (b *Backend) splitSnapshotID(id string) (string, string, error) {
	rest, ok := strings.CutPrefix(id, b.vg+"/")
	vol, snap, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 {
		return "", "", &plugin.InvalidError{Field: "snapshot id", Value: id, Reason: "want vg/volume@snapshot"}
	}
	if err := validName("snapshot id", vol); err != nil {
		return "", "", err
	}
	return vol, snap, validName("snapshot id", snap)
}

func encodeTag(prefix, s string) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodeTag(prefix, tag string) (string, bool) {
	rest, ok := strings.CutPrefix(tag, prefix)
	if !ok {
		return "", false
	}
	v, err := base64.RawURLEncoding.DecodeString(rest)
	return string(v), err == nil
}

func hasTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
}

// inventory reads the VG now (lvm fullreport); a missing VG is ErrNotFound.
func (b *Backend) inventory(ctx context.Context) (*lvm2.Report, *lvm2.VG, error) {
	rep, err := b.t.Inventory(ctx)
	if err != nil && rep == nil {
		return nil, nil, mapErr(err)
	}
	v := rep.VG(b.vg)
	if v == nil {
		if err != nil {
			// A partial report (lvm failed on some VG) does not say the
			// VG is gone.
			return nil, nil, mapErr(err)
		}
		return rep, nil, fmt.Errorf("%w: VG %s", plugin.ErrNotFound, b.vg)
	}
	if v.ExtentSize > 0 {
		b.extent.Store(v.ExtentSize)
	}
	return rep, v, nil
}

func (b *Backend) thinPoolLV(v *lvm2.VG) *lvm2.LV {
	if b.thinPool == "" {
		return nil
	}
	for _, l := range v.LVs {
		if l.Name == b.thinPool && l.Attr.ThinPool() {
			return l
		}
	}
	return nil
}

// Capabilities checks lvm, the VG, device-mapper (a block volume needs an
// active LV), dm_snapshot for thick snapshots and the thin pool.
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	caps, _, err := b.capabilities(ctx)
	return caps, err
}

// capabilities is Capabilities with the VG it read (nil when there is none).
func (b *Backend) capabilities(ctx context.Context) (plugin.Capabilities, *lvm2.VG, error) {
	all := func(ok bool, reason, tool string, ts ...plugin.Technology) plugin.Capabilities {
		var out plugin.Capabilities
		for _, t := range ts {
			for _, m := range []plugin.Mode{plugin.ModeCreate, plugin.ModeRemove, plugin.ModeModify, plugin.ModeQuery} {
				if t == plugin.TechShrink && m != plugin.ModeModify || t == plugin.TechClone && m != plugin.ModeCreate {
					continue
				}
				c := plugin.Capability{Technology: t, Mode: m, Available: ok}
				if t == plugin.TechSnapshot && m == plugin.ModeModify || t == plugin.TechBlock && m == plugin.ModeModify {
					c.Available, c.Reason = false, "nothing to modify"
					if !ok {
						c.Reason = reason
					}
				} else if !ok {
					c.Reason, c.MissingTool = reason, tool
				}
				out = append(out, c)
			}
		}
		return out
	}
	every := []plugin.Technology{plugin.TechVolume, plugin.TechBlock, plugin.TechShrink, plugin.TechSnapshot, plugin.TechClone, plugin.TechThin}
	dirCap := plugin.Capabilities{{Technology: plugin.TechDirectory, Mode: plugin.ModeCreate, Reason: "LVs are block devices"}}
	if _, err := exec.LookPath("lvm"); err != nil {
		return append(all(false, "lvm2 is not installed", "lvm", every...), dirCap...), nil, nil
	}
	_, v, err := b.inventory(ctx)
	if errors.Is(err, plugin.ErrNotFound) {
		return append(all(false, "VG "+b.vg+" does not exist", "", every...), dirCap...), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !b.t.DeviceMapper() {
		return append(all(false, "lvm runs without device-mapper here: nothing can be activated", "", every...), dirCap...), v, nil
	}
	if _, err := os.Stat("/dev/mapper/control"); err != nil {
		return append(all(false, "no device-mapper (/dev/mapper/control)", "", every...), dirCap...), v, nil
	}
	out := all(true, "", "", plugin.TechVolume, plugin.TechBlock, plugin.TechShrink)
	thin, thinWhy := b.thinPoolLV(v) != nil, ""
	switch {
	case b.thinPool == "":
		thinWhy = "no thin pool configured"
	case !thin:
		thinWhy = "thin pool " + b.vg + "/" + b.thinPool + " does not exist"
	}
	snap, snapWhy := dmTarget("snapshot"), "the kernel has no dm snapshot target (dm_snapshot)"
	if !snap && thin {
		// Thin volumes snapshot without dm_snapshot; thick ones cannot,
		// and the suite snapshots thick volumes: say no.
		snapWhy += "; only thin volumes could be snapshotted"
	}
	out = append(out, all(snap, snapWhy, "", plugin.TechSnapshot, plugin.TechClone)...)
	out = append(out, all(thin, thinWhy, "", plugin.TechThin)...)
	return append(out, dirCap...), v, nil
}

// dmTarget reports whether device-mapper has the target, or can load its
// module.
func dmTarget(name string) bool {
	if b, err := os.ReadFile("/proc/misc"); err == nil && !strings.Contains(string(b), "device-mapper") {
		return false
	}
	if _, err := os.Stat("/sys/module/dm_" + name); err == nil {
		return true
	}
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return false
	}
	dir := "/lib/modules/" + strings.TrimSpace(string(rel)) + "/kernel/drivers/md/"
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if _, err := os.Stat(dir + "dm-" + name + ext); err == nil {
			return true
		}
	}
	return false
}

// thinFree is what new thin volumes may still take: the ratio's share of
// the pool's data size less the thin LVs' virtual sizes.
func (b *Backend) ratioNow() float64 {
	if b.policy != nil {
		return b.policy.OverProvisioning()
	}
	return b.ratio
}

func thinVirtual(v *lvm2.VG, pool string) int64 {
	var n int64
	for _, l := range v.LVs {
		if l.Attr.Thin() && l.Pool == pool {
			n += l.Size
		}
	}
	return n
}

// Pools lists the VG (thick volumes) and, when configured and present, its
// thin pool (thin volumes). A thin pool's FreeBytes is what the
// over-provisioning ratio (the policy's, when one is given) still allows,
// and 0 while the policy refuses every thin volume there (unwatched, or
// unable to grow, or full, or failed).
func (b *Backend) Pools(ctx context.Context) ([]plugin.Pool, error) {
	_, v, err := b.inventory(ctx)
	if err != nil {
		return nil, err
	}
	p := plugin.Pool{Name: b.vg, Backend: Name, CapacityBytes: v.Size, FreeBytes: v.Free}
	for _, l := range v.LVs {
		if hasTag(l.Tags, tagVolume) && !l.Attr.Thin() {
			p.AllocatedBytes += l.Size
		}
	}
	if p.CapacityBytes > 0 {
		p.OverProvisioning = float64(p.AllocatedBytes) / float64(p.CapacityBytes)
	}
	out := []plugin.Pool{p}
	if tp := b.thinPoolLV(v); tp != nil {
		virt := thinVirtual(v, tp.Name)
		t := plugin.Pool{Name: tp.Name, Backend: Name, CapacityBytes: tp.Size, AllocatedBytes: virt, Thin: true}
		t.FreeBytes = max(0, int64(b.ratioNow()*float64(tp.Size))-virt)
		if b.policy != nil {
			// The policy refuses every thin volume of a pool it does not
			// watch, cannot grow, or that is full or failed: none fits.
			var ae *lvm2.AdmitError
			if err := b.policy.Admit(ctx, b.vg, tp.Name, 1); errors.As(err, &ae) && ae.Code != lvm2.RefusedOverProvisioned {
				t.FreeBytes = 0
			}
		}
		if tp.Size > 0 {
			t.OverProvisioning = float64(virt) / float64(tp.Size)
		}
		out = append(out, t)
	}
	return out, nil
}

func (b *Backend) volume(l *lvm2.LV) plugin.Volume {
	out := plugin.Volume{ID: b.volID(l.Name), Name: l.Name, Pool: b.vg, SizeBytes: l.Size, UsedBytes: l.Size,
		Device: l.Path, Thin: l.Attr.Thin()}
	if out.Thin {
		out.UsedBytes = int64(l.DataPercent / 100 * float64(l.Size))
	}
	for _, t := range l.Tags {
		if s, ok := decodeTag(tagUser, t); ok {
			out.Tags = append(out.Tags, s)
		}
		if s, ok := decodeTag(tagFrom, t); ok {
			out.SnapshotOf = s
		}
	}
	return out
}

// isVolume: an LV the backend made, complete (a thick clone is tagged
// incomplete until its copy is synced).
func isVolume(l *lvm2.LV) bool {
	return owned(l) && !hasTag(l.Tags, tagIncomplete)
}

// owned: an LV the backend made as a volume, complete or not.
func owned(l *lvm2.LV) bool {
	return hasTag(l.Tags, tagVolume) && !strings.HasPrefix(l.Name, "_")
}

// Volumes lists the backend's volumes: pool "" or the VG for all of them,
// the thin pool's name for its thin volumes.
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	if pool != "" && pool != b.vg && (pool != b.thinPool || b.thinPool == "") {
		return nil, fmt.Errorf("%w: pool %s", plugin.ErrNotFound, pool)
	}
	_, v, err := b.inventory(ctx)
	if err != nil {
		return nil, err
	}
	var out []plugin.Volume
	for _, l := range v.LVs {
		if !isVolume(l) || pool == b.thinPool && pool != "" && l.Pool != b.thinPool {
			continue
		}
		out = append(out, b.volume(l))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Volume returns one volume.
func (b *Backend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	_, v, err := b.inventory(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range v.LVs {
		if l.Name == name && isVolume(l) {
			vol := b.volume(l)
			return &vol, nil
		}
	}
	return nil, fmt.Errorf("%w: volume %s", plugin.ErrNotFound, id)
}

func (b *Backend) snapshot(v *lvm2.VG, l *lvm2.LV) (plugin.Snapshot, bool) {
	vol, snap, ok := parseSnapLV(l.Name)
	if !ok || !hasTag(l.Tags, tagSnapshot) {
		return plugin.Snapshot{}, false
	}
	s := plugin.Snapshot{ID: b.snapID(vol, snap), Name: snap, SourceID: b.volID(vol), Size: l.Size, ReadOnly: !l.Attr.Writeable()}
	for _, t := range l.Tags {
		if ns, ok := strings.CutPrefix(t, tagCreated); ok {
			if n, err := strconv.ParseInt(ns, 10, 64); err == nil {
				s.Created = time.Unix(0, n).UTC()
			}
		}
	}
	if o := findLV(v, vol); o != nil && !l.Attr.Thin() {
		s.Size = o.Size // a classic snapshot's lv_size is its COW space
	}
	return s, true
}

func findLV(v *lvm2.VG, name string) *lvm2.LV {
	for _, l := range v.LVs {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Snapshots lists a volume's snapshots ("" for every volume's). A thin
// snapshot outlives its volume and is still listed under its ID.
func (b *Backend) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	var name string
	if volumeID != "" {
		var err error
		if name, err = b.splitVolumeID(volumeID); err != nil {
			return nil, err
		}
	}
	_, v, err := b.inventory(ctx)
	if err != nil {
		return nil, err
	}
	out := []plugin.Snapshot{}
	for _, l := range v.LVs {
		s, ok := b.snapshot(v, l)
		if !ok || volumeID != "" && s.SourceID != b.volID(name) {
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// mapErr gives lvm's typed errors their plugin meaning, keeping both.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var re *lvm2.RefusedError
	var ae *lvm2.AdmitError
	switch {
	case errors.Is(err, plugin.ErrNotFound), errors.Is(err, plugin.ErrExists), errors.Is(err, plugin.ErrNoSpace),
		errors.Is(err, plugin.ErrInvalid), errors.Is(err, plugin.ErrInUse), errors.Is(err, plugin.ErrNotSupported):
		return err
	case errors.Is(err, lvm2.ErrNotFound):
		return fmt.Errorf("%w: %w", plugin.ErrNotFound, err)
	case errors.Is(err, lvm2.ErrExists):
		return fmt.Errorf("%w: %w", plugin.ErrExists, err)
	case errors.As(err, &ae) && ae.Code == lvm2.RefusedUnmonitored:
		// Nothing watches the pool: not a lack of space, and a CO may
		// retry once the policy samples it.
		return fmt.Errorf("%w: %w", plugin.ErrBackend, err)
	case errors.Is(err, lvm2.ErrNoSpace), errors.Is(err, lvm2.ErrNotAdmitted):
		return fmt.Errorf("%w: %w", plugin.ErrNoSpace, err)
	case errors.Is(err, lvm2.ErrBusy), errors.Is(err, lvm2.ErrInUse):
		return fmt.Errorf("%w: %w", plugin.ErrInUse, err)
	case errors.As(err, &re) && (re.Code == lvm2.CodeOpen || re.Code == lvm2.CodeHasSnapshots):
		return fmt.Errorf("%w: %w", plugin.ErrInUse, err)
	case errors.As(err, &re) && re.Code == lvm2.CodeFsShrink:
		return fmt.Errorf("%w: %w", plugin.ErrInvalid, err)
	case errors.As(err, &re) && re.Code == lvm2.CodeFsUnknown:
		return fmt.Errorf("%w: %w", plugin.ErrNotSupported, err)
	}
	return err
}
