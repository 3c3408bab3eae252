package storage

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
)

const (
	mib = int64(1) << 20
	gib = int64(1) << 30
)

// fakeMachine is an inventory built by hand: a 10 GiB disk /dev/sdb.
type fakeMachine struct{ inv *Inventory }

func newFake() *fakeMachine {
	return &fakeMachine{inv: &Inventory{Devices: []Device{
		{Name: "sdb", Path: "/dev/sdb", Type: "disk", SizeBytes: 10 * gib, Serial: "SN-B"},
	}}}
}

func (f *fakeMachine) gpt() *fakeMachine {
	f.inv.Tables = append(f.inv.Tables, PartitionTable{Disk: "/dev/sdb", Label: "gpt", SectorSize: 512, Sectors: uint64(10 * gib / 512)})
	return f
}

// part adds partition n of the given size right after the previous one.
func (f *fakeMachine) part(n int, size int64) *fakeMachine {
	t := &f.inv.Tables[len(f.inv.Tables)-1]
	start := mib
	if k := len(t.Partitions); k > 0 {
		start = t.Partitions[k-1].StartBytes + t.Partitions[k-1].SizeBytes
	}
	t.Partitions = append(t.Partitions, Partition{Number: n, StartBytes: start, SizeBytes: size})
	path := partPath("/dev/sdb", n)
	f.inv.Devices[0].Children = append(f.inv.Devices[0].Children, path)
	f.inv.Devices = append(f.inv.Devices, Device{Name: strings.TrimPrefix(path, "/dev/"), Path: path, Type: "part", SizeBytes: size, Parents: []string{"/dev/sdb"}, PartNumber: n})
	return f
}

func (f *fakeMachine) fs(dev string, t fsys.Type, size int64, mounts ...string) *fakeMachine {
	f.inv.Filesystems = append(f.inv.Filesystems, fsys.Info{Super: superblock.Super{Type: string(t), SizeBytes: size, BlockSize: 4096},
		Device: dev, DeviceBytes: f.inv.Device(dev).SizeBytes, Mountpoints: mounts})
	d := f.inv.Device(dev)
	d.FSType, d.Mountpoints = string(t), mounts
	return f
}

func testEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	e.minSizeFn = func(context.Context, string) (int64, error) { return 512 * mib, nil }
	t.Cleanup(func() { e.Close() })
	return e
}

func plan(t *testing.T, f *fakeMachine, s *Spec) *Plan {
	t.Helper()
	p, err := testEngine(t).PlanFor(context.Background(), f.inv, s)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func ids(p *Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.ID)
	}
	return out
}

// twoPartSpec: GPT, a 4 GiB ext4 mounted at /srv/data, the rest xfs at /srv/logs.
func twoPartSpec() *Spec {
	return &Spec{
		Disks:       []DiskSpec{{ID: "b", Serial: "SN-B", Partitions: []PartitionSpec{{Number: 1, SizeBytes: 4 * gib}, {Number: 2}}}},
		Filesystems: []FilesystemSpec{{Device: "b#1", Type: "ext4", Label: "data"}, {Device: "b#2", Type: "xfs"}},
		Mounts:      []MountSpec{{Device: "b#1", Target: "/srv/data"}, {Device: "b#2", Target: "/srv/logs"}},
	}
}

func TestPlanBlankDiskStages(t *testing.T) {
	p := plan(t, newFake(), twoPartSpec())
	want := [][]string{
		{"partition.write:/dev/sdb"},
		{"fsys.mkfs:/dev/sdb1", "fsys.mkfs:/dev/sdb2"},
		{"fsys.mount:/srv/data", "fsys.mount:/srv/logs"},
	}
	got := p.Stages
	for _, st := range got {
		slices.Sort(st)
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("stages = %v, want %v", got, want)
	}
	w := p.Action("partition.write:/dev/sdb")
	if !w.NewTable || len(w.Partitions) != 2 || !strings.Contains(w.Reason, "create a GPT") {
		t.Fatalf("partition action %+v", w)
	}
	var b strings.Builder
	if err := p.WriteStages(&b); err != nil || !strings.Contains(b.String(), "stage 3:") || !strings.Contains(b.String(), "mount /dev/sdb1 (ext4) at /srv/data") {
		t.Fatalf("stages print %q %v", b.String(), err)
	}
}

