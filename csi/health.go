package csi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/smart"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Health defaults.
const (
	// DefaultSMARTTTL is how long a drive's SMART answer is reused: a health
	// poll of a hundred volumes on one disk reads it once.
	DefaultSMARTTTL = 60 * time.Second
	// DefaultSMARTTimeout bounds one drive's SMART reading.
	DefaultSMARTTimeout = 5 * time.Second
)

// Health entry reasons (the CamelCase machine names of the entries the
// driver reports; at most one entry per status and reason).
const (
	ReasonDriveFailing     = "DriveFailing"     // DEGRADED: SMART verdict failing
	ReasonDriveWarning     = "DriveWarning"     // DEGRADED: SMART verdict warning
	ReasonFilesystemErrors = "FilesystemErrors" // DATA_LOSS: errors recorded in the superblock
	ReasonFilesystemIO     = "FilesystemIOError"
	ReasonRemountedRO      = "RemountedReadOnly"
	ReasonNoSMARTData      = "NoSMARTData" // UNKNOWN type, informational, only when nothing else is reported
)

// SMARTReader reads one drive's SMART report (smart.Read does).
type SMARTReader interface {
	ReadSMART(ctx context.Context, dev string) (*smart.Report, error)
}

// SMARTFunc adapts a function to SMARTReader.
type SMARTFunc func(ctx context.Context, dev string) (*smart.Report, error)

// ReadSMART calls f.
func (f SMARTFunc) ReadSMART(ctx context.Context, dev string) (*smart.Report, error) {
	return f(ctx, dev)
}

// FilesystemInspector reads the filesystem on a device (*fsys.Manager does).
type FilesystemInspector interface {
	Inspect(ctx context.Context, dev string) (*fsys.Info, error)
}

// HealthConfig configures the drive and filesystem part of volume health.
// The zero value is the default: SMART read from the devices (a reading
// per drive at most every DefaultSMARTTTL, each under
// DefaultSMARTTimeout), the filesystem inspected by the Stack's
// fsys.Manager when it has one (the storage Engine does), the real clock.
type HealthConfig struct {
	SMART       SMARTReader
	Filesystems FilesystemInspector
	TTL         time.Duration
	Timeout     time.Duration
	Now         func() time.Time
}

// WithHealth sets how volume health reads drives and filesystems.
func WithHealth(c HealthConfig) Option {
	return func(d *Driver) error {
		if c.TTL < 0 || c.Timeout < 0 {
			return errors.New("csi: negative health TTL or timeout")
		}
		if c.TTL > time.Hour || c.Timeout > 5*time.Minute {
			return errors.New("csi: health TTL above 1h or SMART timeout above 5m")
		}
		d.health.cfg = c
		return nil
	}
}

// healthMonitor caches SMART answers per drive. Its zero value works with
// the defaults; WithHealth fills cfg before the driver serves.
type healthMonitor struct {
	cfg HealthConfig

	mu    sync.Mutex
	cache map[string]*smartEntry
	fs    FilesystemInspector // the default inspector, made once

	statDev func(string) (uint32, uint32, error) // tests: st_dev in a fake tree
}

// smartEntry is one drive's answer; done closes when it is in, so callers
// asking while a read runs wait for it instead of reading again.
type smartEntry struct {
	done chan struct{}
	at   time.Time
	rep  *smart.Report
	err  error
}

func (h *healthMonitor) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

func (h *healthMonitor) ttl() time.Duration {
	if h.cfg.TTL > 0 {
		return h.cfg.TTL
	}
	return DefaultSMARTTTL
}

func (h *healthMonitor) timeout() time.Duration {
	if h.cfg.Timeout > 0 {
		return h.cfg.Timeout
	}
	return DefaultSMARTTimeout
}

// smartStart returns dev's cache entry, starting a read when there is no
// answer younger than the TTL and none under way. The read runs on its own
// goroutine, detached from the caller's context and bounded by the SMART
// timeout: a caller that gives up (a CO's deadline shorter than a slow
// drive) still leaves the answer cached for the next poll, instead of
// every poll paying for the drive again.
func (d *Driver) smartStart(ctx context.Context, dev string) *smartEntry {
	h := &d.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cache == nil {
		h.cache = map[string]*smartEntry{}
	}
	if e := h.cache[dev]; e != nil {
		select {
		case <-e.done:
			if h.now().Sub(e.at) < h.ttl() {
				return e
			}
		default:
			return e // under way
		}
	}
	e := &smartEntry{done: make(chan struct{})}
	h.cache[dev] = e
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout())
	go func() {
		defer cancel()
		rep, err := d.readSMART(rctx, dev)
		h.mu.Lock()
		e.at, e.rep, e.err = h.now(), rep, err
		close(e.done)
		h.mu.Unlock()
	}()
	return e
}

