package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Options configure the suite for one backend.
type Options struct {
	// Pool is the pool the volumes are made in (required).
	Pool string
	// Size is the size of the volumes made (default 16 MiB); grows double
	// it. It must be a few times the backend's MinSize.
	Size int64
	// Concurrency is how many volumes are made at once (default 4).
	Concurrency int
	// Prefix starts every name the suite makes (default "pt"), so a test
	// can clean up what a failed run left.
	Prefix string
	// Timeout bounds the whole suite (default 5 minutes).
	Timeout time.Duration
}

// Failure is one thing the backend got wrong.
type Failure struct {
	Check  string // "create", "names", "resize", "snapshot", ...
	Detail string
}

func (f Failure) String() string { return f.Check + ": " + f.Detail }

// Run runs the suite on the backend newBackend returns and reports every
// failure on t.
func Run(t *testing.T, newBackend func(t *testing.T) plugin.Backend, o Options) {
	t.Helper()
	b := newBackend(t)
	for _, f := range Check(context.Background(), b, o) {
		t.Errorf("%s: %s", b.Name(), f)
	}
}

// suite carries one run's state.
type suite struct {
	b         plugin.Backend
	o         Options
	caps      plugin.Capabilities
	limits    plugin.Limits
	exercised map[[2]string]bool
	failures  []Failure
	mu        sync.Mutex
	made      []string // volume IDs to clean up
}

func (s *suite) fail(check, format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, Failure{Check: check, Detail: fmt.Sprintf(format, a...)})
}

func (s *suite) used(t plugin.Technology, m plugin.Mode) {
	s.mu.Lock()
	s.exercised[[2]string{string(t), string(m)}] = true
	s.mu.Unlock()
}