// held is the machine after twoPartSpec was applied.
func held() *fakeMachine {
	f := newFake().gpt().part(1, 4*gib).part(2, 10*gib-4*gib-mib-mib-34*512)
	return f.fs("/dev/sdb1", fsys.Ext4, 4*gib, "/srv/data").fs("/dev/sdb2", fsys.XFS, f.inv.Device("/dev/sdb2").SizeBytes, "/srv/logs")
}

func TestPlanHoldingSpecIsEmpty(t *testing.T) {
	p := plan(t, held(), twoPartSpec())
	if !p.Empty() {
		t.Fatalf("a spec that holds planned %v", ids(p))
	}
	var b strings.Builder
	p.WriteStages(&b)
	if !strings.Contains(b.String(), "nothing to do") {
		t.Fatalf("empty plan prints %q", b.String())
	}
}

func TestPlanChangedSpecGivesOnlyTheDifference(t *testing.T) {
	f := newFake().gpt().part(1, 4*gib).fs("/dev/sdb1", fsys.Ext4, 4*gib, "/srv/data")
	s := twoPartSpec()
	p := plan(t, f, s)
	want := []string{"partition.write:/dev/sdb", "fsys.mkfs:/dev/sdb2", "fsys.mount:/srv/logs"}
	if got := ids(p); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	w := p.Action("partition.write:/dev/sdb")
	if w.NewTable || len(w.Partitions) != 1 || w.Partitions[0].Op != "add" || w.Partitions[0].Number != 2 {
		t.Fatalf("partition action %+v", w)
	}
}

func TestPlanRefusesWithEveryReason(t *testing.T) {
	f := held()
	f.inv.Health = []DriveHealth{{Device: "/dev/sdb", Verdict: "failing", Reasons: []string{"reallocated: 5000 sectors"}}}
	f.inv.Devices = append(f.inv.Devices, Device{Name: "sdc", Path: "/dev/sdc", Type: "disk", SizeBytes: gib})
	f.fs("/dev/sdc", fsys.Btrfs, gib)
	s := &Spec{
		Disks: []DiskSpec{
			{ID: "b", Path: "/dev/sdb", Partitions: []PartitionSpec{{Number: 1, SizeBytes: 4 * gib}, {Number: 2, SizeBytes: 5 * gib}, {Number: 3, SizeBytes: 20 * gib}}},
			{ID: "gone", Serial: "NOPE"},
		},
		Filesystems: []FilesystemSpec{
			{Device: "b#2", Type: "xfs", SizeBytes: gib},      // shrink xfs
			{Device: "/dev/sdc", Type: "ext4"},                // btrfs there, not disposable
			{Device: "b#1", Type: "ext4", SizeBytes: 6 * gib}, // bigger than the device
		},
		Mounts: []MountSpec{{Device: "/dev/sdc", Target: "/srv/data"}}, // sdb1 is there
	}
	_, err := testEngine(t).PlanFor(context.Background(), f.inv, s)
	var re *RefusedError
	if !errors.As(err, &re) || !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want a *RefusedError", err)
	}
	for _, c := range []Code{CodeTooBig, CodeNotFound, CodeShrinkXFS, CodeNotDisposable, CodeMountConflict} {
		if !re.Has(c) {
			t.Errorf("no %s reason in %v", c, re)
		}
	}
	if len(re.Reasons) < 6 {
		t.Errorf("%d reasons, want every one: %v", len(re.Reasons), re)
	}
}

