package csi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/smart"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// smartFixture replays a recorded reading from blockdev/smart's testdata.
func smartFixture(t testing.TB, name string) *smart.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "blockdev", "smart", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	r, err := smart.ParseReplay(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// nvmeWarning is the recorded QEMU NVMe health log with critical warning
// bits set.
func nvmeWarning(t testing.TB, bits byte) *smart.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "blockdev", "smart", "testdata", "qemu_nvme_health.raw"))
	if err != nil {
		t.Fatal(err)
	}
	b[0] = bits
	r, err := smart.ParseReplay(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeSMART answers from a table and counts reads per drive.
type fakeSMART struct {
	mu    sync.Mutex
	by    map[string]*smart.Report
	errs  map[string]error
	reads map[string]int
	delay time.Duration
	gate  chan struct{} // when set, reads wait for it to close
}

func (f *fakeSMART) ReadSMART(ctx context.Context, dev string) (*smart.Report, error) {
	f.mu.Lock()
	if f.reads == nil {
		f.reads = map[string]int{}
	}
	f.reads[dev]++
	r, err, gate := f.by[dev], f.errs[dev], f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%w: %s", smart.ErrNotSupported, dev)
	}
	return r, nil
}

func (f *fakeSMART) count(dev string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads[dev]
}

// fakeFS answers Inspect from a table; devices not in it have no
// filesystem.
type fakeFS map[string]any

func (f fakeFS) Inspect(_ context.Context, dev string) (*fsys.Info, error) {
	switch x := f[dev].(type) {
	case *fsys.Info:
		return x, nil
	case error:
		return nil, x
	}
	return nil, fmt.Errorf("fsys: %s: %w", dev, fsys.ErrUnknownFilesystem)
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sysTree builds a fake /sys (and /proc/self/mountinfo) under a temporary
// root:
//
//	sda (disk) with partition sda1; sdb, sdc (disks), sdc1; sdd (disk)
//	dm-0: an LV on sdb and sdc1
//	loop3: backed by /srv/a.img, on sda1 (8:1)
//	loop4: backed by /shm/b.img, on tmpfs (0:50)
//	loop5: backed by /btr/c.img, on btrfs (anonymous 0:60) from /dev/sdd
//	loop6: backed by /loop/d.img, whose st_dev is loop6 itself (a cycle)
//	loop7: no backing file (a leaf: SMART says it has none)
func sysTree(t testing.TB) (sysfs.Root, func(string) (uint32, uint32, error)) {
	t.Helper()
	dir := t.TempDir()
	mk := func(p string) string {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, at string) {
		mk(filepath.Dir(at))
		if err := os.Symlink(filepath.Join(dir, target), filepath.Join(dir, at)); err != nil {
			t.Fatal(err)
		}
	}
	dev := map[string]string{}
	block := func(devdir, majmin string) {
		mk(devdir)
		name := filepath.Base(devdir)
		link(devdir, "sys/class/block/"+name)
		link(devdir, "sys/dev/block/"+majmin)
		write("dev/"+name, "") // not a device node: resolved by name
		dev[name] = devdir
	}
	mk("dev")
	block("sys/devices/pci/host0/block/sda", "8:0")
	block("sys/devices/pci/host0/block/sda/sda1", "8:1")
	write("sys/devices/pci/host0/block/sda/sda1/partition", "1\n")
	block("sys/devices/pci/host1/block/sdb", "8:16")
	block("sys/devices/pci/host2/block/sdc", "8:32")
	block("sys/devices/pci/host2/block/sdc/sdc1", "8:33")
	write("sys/devices/pci/host2/block/sdc/sdc1/partition", "1\n")
	block("sys/devices/pci/host3/block/sdd", "8:48")
	block("sys/devices/virtual/block/dm-0", "254:0")
	link("sys/devices/pci/host1/block/sdb", "sys/devices/virtual/block/dm-0/slaves/sdb")
	link("sys/devices/pci/host2/block/sdc/sdc1", "sys/devices/virtual/block/dm-0/slaves/sdc1")
	mk("sys/devices/virtual/block/dm-0/slaves")
	for i, f := range map[int]string{3: "/srv/a.img", 4: "/shm/b.img", 5: "/btr/c.img", 6: "/loop/d.img", 7: ""} {
		d := fmt.Sprintf("sys/devices/virtual/block/loop%d", i)
		block(d, fmt.Sprintf("7:%d", i))
		mk("sys/devices/virtual/block/" + fmt.Sprintf("loop%d", i) + "/loop")
		if f != "" {
			write(d+"/loop/backing_file", f+"\n")
		}
	}
	mk("proc/self")
	write("proc/self/mountinfo", strings.Join([]string{
		"22 1 0:50 / /shm rw,nosuid,nodev shared:2 - tmpfs tmpfs rw,size=1024k",
		"23 1 0:60 / /btr rw,relatime shared:3 - btrfs /dev/sdd rw,space_cache=v2",
	}, "\n")+"\n")
	root, err := sysfs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][2]uint32{"/srv/a.img": {8, 1}, "/shm/b.img": {0, 50}, "/btr/c.img": {0, 60}, "/loop/d.img": {7, 6}, "/srv/dir": {254, 0}}
	stat := func(p string) (uint32, uint32, error) {
		rel := "/" + strings.TrimPrefix(p, dir+"/")
		if n, ok := files[rel]; ok {
			return n[0], n[1], nil
		}
		return 0, 0, fmt.Errorf("stat %s: %w", rel, unix.ENOENT)
	}
	return root, stat
}