// Check runs the suite and returns what failed (nothing: conformant). It
// deletes what it made, also after failures.
func Check(ctx context.Context, b plugin.Backend, o Options) []Failure {
	if o.Size == 0 {
		o.Size = 16 << 20
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	if o.Prefix == "" {
		o.Prefix = "pt"
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s := &suite{b: b, o: o, exercised: map[[2]string]bool{}}
	if o.Pool == "" {
		s.fail("options", "no pool given")
		return s.failures
	}
	caps, err := b.Capabilities(ctx)
	if err != nil {
		s.fail("capabilities", "%v", err)
		return s.failures
	}
	s.caps, s.limits = caps, b.Limits()
	if s.limits.Granularity <= 0 || s.limits.MaxNameLen <= 0 {
		s.fail("limits", "granularity %d, max name length %d: both must be positive", s.limits.Granularity, s.limits.MaxNameLen)
		return s.failures
	}
	if !caps.Can(plugin.TechVolume, plugin.ModeCreate) {
		s.fail("capabilities", "volume creation is not available, so nothing can be checked: %+v", caps)
		return s.failures
	}
	defer s.cleanup()
	s.checkPools(ctx)
	s.checkCreate(ctx)
	s.checkNames(ctx)
	s.checkSizes(ctx)
	s.checkResize(ctx)
	s.checkSnapshots(ctx)
	s.checkThin(ctx)
	s.checkConcurrent(ctx)
	s.checkExercised()
	return s.failures
}

func (s *suite) name(part string) string { return s.o.Prefix + "-" + part }

// apply runs a call's operations.
func (s *suite) apply(ctx context.Context, ops []sched.Operation) error {
	_, err := plugin.Apply(ctx, nil, ops)
	return err
}

// create makes a volume and records it for cleanup.
func (s *suite) create(ctx context.Context, req plugin.CreateRequest) (*plugin.Volume, error) {
	if req.Pool == "" {
		req.Pool = s.o.Pool
	}
	ops, err := s.b.CreateVolume(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("creating %s planned no operations although it did not exist", req.Name)
	}
	if err := s.apply(ctx, ops); err != nil {
		return nil, err
	}
	v, err := s.find(ctx, req.Name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.made = append(s.made, v.ID)
	s.mu.Unlock()
	return v, nil
}

// find looks a volume up by name in the pool's listing and by its ID.
func (s *suite) find(ctx context.Context, name string) (*plugin.Volume, error) {
	vols, err := s.b.Volumes(ctx, s.o.Pool)
	if err != nil {
		return nil, fmt.Errorf("Volumes: %w", err)
	}
	for _, v := range vols {
		if v.Name == name {
			got, err := s.b.Volume(ctx, v.ID)
			if err != nil {
				return nil, fmt.Errorf("Volume(%s) of a listed volume: %w", v.ID, err)
			}
			if got.ID != v.ID || got.SizeBytes != v.SizeBytes {
				return nil, fmt.Errorf("Volume(%s) = %+v, the listing says %+v", v.ID, got, v)
			}
			return got, nil
		}
	}
	return nil, fmt.Errorf("volume %s is not listed in pool %s (%d volumes)", name, s.o.Pool, len(vols))
}

func (s *suite) remove(ctx context.Context, id string) error {
	ops, err := s.b.DeleteVolume(ctx, id)
	if err != nil {
		return err
	}
	return s.apply(ctx, ops)
}

func (s *suite) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	snaps, _ := s.b.Snapshots(ctx, "")
	for _, sn := range snaps {
		if strings.HasPrefix(sn.Name, s.o.Prefix+"-") {
			if ops, err := s.b.DeleteSnapshot(ctx, sn.ID); err == nil {
				_ = s.apply(ctx, ops)
			}
		}
	}
	for i := len(s.made) - 1; i >= 0; i-- {
		_ = s.remove(ctx, s.made[i])
	}
}

func (s *suite) checkPools(ctx context.Context) {
	pools, err := s.b.Pools(ctx)
	if err != nil {
		s.fail("pools", "%v", err)
		return
	}
	for _, p := range pools {
		if p.Name == s.o.Pool {
			if p.CapacityBytes <= 0 || p.FreeBytes < 0 || p.FreeBytes > p.CapacityBytes {
				s.fail("pools", "pool %s: capacity %d, free %d", p.Name, p.CapacityBytes, p.FreeBytes)
			}
			return
		}
	}
	s.fail("pools", "pool %s is not listed: %+v", s.o.Pool, pools)
}

// sizeOK: at least what was asked, a multiple of the granularity, and not
// more than one granule above.
func (s *suite) sizeOK(got, asked int64) bool {
	g := s.limits.Granularity
	return got >= asked && got%g == 0 && got < asked+g+g
}

func (s *suite) checkCreate(ctx context.Context) {
	const check = "create"
	s.used(plugin.TechVolume, plugin.ModeCreate)
	s.used(plugin.TechVolume, plugin.ModeQuery)
	s.used(plugin.TechVolume, plugin.ModeRemove)
	name := s.name("basic")
	asked := s.o.Size + 1 // not a multiple of anything
	v, err := s.create(ctx, plugin.CreateRequest{Name: name, SizeBytes: asked, Tags: []string{"plugintest"}})
	if err != nil {
		s.fail(check, "%v", err)
		return
	}
	if !s.sizeOK(v.SizeBytes, asked) {
		s.fail(check, "asked %d bytes, got %d (granularity %d)", asked, v.SizeBytes, s.limits.Granularity)
	}
	if v.Device == "" && v.Path == "" {
		s.fail(check, "volume %s has neither a device nor a path", v.ID)
	}
	s.exerciseKind(v)
	if err := s.writeData(v, []byte("plugintest create")); err != nil {
		s.fail(check, "writing to %s: %v", v.ID, err)
	}
	// The same request again: nothing to do.
	if ops, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.o.Pool, Name: name, SizeBytes: asked, Tags: []string{"plugintest"}}); err != nil || len(ops) != 0 {
		s.fail(check, "repeating the create: %d operations, %v (want none)", len(ops), err)
	}
	// Another size under the same name: ErrExists.
	if _, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.o.Pool, Name: name, SizeBytes: 3 * s.o.Size}); !errors.Is(err, plugin.ErrExists) {
		s.fail(check, "creating %s again with another size: %v, want ErrExists", name, err)
	}
	if _, err := s.b.Volume(ctx, s.o.Pool+"/"+s.name("missing")); !errors.Is(err, plugin.ErrNotFound) {
		s.fail(check, "Volume of a missing volume: %v, want ErrNotFound", err)
	}
	if err := s.remove(ctx, v.ID); err != nil {
		s.fail(check, "delete: %v", err)
		return
	}
	if _, err := s.b.Volume(ctx, v.ID); !errors.Is(err, plugin.ErrNotFound) {
		s.fail(check, "Volume after delete: %v, want ErrNotFound", err)
	}
	if ops, err := s.b.DeleteVolume(ctx, v.ID); err != nil || len(ops) != 0 {
		s.fail(check, "repeating the delete: %d operations, %v (want none)", len(ops), err)
	}
}