func TestPlanFailingDriveRefusesHeavyUnlessOverridden(t *testing.T) {
	f := newFake().gpt().part(1, 4*gib).fs("/dev/sdb1", fsys.Ext4, 4*gib)
	f.inv.Health = []DriveHealth{{Device: "/dev/sdb", Verdict: "failing"}}
	s := &Spec{
		Disks:       []DiskSpec{{ID: "b", Path: "/dev/sdb", Partitions: []PartitionSpec{{Number: 1, SizeBytes: 6 * gib}}}},
		Filesystems: []FilesystemSpec{{Device: "b#1", Type: "ext4"}},
	}
	_, err := testEngine(t).PlanFor(context.Background(), f.inv, s)
	var re *RefusedError
	if !errors.As(err, &re) || !re.Has(CodeDriveFailing) {
		t.Fatalf("err = %v, want drive_failing", err)
	}
	s.Overrides = []OverrideSpec{{Code: string(CodeDriveFailing), Device: "/dev/sdb", Reason: "copying off first", By: "ops"}}
	p := plan(t, f, s)
	for _, a := range p.Actions {
		if !a.Heavy || len(a.Overrides) == 0 {
			t.Errorf("%s: heavy %v overrides %v", a.ID, a.Heavy, a.Overrides)
		}
	}
	// A non-heavy change (a mount) on a failing drive is not refused.
	f2 := newFake().gpt().part(1, 4*gib).fs("/dev/sdb1", fsys.Ext4, 4*gib)
	f2.inv.Health = f.inv.Health
	if _, err := testEngine(t).PlanFor(context.Background(), f2.inv, &Spec{Mounts: []MountSpec{{Device: "/dev/sdb1", Target: "/mnt/x"}}}); err != nil {
		t.Fatalf("mount on a failing drive: %v", err)
	}
}

func TestPlanWholeStackGrowPartitionThenFilesystem(t *testing.T) {
	f := newFake().gpt().part(1, 4*gib).fs("/dev/sdb1", fsys.Ext4, 4*gib)
	s := &Spec{
		Disks:       []DiskSpec{{ID: "b", Path: "/dev/sdb", Partitions: []PartitionSpec{{Number: 1}}}}, // the rest
		Filesystems: []FilesystemSpec{{Device: "b#1", Type: "ext4"}},                                   // fill
	}
	p := plan(t, f, s)
	want := []string{"partition.write:/dev/sdb", "fsys.resize:/dev/sdb1"}
	if got := ids(p); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	r := p.Action("fsys.resize:/dev/sdb1")
	if !slices.Equal(r.Depends, []string{"partition.write:/dev/sdb"}) || r.SizeBytes <= 9*gib || !r.Heavy {
		t.Fatalf("resize %+v", r)
	}
	if len(p.Stages) != 2 {
		t.Fatalf("stages %v", p.Stages)
	}
}

func TestPlanWholeStackShrinkFilesystemFirst(t *testing.T) {
	f := newFake().gpt().part(1, 8*gib).fs("/dev/sdb1", fsys.Ext4, 8*gib)
	s := &Spec{
		Disks:       []DiskSpec{{ID: "b", Path: "/dev/sdb", Partitions: []PartitionSpec{{Number: 1, SizeBytes: 2 * gib}}}},
		Filesystems: []FilesystemSpec{{Device: "b#1", Type: "ext4"}},
	}
	p := plan(t, f, s)
	want := []string{"partition.shrink:/dev/sdb", "fsys.resize:/dev/sdb1"}
	if got := ids(p); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	if d := p.Action("partition.shrink:/dev/sdb").Depends; !slices.Equal(d, []string{"fsys.resize:/dev/sdb1"}) {
		t.Fatalf("partition shrink depends on %v", d)
	}
	if p.Action("fsys.resize:/dev/sdb1").SizeBytes != 2*gib {
		t.Fatalf("fs shrink %+v", p.Action("fsys.resize:/dev/sdb1"))
	}
	// Below the minimum: refused before anything is written.
	s.Disks[0].Partitions[0].SizeBytes = 256 * mib
	_, err := testEngine(t).PlanFor(context.Background(), f.inv, s)
	var re *RefusedError
	if !errors.As(err, &re) || !re.Has(CodeShrinkBelowMin) {
		t.Fatalf("err = %v, want below_min_size", err)
	}
	// Mounted ext4 shrinks only offline.
	f.inv.Filesystems[0].Mountpoints = []string{"/srv"}
	s.Disks[0].Partitions[0].SizeBytes = 2 * gib
	if _, err := testEngine(t).PlanFor(context.Background(), f.inv, s); !errors.As(err, &re) || !re.Has(CodeShrinkNotSafe) {
		t.Fatalf("err = %v, want shrink_unsupported", err)
	}
}