// wait returns the entry's answer, or the caller's context error.
func (e *smartEntry) wait(ctx context.Context) (*smart.Report, error) {
	select {
	case <-e.done:
		return e.rep, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// smartOf returns dev's SMART answer, read at most once per TTL.
func (d *Driver) smartOf(ctx context.Context, dev string) (*smart.Report, error) {
	return d.smartStart(ctx, dev).wait(ctx)
}

func (d *Driver) readSMART(ctx context.Context, dev string) (*smart.Report, error) {
	if d.health.cfg.SMART != nil {
		return d.health.cfg.SMART.ReadSMART(ctx, dev)
	}
	opts := []smart.Option{smart.WithLogs(false)}
	if !d.root.IsLive() {
		opts = append(opts, smart.WithRoot(d.root.Dir()))
	}
	return smart.Read(ctx, dev, opts...)
}

// inspector is the configured FilesystemInspector, else the Stack's
// fsys.Manager, else one made (once) for the driver's root.
func (d *Driver) inspector() (FilesystemInspector, error) {
	if d.health.cfg.Filesystems != nil {
		return d.health.cfg.Filesystems, nil
	}
	if s, ok := d.stack.(interface{ Filesystems() *fsys.Manager }); ok {
		if m := s.Filesystems(); m != nil {
			return m, nil
		}
	}
	h := &d.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fs == nil {
		var opts []fsys.Option
		if !d.root.IsLive() {
			opts = append(opts, fsys.WithRoot(d.root.Dir()))
		}
		m, err := fsys.New(opts...)
		if err != nil {
			return nil, err
		}
		h.fs = m
	}
	return h.fs, nil
}

// healthSet collects entries, one per (status, reason): a second finding
// of the same kind joins the first's message, as the spec allows one
// entry per pair.
type healthSet struct {
	entries []*csipb.VolumeHealth_VolumeHealthEntry
}

func (s *healthSet) add(t csipb.VolumeHealthErrorType, reason, msg string) {
	for _, e := range s.entries {
		if e.Status == t && e.Reason == reason {
			if msg != "" && !strings.Contains(e.Message, msg) {
				e.Message += "; " + msg
			}
			return
		}
	}
	s.entries = append(s.entries, healthEntry(t, reason, msg))
}

func (s *healthSet) has(t csipb.VolumeHealthErrorType, reason string) bool {
	for _, e := range s.entries {
		if e.Status == t && e.Reason == reason {
			return true
		}
	}
	return false
}

func (s *healthSet) addAll(es []*csipb.VolumeHealth_VolumeHealthEntry) {
	for _, e := range es {
		s.add(e.Status, e.Reason, e.Message)
	}
}

// abnormal reports whether any entry is more than the informational note.
func abnormal(es []*csipb.VolumeHealth_VolumeHealthEntry) bool {
	for _, e := range es {
		if e.Reason != ReasonNoSMARTData {
			return true
		}
	}
	return false
}

// volumeHealth is a volume's health: the pool's (ps, read once by the
// caller; psErr when it could not be), the drives under it (SMART), its
// filesystem's state and mounts, and, on the node, the publish path's.
// When nothing is abnormal but some drive has no SMART data, one
// informational entry (UNKNOWN_VOLUME_HEALTH_TYPE, NoSMARTData) says so.
func (d *Driver) volumeHealth(ctx context.Context, v *plugin.Volume, ps []plugin.Pool, psErr error, publishPath string) []*csipb.VolumeHealth_VolumeHealthEntry {
	var s healthSet
	if psErr != nil {
		s.add(csipb.VolumeHealthErrorType_UNKNOWN_VOLUME_HEALTH_TYPE, "PoolsUnreadable", psErr.Error())
	}
	s.addAll(d.poolHealth(v, ps))
	noData := d.driveHealth(ctx, &s, v)
	if v.Device != "" {
		d.filesystemHealth(ctx, &s, v.Device)
	}
	if publishPath != "" {
		for _, e := range d.pathHealth(publishPath, v) {
			if e.Reason == ReasonRemountedRO && s.has(e.Status, e.Reason) {
				continue // the device's mounts already said so, naming this one
			}
			s.add(e.Status, e.Reason, e.Message)
		}
	}
	if len(noData) > 0 && !abnormal(s.entries) {
		s.add(csipb.VolumeHealthErrorType_UNKNOWN_VOLUME_HEALTH_TYPE, ReasonNoSMARTData, "no SMART data: "+strings.Join(noData, "; "))
	}
	return s.entries
}

// driveHealth adds the SMART verdicts of the drives under v: failing and
// warning drives are DEGRADED entries naming the drive and the attribute.
// A drive with no SMART (loop, virtio, a file on tmpfs) or whose read
// failed is not abnormal; it is returned for the NoSMARTData note.
func (d *Driver) driveHealth(ctx context.Context, s *healthSet, v *plugin.Volume) (noData []string) {
	w := &driveWalker{root: d.root, statDev: d.health.statDev}
	var found drivesFound
	switch {
	case v.Device != "":
		found = w.underDevice(v.Device)
	case v.Path != "":
		found = w.underPath(v.Path)
	default:
		return []string{"the volume has no device or path"}
	}
	noData = append(noData, found.notes...)
	// Every drive's read starts before any is waited for: a volume over
	// several drives costs the slowest, not the sum.
	pending := make([]*smartEntry, len(found.drives))
	for i, dev := range found.drives {
		pending[i] = d.smartStart(ctx, dev)
	}
	for i, dev := range found.drives {
		rep, err := pending[i].wait(ctx)
		if err != nil {
			if errors.Is(err, smart.ErrNotSupported) {
				noData = append(noData, dev+" has no SMART")
			} else {
				d.log.Debug("csi: SMART read failed", "drive", dev, "err", err)
				noData = append(noData, fmt.Sprintf("%s: %v", dev, err))
			}
			continue
		}
		a := smart.Health(rep, nil)
		var why []string
		for _, r := range a.Reasons {
			if r.Verdict >= smart.VerdictWarning {
				why = append(why, r.Message)
			}
		}
		name := driveName(dev, rep)
		switch a.Verdict {
		case smart.VerdictFailing:
			s.add(csipb.VolumeHealthErrorType_DEGRADED, ReasonDriveFailing, fmt.Sprintf("drive %s is failing (SMART): %s", name, strings.Join(why, ", ")))
		case smart.VerdictWarning:
			s.add(csipb.VolumeHealthErrorType_DEGRADED, ReasonDriveWarning, fmt.Sprintf("drive %s needs attention (SMART): %s", name, strings.Join(why, ", ")))
		case smart.VerdictUnknown:
			noData = append(noData, dev+": SMART data insufficient for a verdict")
		}
	}
	return noData
}

// driveName is the drive's path with its model and serial when known.
func driveName(dev string, r *smart.Report) string {
	var model, serial string
	switch {
	case r == nil:
	case r.ATA != nil && r.ATA.Identity != nil:
		model, serial = r.ATA.Identity.Model, r.ATA.Identity.Serial
	case r.NVMe != nil && r.NVMe.Identity != nil:
		model, serial = r.NVMe.Identity.Model, r.NVMe.Identity.Serial
	case r.SCSI != nil:
		serial = r.SCSI.Serial
		if r.SCSI.Inquiry != nil {
			model = strings.TrimSpace(r.SCSI.Inquiry.Vendor + " " + r.SCSI.Inquiry.Product)
		}
	}
	var p []string
	if model != "" {
		p = append(p, model)
	}
	if serial != "" {
		p = append(p, "serial "+serial)
	}
	if len(p) == 0 {
		return dev
	}
	return dev + " (" + strings.Join(p, ", ") + ")"
}

// filesystemHealth adds what the filesystem on dev says about itself:
// errors recorded in the superblock (ext's error state or count, btrfs's
// error flag), an I/O error reading it (xfs answers statfs with EIO after
// a shutdown), and any mount of it the kernel turned read-only under a
// writable mount. A device with no filesystem (a raw block volume) has
// nothing to say.
func (d *Driver) filesystemHealth(ctx context.Context, s *healthSet, dev string) {
	insp, err := d.inspector()
	if err != nil {
		s.add(csipb.VolumeHealthErrorType_UNKNOWN_VOLUME_HEALTH_TYPE, "FilesystemUnreadable", err.Error())
		return
	}
	info, err := insp.Inspect(ctx, dev)
	switch {
	case errors.Is(err, fsys.ErrUnknownFilesystem):
		return
	case errors.Is(err, unix.EIO):
		s.add(csipb.VolumeHealthErrorType_DATA_LOSS, ReasonFilesystemIO, fmt.Sprintf("reading the filesystem on %s: %v", dev, err))
		return
	case err != nil:
		s.add(csipb.VolumeHealthErrorType_UNKNOWN_VOLUME_HEALTH_TYPE, "FilesystemUnreadable", err.Error())
		return
	}
	if info.State == superblock.StateErrors {
		s.add(csipb.VolumeHealthErrorType_DATA_LOSS, ReasonFilesystemErrors,
			fmt.Sprintf("the %s filesystem on %s records errors in its superblock: check it unmounted (fsck)", info.Type, dev))
	}
	if !info.Mounted() {
		return
	}
	maj, min, err := devNumber(dev)
	if err != nil {
		return
	}
	var ro []string
	scanMountinfo(d.root, func(e *mountinfo.Entry) {
		if e.Major == maj && e.Minor == min && hasOpt(e.SuperOptions, "ro") && !hasOpt(e.Options, "ro") {
			ro = append(ro, e.MountPoint)
		}
	})
	if len(ro) > 0 {
		slices.Sort(ro)
		s.add(csipb.VolumeHealthErrorType_DATA_LOSS, ReasonRemountedRO,
			fmt.Sprintf("the %s filesystem on %s went read-only under a writable mount at %s (an I/O or metadata error)", info.Type, dev, strings.Join(ro, ", ")))
	}
}