func (s *suite) exerciseKind(v *plugin.Volume) {
	if v.Device != "" {
		s.used(plugin.TechBlock, plugin.ModeCreate)
		s.used(plugin.TechBlock, plugin.ModeQuery)
	}
	if v.Path != "" {
		s.used(plugin.TechDirectory, plugin.ModeCreate)
		s.used(plugin.TechDirectory, plugin.ModeQuery)
	}
}

func (s *suite) checkNames(ctx context.Context) {
	const check = "names"
	max := s.limits.MaxNameLen
	longest := s.o.Prefix + "-" + strings.Repeat("n", max-len(s.o.Prefix)-1)
	if max > len(s.o.Prefix)+1 {
		v, err := s.create(ctx, plugin.CreateRequest{Name: longest, SizeBytes: s.o.Size})
		if err != nil {
			s.fail(check, "a name of the limit's %d bytes: %v", max, err)
		} else if err := s.remove(ctx, v.ID); err != nil {
			s.fail(check, "deleting the longest name: %v", err)
		}
	}
	bad := []string{"", "..", ".", "a/b", "/abs", "nul\x00", "-lead", "sp ace", "new\nline", longest + "x"}
	for _, n := range bad {
		ops, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.o.Pool, Name: n, SizeBytes: s.o.Size})
		if !errors.Is(err, plugin.ErrInvalid) {
			s.fail(check, "name %q: %d operations, %v, want ErrInvalid before anything runs", n, len(ops), err)
		}
	}
}

func (s *suite) checkSizes(ctx context.Context) {
	const check = "sizes"
	for _, n := range []int64{0, -1, -s.o.Size} {
		if _, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.o.Pool, Name: s.name("size"), SizeBytes: n}); !errors.Is(err, plugin.ErrInvalid) {
			s.fail(check, "size %d: %v, want ErrInvalid", n, err)
		}
	}
	huge := int64(1) << 60 // an EiB: no pool here holds it
	ops, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.o.Pool, Name: s.name("huge"), SizeBytes: huge})
	if !errors.Is(err, plugin.ErrNoSpace) && !errors.Is(err, plugin.ErrInvalid) {
		s.fail(check, "an EiB: %d operations, %v, want ErrNoSpace (or ErrInvalid)", len(ops), err)
	}
	if _, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.name("no-such-pool"), Name: s.name("p"), SizeBytes: s.o.Size}); !errors.Is(err, plugin.ErrNotFound) && !errors.Is(err, plugin.ErrInvalid) {
		s.fail(check, "a missing pool: %v, want ErrNotFound", err)
	}
}