func TestPlanLVMFullStack(t *testing.T) {
	f := newFake()
	f.inv.LVM = &lvm.Report{}
	s := &Spec{
		Disks: []DiskSpec{{ID: "b", Path: "/dev/sdb", Partitions: []PartitionSpec{{Number: 1, Type: "lvm"}}}},
		VolumeGroups: []VGSpec{{Name: "data", PVs: []string{"b#1"},
			ThinPools: []ThinPoolSpec{{Name: "pool", SizeBytes: 8 * gib}},
			LVs:       []LVSpec{{Name: "db", SizeBytes: 4 * gib, Pool: "pool"}, {Name: "logs", SizeBytes: gib}}}},
		Filesystems: []FilesystemSpec{{Device: "/dev/data/db", Type: "xfs"}, {Device: "/dev/data/logs", Type: "ext4"}},
		Mounts:      []MountSpec{{Device: "/dev/data/db", Target: "/srv/db"}, {Device: "/dev/data/logs", Target: "/srv/logs"}},
	}
	p := plan(t, f, s)
	chain := map[string]string{ // action -> one dependency it must have
		"lvm.pvcreate:/dev/sdb1":        "partition.write:/dev/sdb",
		"lvm.vgcreate:data":             "lvm.pvcreate:/dev/sdb1",
		"lvm.thinpool.create:data/pool": "lvm.vgcreate:data",
		"lvm.lvcreate:data/db":          "lvm.thinpool.create:data/pool",
		"lvm.lvcreate:data/logs":        "lvm.vgcreate:data",
		"fsys.mkfs:/dev/mapper/data-db": "lvm.lvcreate:data/db",
		"fsys.mount:/srv/db":            "fsys.mkfs:/dev/mapper/data-db",
		"fsys.mount:/srv/logs":          "fsys.mkfs:/dev/mapper/data-logs",
	}
	for id, dep := range chain {
		a := p.Action(id)
		if a == nil {
			t.Fatalf("no action %s in %v", id, ids(p))
		}
		if !slices.Contains(a.Depends, dep) {
			t.Errorf("%s depends on %v, want %s", id, a.Depends, dep)
		}
	}
	if len(p.Actions) != 10 {
		t.Errorf("%d actions: %v", len(p.Actions), ids(p))
	}
	// The thin LV and the linear LV (and their mkfs) are independent: the
	// logs chain runs beside the pool.
	if len(p.Stages) != 7 || !slices.Contains(p.Stages[3], "lvm.lvcreate:data/logs") || !slices.Contains(p.Stages[3], "lvm.thinpool.create:data/pool") {
		t.Errorf("stages %v", p.Stages)
	}
	// Too big for the VG: refused.
	s.VolumeGroups[0].LVs[1].SizeBytes = 4 * gib
	if _, err := testEngine(t).PlanFor(context.Background(), f.inv, s); !errors.Is(err, ErrRefused) {
		t.Fatalf("12 GiB in a 10 GiB VG: %v", err)
	}
}