func TestDriveWalker(t *testing.T) {
	root, stat := sysTree(t)
	w := &driveWalker{root: root, statDev: stat}
	for _, c := range []struct {
		dev, path string
		drives    []string
		note      string
	}{
		{dev: "/dev/sda1", drives: []string{"/dev/sda"}},
		{dev: "/dev/sdb", drives: []string{"/dev/sdb"}},
		{dev: "/dev/dm-0", drives: []string{"/dev/sdb", "/dev/sdc"}},
		{dev: "/dev/loop3", drives: []string{"/dev/sda"}},
		{dev: "/dev/loop4", note: "/shm/b.img is on tmpfs, which has no block device"},
		{dev: "/dev/loop5", drives: []string{"/dev/sdd"}},
		{dev: "/dev/loop6", note: "device stack deeper than"},
		{dev: "/dev/loop7", drives: []string{"/dev/loop7"}},
		{dev: "/dev/nosuch", note: "no block device nosuch in sysfs"},
		{path: "/srv/dir", drives: []string{"/dev/sdb", "/dev/sdc"}},
		{path: "/gone", note: "/gone: stat /gone"},
	} {
		var f drivesFound
		if c.dev != "" {
			f = w.underDevice(c.dev)
		} else {
			f = w.underPath(c.path)
		}
		if !slices.Equal(f.drives, c.drives) {
			t.Errorf("%s%s: drives %v, want %v (notes %v)", c.dev, c.path, f.drives, c.drives, f.notes)
		}
		if c.note == "" && len(f.notes) > 0 {
			t.Errorf("%s%s: notes %v", c.dev, c.path, f.notes)
		}
		if c.note != "" && !strings.Contains(strings.Join(f.notes, "|"), c.note) {
			t.Errorf("%s%s: notes %v, want one with %q", c.dev, c.path, f.notes, c.note)
		}
	}
}

// devBackend is the memory backend with block devices: its volumes get
// the devices in dev (by name), so the driver's health walks a fake tree.
type devBackend struct {
	plugin.Backend
	dev map[string]string
}

func (b devBackend) withDev(v *plugin.Volume) {
	if d, ok := b.dev[v.Name]; ok {
		v.Device, v.Path = d, ""
	}
}

func (b devBackend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	v, err := b.Backend.Volume(ctx, id)
	if err == nil {
		b.withDev(v)
	}
	return v, err
}

func (b devBackend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	vs, err := b.Backend.Volumes(ctx, pool)
	for i := range vs {
		b.withDev(&vs[i])
	}
	return vs, err
}

type healthRig struct {
	d     *Driver
	smart *fakeSMART
	fs    fakeFS
	clock *fakeClock
	ids   map[string]string // backend name -> volume ID
}