func (s *suite) checkResize(ctx context.Context) {
	const check = "resize"
	grow := s.caps.Can(plugin.TechVolume, plugin.ModeModify)
	shrink := s.caps.Can(plugin.TechShrink, plugin.ModeModify)
	v, err := s.create(ctx, plugin.CreateRequest{Name: s.name("resize"), SizeBytes: s.o.Size})
	if err != nil {
		s.fail(check, "create: %v", err)
		return
	}
	defer s.remove(ctx, v.ID)
	data := []byte("plugintest resize: kept across the grow")
	if err := s.writeData(v, data); err != nil {
		s.fail(check, "write: %v", err)
		return
	}
	ops, err := s.b.ResizeVolume(ctx, v.ID, 2*s.o.Size)
	if !grow {
		if !errors.Is(err, plugin.ErrNotSupported) {
			s.fail(check, "grow where modify is not declared: %v, want ErrNotSupported", err)
		}
		return
	}
	s.used(plugin.TechVolume, plugin.ModeModify)
	if err == nil {
		err = s.apply(ctx, ops)
	}
	if err != nil {
		s.fail(check, "grow: %v", err)
		return
	}
	got, err := s.b.Volume(ctx, v.ID)
	if err != nil || !s.sizeOK(got.SizeBytes, 2*s.o.Size) {
		s.fail(check, "after the grow to %d: %+v %v", 2*s.o.Size, got, err)
		return
	}
	if err := s.readData(got, data); err != nil {
		s.fail(check, "after the grow: %v", err)
	}
	if ops, err := s.b.ResizeVolume(ctx, v.ID, got.SizeBytes); err != nil || len(ops) != 0 {
		s.fail(check, "resizing to the current size: %d operations, %v (want none)", len(ops), err)
	}
	if _, err := s.b.ResizeVolume(ctx, v.ID, 0); !errors.Is(err, plugin.ErrInvalid) {
		s.fail(check, "resize to 0: %v, want ErrInvalid", err)
	}
	ops, err = s.b.ResizeVolume(ctx, v.ID, s.o.Size)
	if !shrink {
		if !errors.Is(err, plugin.ErrNotSupported) {
			s.fail(check, "shrink where TechShrink is not declared: %v, want ErrNotSupported", err)
		}
		return
	}
	s.used(plugin.TechShrink, plugin.ModeModify)
	if err == nil {
		err = s.apply(ctx, ops)
	}
	if err != nil {
		s.fail(check, "shrink: %v", err)
		return
	}
	if got, err := s.b.Volume(ctx, v.ID); err != nil || !s.sizeOK(got.SizeBytes, s.o.Size) {
		s.fail(check, "after the shrink to %d: %+v %v", s.o.Size, got, err)
	}
}

func (s *suite) checkSnapshots(ctx context.Context) {
	const check = "snapshot"
	v, err := s.create(ctx, plugin.CreateRequest{Name: s.name("origin"), SizeBytes: s.o.Size})
	if err != nil {
		s.fail(check, "create: %v", err)
		return
	}
	defer s.remove(ctx, v.ID)
	before := []byte("plugintest snapshot: the data at the snapshot")
	after := []byte("plugintest snapshot: written after the snapshot!")
	if err := s.writeData(v, before); err != nil {
		s.fail(check, "write: %v", err)
		return
	}
	snapName := s.name("snap")
	ops, err := s.b.CreateSnapshot(ctx, v.ID, snapName)
	if !s.caps.Can(plugin.TechSnapshot, plugin.ModeCreate) {
		if !errors.Is(err, plugin.ErrNotSupported) {
			s.fail(check, "a snapshot where none is declared: %v, want ErrNotSupported", err)
		}
		return
	}
	s.used(plugin.TechSnapshot, plugin.ModeCreate)
	if err == nil {
		err = s.apply(ctx, ops)
	}
	if err != nil {
		s.fail(check, "create: %v", err)
		return
	}
	snaps, err := s.b.Snapshots(ctx, v.ID)
	s.used(plugin.TechSnapshot, plugin.ModeQuery)
	var snap *plugin.Snapshot
	for i := range snaps {
		if snaps[i].Name == snapName {
			snap = &snaps[i]
		}
	}
	if err != nil || snap == nil || snap.SourceID != v.ID {
		s.fail(check, "listing the snapshot of %s: %+v %v", v.ID, snaps, err)
		return
	}
	if ops, err := s.b.CreateSnapshot(ctx, v.ID, snapName); err != nil || len(ops) != 0 {
		s.fail(check, "repeating the snapshot: %d operations, %v (want none)", len(ops), err)
	}
	if err := s.writeData(v, after); err != nil {
		s.fail(check, "write after the snapshot: %v", err)
	}
	if s.caps.Can(plugin.TechClone, plugin.ModeCreate) {
		s.used(plugin.TechClone, plugin.ModeCreate)
		c, err := s.create(ctx, plugin.CreateRequest{Name: s.name("clone"), SizeBytes: s.o.Size, FromSnapshot: snap.ID})
		if err != nil {
			s.fail(check, "clone: %v", err)
		} else {
			if c.SnapshotOf != snap.ID {
				s.fail(check, "the clone says it comes from %q, want %q", c.SnapshotOf, snap.ID)
			}
			if err := s.readData(c, before); err != nil {
				s.fail(check, "the clone does not hold the data at the snapshot: %v", err)
			}
			if err := s.remove(ctx, c.ID); err != nil {
				s.fail(check, "deleting the clone: %v", err)
			}
		}
	} else if _, err := s.b.CreateVolume(ctx, plugin.CreateRequest{Pool: s.o.Pool, Name: s.name("clone"), SizeBytes: s.o.Size, FromSnapshot: snap.ID}); !errors.Is(err, plugin.ErrNotSupported) {
		s.fail(check, "a clone where none is declared: %v, want ErrNotSupported", err)
	}
	if !s.caps.Can(plugin.TechSnapshot, plugin.ModeRemove) {
		return
	}
	s.used(plugin.TechSnapshot, plugin.ModeRemove)
	ops, err = s.b.DeleteSnapshot(ctx, snap.ID)
	if err == nil {
		err = s.apply(ctx, ops)
	}
	if err != nil {
		s.fail(check, "delete: %v", err)
		return
	}
	if snaps, err := s.b.Snapshots(ctx, v.ID); err != nil || len(snaps) != 0 {
		s.fail(check, "after the delete: %+v %v", snaps, err)
	}
	if ops, err := s.b.DeleteSnapshot(ctx, snap.ID); err != nil || len(ops) != 0 {
		s.fail(check, "repeating the delete: %d operations, %v (want none)", len(ops), err)
	}
}