func TestPlanWholeStackGrowThroughLVM(t *testing.T) {
	f := newFake().gpt().part(1, 4*gib)
	f.inv.Devices = append(f.inv.Devices, Device{Name: "data-db", Path: "/dev/mapper/data-db", Type: "lvm", SizeBytes: 2 * gib, Parents: []string{"/dev/sdb1"}})
	f.fs("/dev/mapper/data-db", fsys.XFS, 2*gib, "/srv/db")
	vg := &lvm.VG{Name: "data", Size: 4*gib - 4*mib, ExtentSize: 4 * mib, PVCount: 1}
	vg.LVs = []*lvm.LV{{Name: "db", VGName: "data", Size: 2 * gib}}
	f.inv.LVM = &lvm.Report{VGs: []*lvm.VG{vg}, PVs: []*lvm.PV{{Name: "/dev/sdb1", VGName: "data", Size: 4*gib - 4*mib, Used: 2 * gib}}}
	s := &Spec{
		Disks:        []DiskSpec{{ID: "b", Path: "/dev/sdb", Partitions: []PartitionSpec{{Number: 1}}}},
		VolumeGroups: []VGSpec{{Name: "data", PVs: []string{"b#1"}, LVs: []LVSpec{{Name: "db", SizeBytes: 8 * gib}}}},
		Filesystems:  []FilesystemSpec{{Device: "/dev/data/db", Type: "xfs"}},
		Mounts:       []MountSpec{{Device: "/dev/data/db", Target: "/srv/db"}},
	}
	p := plan(t, f, s)
	want := []string{"partition.write:/dev/sdb", "lvm.pvresize:/dev/sdb1", "lvm.lvresize:data/db"}
	if got := ids(p); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v (the LV resize grows the filesystem)", got, want)
	}
	if len(p.Stages) != 3 {
		t.Fatalf("grow is a chain partition -> PV -> LV(+fs): stages %v", p.Stages)
	}
	// Shrinking that xfs LV is refused.
	s.VolumeGroups[0].LVs[0].SizeBytes = gib
	s.Disks[0].Partitions[0].SizeBytes = 4 * gib
	_, err := testEngine(t).PlanFor(context.Background(), f.inv, s)
	var re *RefusedError
	if !errors.As(err, &re) || !re.Has(CodeShrinkXFS) {
		t.Fatalf("err = %v, want shrink_xfs", err)
	}
}

func TestPlanJSONRoundTrip(t *testing.T) {
	e := testEngine(t)
	f := newFake()
	f.inv.LVM = &lvm.Report{}
	p, err := e.PlanFor(context.Background(), f.inv, twoPartSpec())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Plan
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if q.Sched() != nil {
		t.Fatal("a decoded plan has a sched plan before Compile")
	}
	if err := e.Compile(&q); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&q)
	if string(b) != string(b2) {
		t.Fatalf("round trip differs:\n%s\n%s", b, b2)
	}
	if q.Sched().Len() != len(p.Actions) {
		t.Fatalf("compiled %d operations for %d actions", q.Sched().Len(), len(p.Actions))
	}
	var empty Plan
	if b, _ := json.Marshal(&empty); string(b) != `{"actions":[]}` {
		t.Fatalf("empty plan JSON %s", b)
	}
}

func TestSpecValidateListsEveryProblem(t *testing.T) {
	s := &Spec{
		Disks:       []DiskSpec{{ID: "a#"}, {ID: "b", Path: "/dev/x", Table: "dos", Partitions: []PartitionSpec{{Number: 0}, {Number: 2}}}},
		Filesystems: []FilesystemSpec{{Device: "zz#1", Type: "ext4"}},
		Mounts:      []MountSpec{{Device: "/dev/x1", Target: "relative"}},
	}
	err := s.Validate()
	var re *RefusedError
	if !errors.As(err, &re) || len(re.Reasons) < 6 {
		t.Fatalf("err = %v", err)
	}
	if _, err := ReadSpec(strings.NewReader(`{"disks":[{"id":"a","path":"/dev/sdb","partitons":[]}]}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a misspelt field: %v", err)
	}
}

func TestApplyWithoutJournalChangesNothing(t *testing.T) {
	e := testEngine(t)
	p, err := e.PlanFor(context.Background(), newFake().inv, twoPartSpec())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), p); !errors.Is(err, ErrNoJournal) {
		t.Fatalf("apply without a journal: %v", err)
	}
	if _, err := e.Apply(context.Background(), &Plan{}); err != nil {
		t.Fatalf("empty plan: %v", err)
	}
}