// newHealthRig makes a driver over the memory backend whose volumes named
// in dev sit on the fake tree's devices.
func newHealthRig(t testing.TB, dev map[string]string) *healthRig {
	t.Helper()
	root, stat := sysTree(t)
	m, err := plugintest.NewMemory(t.TempDir(), "mem", 1<<30, plugintest.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	r := &healthRig{smart: &fakeSMART{by: map[string]*smart.Report{}, errs: map[string]error{}}, fs: fakeFS{},
		clock: &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, ids: map[string]string{}}
	d, err := New(devBackend{Backend: m, dev: dev}, opsStack{}, WithNodeID("n1"), WithRoot(root),
		WithHealth(HealthConfig{SMART: r.smart, Filesystems: r.fs, Now: r.clock.now}))
	if err != nil {
		t.Fatal(err)
	}
	d.health.statDev = stat
	r.d = d
	ctx := context.Background()
	for name := range dev {
		ops, err := m.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: name, SizeBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (opsStack{}).RunOps(ctx, ops); err != nil {
			t.Fatal(err)
		}
		r.ids[name] = "mem/" + name
	}
	return r
}

func (r *healthRig) get(t testing.TB, name string) []*csipb.VolumeHealth_VolumeHealthEntry {
	t.Helper()
	rsp, err := r.d.ControllerGetVolumeHealth(context.Background(), &csipb.ControllerGetVolumeHealthRequest{VolumeId: r.ids[name]})
	if err != nil {
		t.Fatal(err)
	}
	return rsp.GetVolumeHealth().GetHealthStatuses()
}

func find(es []*csipb.VolumeHealth_VolumeHealthEntry, reason string) *csipb.VolumeHealth_VolumeHealthEntry {
	for _, e := range es {
		if e.GetReason() == reason {
			return e
		}
	}
	return nil
}

func TestHealthSMART(t *testing.T) {
	r := newHealthRig(t, map[string]string{"on-sda": "/dev/loop3", "on-lv": "/dev/dm-0", "on-tmpfs": "/dev/loop4", "on-sdd": "/dev/loop5"})
	r.smart.by["/dev/sda"] = smartFixture(t, "WDC_WD20EARS-00MVWB0.bin")
	r.smart.by["/dev/sdb"] = smartFixture(t, "KINGSTON_SA400S37240G_SBFK71B1.bin")
	r.smart.by["/dev/sdc"] = smartFixture(t, "KINGSTON_SA400S37480G_SBFKQ13.bin")
	r.smart.by["/dev/sdd"] = nvmeWarning(t, 0x04) // NVM subsystem reliability degraded

	// A failing drive: abnormal, naming the drive and the attribute.
	h := r.get(t, "on-sda")
	e := find(h, ReasonDriveFailing)
	if e == nil || e.GetStatus() != csipb.VolumeHealthErrorType_DEGRADED || len(h) != 1 {
		t.Fatalf("failing drive: %v", h)
	}
	for _, want := range []string{"/dev/sda", "WD20EARS", "Reallocated_Sector_Ct", "health check reports failure"} {
		if !strings.Contains(e.GetMessage(), want) {
			t.Errorf("message %q lacks %q", e.GetMessage(), want)
		}
	}
	// Healthy drives (an LV over two): normal, nothing reported.
	if h := r.get(t, "on-lv"); len(h) != 0 {
		t.Fatalf("healthy drives: %v", h)
	}
	// NVMe critical warning: abnormal.
	if e := find(r.get(t, "on-sdd"), ReasonDriveFailing); e == nil || !strings.Contains(e.GetMessage(), "/dev/sdd") || !strings.Contains(e.GetMessage(), "reliability") {
		t.Fatalf("nvme critical warning: %v", e)
	}
	// A file on tmpfs has no drive: not abnormal, the note says why.
	h = r.get(t, "on-tmpfs")
	if len(h) != 1 || h[0].GetReason() != ReasonNoSMARTData || h[0].GetStatus() != csipb.VolumeHealthErrorType_UNKNOWN_VOLUME_HEALTH_TYPE ||
		!strings.Contains(h[0].GetMessage(), "no SMART data") || !strings.Contains(h[0].GetMessage(), "tmpfs") {
		t.Fatalf("no drive: %v", h)
	}
	// The list holds the abnormal volumes only.
	l, err := r.d.ControllerListVolumeHealth(context.Background(), &csipb.ControllerListVolumeHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range l.GetEntries() {
		got = append(got, v.GetVolumeId())
	}
	if want := []string{"mem/on-sda", "mem/on-sdd"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
}

func TestHealthSMARTMessages(t *testing.T) {
	r := newHealthRig(t, map[string]string{"lv": "/dev/dm-0", "warn": "/dev/sdb", "gone": "/dev/loop7"})
	r.smart.by["/dev/sdb"] = smartFixture(t, "WDC_WD20EARS-00MVWB0.bin")
	r.smart.by["/dev/sdc"] = smartFixture(t, "Maxtor_6Y120P0.bin")
	// Two failing drives under one volume: one entry (one per status and
	// reason, as the spec asks) naming both.
	h := r.get(t, "lv")
	if len(h) != 1 || !strings.Contains(h[0].GetMessage(), "/dev/sdb") || !strings.Contains(h[0].GetMessage(), "/dev/sdc") {
		t.Fatalf("two failing drives: %v", h)
	}
	// A warning drive.
	r.smart.by["/dev/sdb"] = smartFixture(t, "SAMSUNG_HS122JC.bin")
	r.clock.add(time.Hour)
	if e := find(r.get(t, "warn"), ReasonDriveWarning); e == nil || !strings.Contains(e.GetMessage(), "pending sectors") {
		t.Fatalf("warning drive: %v", r.get(t, "warn"))
	}
	// A SMART read that fails is not abnormal.
	r.smart.errs["/dev/loop7"] = fmt.Errorf("%w: timed out", smart.ErrTimeout)
	h = r.get(t, "gone")
	if len(h) != 1 || h[0].GetReason() != ReasonNoSMARTData || !strings.Contains(h[0].GetMessage(), "timed out") {
		t.Fatalf("failed read: %v", h)
	}
	// The note is left out when something else is abnormal.
	r.fs["/dev/loop7"] = &fsys.Info{Super: superblock.Super{Type: "ext4", State: superblock.StateErrors}, Device: "/dev/loop7"}
	h = r.get(t, "gone")
	if len(h) != 1 || h[0].GetReason() != ReasonFilesystemErrors || h[0].GetStatus() != csipb.VolumeHealthErrorType_DATA_LOSS ||
		!strings.Contains(h[0].GetMessage(), "ext4") {
		t.Fatalf("filesystem errors: %v", h)
	}
	r.fs["/dev/loop7"] = fmt.Errorf("fsys: statfs /mnt: %w", os.NewSyscallError("statfs", unix.EIO))
	if e := find(r.get(t, "gone"), ReasonFilesystemIO); e == nil || e.GetStatus() != csipb.VolumeHealthErrorType_DATA_LOSS {
		t.Fatalf("EIO: %v", r.get(t, "gone"))
	}
}

func TestHealthSMARTCache(t *testing.T) {
	dev := map[string]string{}
	for i := range 100 {
		dev[fmt.Sprintf("v%03d", i)] = "/dev/loop3" // all on sda
	}
	r := newHealthRig(t, dev)
	r.smart.by["/dev/sda"] = smartFixture(t, "KINGSTON_SA400S37240G_SBFK71B1.bin")
	ctx := context.Background()
	list := func() {
		t.Helper()
		if _, err := r.d.ControllerListVolumeHealth(ctx, &csipb.ControllerListVolumeHealthRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	list()
	if n := r.smart.count("/dev/sda"); n != 1 {
		t.Fatalf("100 volumes on one drive: %d SMART reads", n)
	}
	r.clock.add(DefaultSMARTTTL - time.Second)
	list()
	r.get(t, "v007")
	if n := r.smart.count("/dev/sda"); n != 1 {
		t.Fatalf("within the TTL: %d reads", n)
	}
	r.clock.add(2 * time.Second)
	list()
	if n := r.smart.count("/dev/sda"); n != 2 {
		t.Fatalf("after the TTL: %d reads, want 2", n)
	}
	// Concurrent polls of a slow drive share one read.
	r.clock.add(time.Hour)
	r.smart.delay = 20 * time.Millisecond
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.d.smartOf(ctx, "/dev/sda"); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := r.smart.count("/dev/sda"); n != 3 || failed.Load() != 0 {
		t.Fatalf("16 concurrent polls: %d reads, %d failed", n, failed.Load())
	}
	// A read the caller abandons goes on and is cached: a CO whose
	// deadline is shorter than the drive does not make every poll ask it.
	r.clock.add(time.Hour)
	r.smart.delay = 0
	gate := make(chan struct{})
	r.smart.mu.Lock()
	r.smart.gate = gate
	r.smart.mu.Unlock()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.d.smartOf(cctx, "/dev/sda"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	r.smart.mu.Lock()
	r.smart.gate = nil
	r.smart.mu.Unlock()
	close(gate)
	if _, err := r.d.smartOf(ctx, "/dev/sda"); err != nil || r.smart.count("/dev/sda") != 4 {
		t.Fatalf("after an abandoned read: %v, %d reads, want 4", err, r.smart.count("/dev/sda"))
	}
	// A drive that does not answer within the timeout: the read ends, the
	// failure is cached and is not abnormal.
	r.d.health.cfg.Timeout = 10 * time.Millisecond
	r.smart.delay = time.Second
	r.clock.add(time.Hour)
	h := r.get(t, "v001")
	if len(h) != 1 || h[0].GetReason() != ReasonNoSMARTData || !strings.Contains(h[0].GetMessage(), "deadline") {
		t.Fatalf("hung drive: %v", h)
	}
	r.get(t, "v002")
	if n := r.smart.count("/dev/sda"); n != 5 {
		t.Fatalf("hung drive: %d reads, want 5 (its failure cached)", n)
	}
}

func TestWithHealthValidates(t *testing.T) {
	m, err := plugintest.NewMemory(t.TempDir(), "mem", 1<<30, plugintest.Faults{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []HealthConfig{{TTL: -1}, {Timeout: -time.Second}, {TTL: 2 * time.Hour}, {Timeout: time.Hour}} {
		if _, err := New(m, opsStack{}, WithNodeID("n"), WithHealth(c)); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