func (s *suite) checkThin(ctx context.Context) {
	const check = "thin"
	if !s.caps.Can(plugin.TechThin, plugin.ModeCreate) {
		return
	}
	s.used(plugin.TechThin, plugin.ModeCreate)
	v, err := s.create(ctx, plugin.CreateRequest{Name: s.name("thin"), SizeBytes: s.o.Size, Thin: true})
	if err != nil {
		s.fail(check, "%v", err)
		return
	}
	if !v.Thin {
		s.fail(check, "a thin volume says it is not thin: %+v", v)
	}
	if err := s.remove(ctx, v.ID); err != nil {
		s.fail(check, "delete: %v", err)
	}
}

func (s *suite) checkConcurrent(ctx context.Context) {
	const check = "concurrent"
	n := s.o.Concurrency
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.create(ctx, plugin.CreateRequest{Name: s.name(fmt.Sprintf("c%d", i)), SizeBytes: s.o.Size})
			if err != nil {
				s.fail(check, "create %d of %d at once: %v", i, n, err)
				return
			}
			ids[i] = v.ID
		}()
	}
	wg.Wait()
	for i := range n {
		if ids[i] == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.remove(ctx, ids[i]); err != nil {
				s.fail(check, "delete %d of %d at once: %v", i, n, err)
			}
		}()
	}
	wg.Wait()
}

// checkExercised fails every capability declared available that no check
// used.
func (s *suite) checkExercised() {
	for _, c := range s.caps {
		if c.Available && !s.exercised[[2]string{string(c.Technology), string(c.Mode)}] {
			s.fail("unexercised", "%s %s is declared available but nothing in the suite could use it", c.Technology, c.Mode)
		}
	}
}

const dataFile = "plugintest.dat"
const dataOffset = 1 << 20

// writeData writes data into the volume: at 1 MiB into its device, or as a
// file in its directory.
func (s *suite) writeData(v *plugin.Volume, data []byte) error {
	if v.Device != "" {
		f, err := os.OpenFile(v.Device, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.WriteAt(data, dataOffset); err != nil {
			return err
		}
		return f.Sync()
	}
	return os.WriteFile(filepath.Join(v.Path, dataFile), data, 0o600)
}

func (s *suite) readData(v *plugin.Volume, want []byte) error {
	got := make([]byte, len(want))
	if v.Device != "" {
		f, err := os.Open(v.Device)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.ReadAt(got, dataOffset); err != nil {
			return err
		}
	} else {
		b, err := os.ReadFile(filepath.Join(v.Path, dataFile))
		if err != nil {
			return err
		}
		got = b
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("read %q, want %q", got, want)
	}
	return nil
}
