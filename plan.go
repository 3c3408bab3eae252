package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Action kinds.
const (
	KindPartitionShrink = "partition.shrink" // shrink partitions of one disk (after what is on them)
	KindPartitionWrite  = "partition.write"  // create the table, add and grow partitions of one disk
	KindPVCreate        = "lvm.pvcreate"
	KindPVResize        = "lvm.pvresize"
	KindVGCreate        = "lvm.vgcreate"
	KindVGExtend        = "lvm.vgextend"
	KindThinPoolCreate  = "lvm.thinpool.create"
	KindThinPoolExtend  = "lvm.thinpool.extend"
	KindLVCreate        = "lvm.lvcreate"
	KindLVResize        = "lvm.lvresize" // filesystem-aware: the filesystem on it follows
	KindBackendCreate   = "backend.create"
	KindBackendResize   = "backend.resize"
	KindMkfs            = "fsys.mkfs"
	KindFSResize        = "fsys.resize"
	KindMount           = "fsys.mount"
)

// heavyMkfsBytes is the size from which mkfs counts as heavy (health and
// load checks apply).
const heavyMkfsBytes = 64 << 30

// partAlign is the partition alignment the planner assumes (the editor's
// default, 1 MiB): size differences below it are not differences.
const partAlign = 1 << 20

// PartitionChange is one edit of a partition-table action.
type PartitionChange struct {
	Op        string `json:"op"` // add, resize
	Number    int    `json:"number"`
	SizeBytes int64  `json:"size_bytes,omitempty"` // 0: the rest
	Name      string `json:"name,omitempty"`
	Type      string `json:"type,omitempty"`
}

// Action is one step of a Plan, everything needed to run it again from
// its JSON (on this node or another).
type Action struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Reason  string   `json:"reason"`
	Depends []string `json:"depends,omitempty"`
	// Device is the device the action writes (the disk for partition
	// actions, the PV, the LV, the filesystem's device).
	Device string `json:"device,omitempty"`
	// Drives are the whole disks under Device: what SMART and %util are
	// checked on before a heavy action.
	Drives []string `json:"drives,omitempty"`
	Heavy  bool     `json:"heavy,omitempty"`

	SizeBytes  int64             `json:"size_bytes,omitempty"`
	NewTable   bool              `json:"new_table,omitempty"`
	Partitions []PartitionChange `json:"partitions,omitempty"`

	VG            string   `json:"vg,omitempty"`
	LV            string   `json:"lv,omitempty"`
	Pool          string   `json:"pool,omitempty"`
	PVs           []string `json:"pvs,omitempty"`
	ExtentBytes   int64    `json:"extent_bytes,omitempty"`
	MetadataBytes int64    `json:"metadata_bytes,omitempty"`

	Backend string `json:"backend,omitempty"`
	Name    string `json:"name,omitempty"`
	Thin    bool   `json:"thin,omitempty"`

	FSType     string   `json:"fstype,omitempty"`
	Label      string   `json:"label,omitempty"`
	Target     string   `json:"target,omitempty"`
	ReadOnly   bool     `json:"read_only,omitempty"`
	Options    []string `json:"options,omitempty"`
	Disposable bool     `json:"disposable,omitempty"`

	// Overrides are the refusals lifted for this action (journaled when
	// used).
	Overrides []OverrideSpec `json:"overrides,omitempty"`
}

// Plan is what Plan returns: the actions, their stages (what would start
// together) and the sched.Plan that runs them. It serializes to JSON; a
// decoded Plan runs with Engine.Apply, which rebuilds the operations.
type Plan struct {
	Actions []Action   `json:"actions"`
	Stages  [][]string `json:"stages,omitempty"`

	sched *sched.Plan
}

// Empty reports whether the Spec already holds.
func (p *Plan) Empty() bool { return p == nil || len(p.Actions) == 0 }

// Sched returns the scheduler plan (nil for a Plan decoded from JSON
// until Engine.Apply or Engine.Compile rebuilds it).
func (p *Plan) Sched() *sched.Plan { return p.sched }

// Action returns the action id, or nil.
func (p *Plan) Action(id string) *Action {
	for i := range p.Actions {
		if p.Actions[i].ID == id {
			return &p.Actions[i]
		}
	}
	return nil
}

// WriteStages prints the plan as a dry run: each stage, and in it each
// action with its reason.
func (p *Plan) WriteStages(w io.Writer) error {
	if p.Empty() {
		_, err := fmt.Fprintln(w, "nothing to do: the spec holds")
		return err
	}
	for i, st := range p.Stages {
		if _, err := fmt.Fprintf(w, "stage %d:\n", i+1); err != nil {
			return err
		}
		for _, id := range st {
			a := p.Action(id)
			if a == nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "  %-40s %s\n", a.ID, a.Reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// Plan compares spec with the machine now and returns the actions that
// make it hold: none when it already does. A Spec that cannot hold is
// refused with a *RefusedError listing every reason.
func (e *Engine) Plan(ctx context.Context, spec *Spec) (*Plan, error) {
	inv, err := e.Inventory(ctx)
	if err != nil {
		return nil, err
	}
	return e.PlanFor(ctx, inv, spec)
}

// PlanFor is Plan against a given inventory (a recorded one, or one read
// once for many specs).
func (e *Engine) PlanFor(ctx context.Context, inv *Inventory, spec *Spec) (*Plan, error) {
	if spec == nil {
		return nil, fmt.Errorf("%w: nil spec", ErrInvalid)
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	pl := &planner{e: e, ctx: ctx, inv: inv, spec: spec,
		disks: map[string]string{}, future: map[string]int64{},
		creator: map[string]string{}, grower: map[string]string{}, mkfs: map[string]string{},
		shrinkDeps: map[string][]string{}, lvHandlesFS: map[string]bool{}, fsShrink: map[string]string{}}
	pl.run()
	if len(pl.reasons) > 0 {
		return nil, &RefusedError{Reasons: pl.reasons}
	}
	p := &Plan{Actions: pl.actions}
	if err := e.Compile(p); err != nil {
		return nil, err
	}
	return p, nil
}

// Compile builds p's sched.Plan and stages from its actions (after a
// JSON decode, or to run a stored plan on another node).
func (e *Engine) Compile(p *Plan) error {
	ops := make([]sched.Operation, len(p.Actions))
	for i := range p.Actions {
		ops[i] = e.operation(p.Actions[i])
	}
	sp := sched.NewPlan(ops...)
	stages, err := e.sched.DryRun(sp)
	if err != nil {
		return err
	}
	p.Stages = nil
	for _, st := range stages {
		var ids []string
		for _, u := range st.Units {
			ids = append(ids, u...)
		}
		p.Stages = append(p.Stages, ids)
	}
	p.sched = sp
	return nil
}

type planner struct {
	e       *Engine
	ctx     context.Context
	inv     *Inventory
	spec    *Spec
	actions []Action
	reasons []Reason

	disks       map[string]string   // spec disk ID -> path
	future      map[string]int64    // device -> size after the plan (devices that change or appear)
	creator     map[string]string   // device -> the action that creates it
	grower      map[string]string   // device -> the action that grows it
	mkfs        map[string]string   // device -> its mkfs action
	fsShrink    map[string]string   // device -> its filesystem shrink action
	shrinkDeps  map[string][]string // disk -> actions its partition shrink waits for
	lvHandlesFS map[string]bool     // LV devices whose filesystem the LV resize handles
	vgGrowers   map[string][]string
}

func (pl *planner) refuse(c Code, obj, f string, a ...any) {
	pl.reasons = append(pl.reasons, Reason{Code: c, Object: obj, Message: fmt.Sprintf(f, a...)})
}

func (pl *planner) add(a Action) {
	slices.Sort(a.Depends)
	a.Depends = slices.Compact(a.Depends)
	pl.actions = append(pl.actions, a)
}

func (pl *planner) run() {
	pl.vgGrowers = map[string][]string{}
	for _, d := range pl.spec.Disks {
		pl.disk(d)
	}
	for _, v := range pl.spec.VolumeGroups {
		pl.vg(v)
	}
	for _, b := range pl.spec.BackendVolumes {
		pl.backend(b)
	}
	for _, f := range pl.spec.Filesystems {
		pl.filesystem(f)
	}
	for _, m := range pl.spec.Mounts {
		pl.mount(m)
	}
	// The partition shrink of a disk waits for what shrinks on it; the
	// adds and grows wait for the shrink.
	for i := range pl.actions {
		a := &pl.actions[i]
		if a.Kind == KindPartitionShrink {
			a.Depends = append(a.Depends, pl.shrinkDeps[a.Device]...)
			slices.Sort(a.Depends)
			a.Depends = slices.Compact(a.Depends)
		}
	}
}

// sizeOf is a device's size after the plan so far (0 when unknown).
func (pl *planner) sizeOf(dev string) int64 {
	if s, ok := pl.future[dev]; ok {
		return s
	}
	if d := pl.inv.Device(dev); d != nil {
		return d.SizeBytes
	}
	return 0
}

// partPath names partition n of disk as the kernel does.
func partPath(disk string, n int) string {
	if disk != "" && disk[len(disk)-1] >= '0' && disk[len(disk)-1] <= '9' {
		return disk + "p" + strconv.Itoa(n)
	}
	return disk + strconv.Itoa(n)
}

// lvPath is the /dev/mapper name of vg/lv (dashes doubled).
func lvPath(vg, lv string) string {
	esc := func(s string) string { return strings.ReplaceAll(s, "-", "--") }
	return "/dev/mapper/" + esc(vg) + "-" + esc(lv)
}

// resolve turns a Spec device reference into a path ("" when the disk it
// names was not found: that is already a reason).
func (pl *planner) resolve(ref string) string {
	if id, n, ok := strings.Cut(ref, "#"); ok {
		disk := pl.disks[id]
		num, err := strconv.Atoi(n)
		if disk == "" || err != nil {
			return ""
		}
		return partPath(disk, num)
	}
	if rest, ok := strings.CutPrefix(ref, "/dev/"); ok && !strings.HasPrefix(rest, "mapper/") {
		if vg, lv, ok := strings.Cut(rest, "/"); ok && !strings.Contains(lv, "/") && pl.isVG(vg) {
			return lvPath(vg, lv)
		}
	}
	return ref
}

func (pl *planner) isVG(name string) bool {
	for _, v := range pl.spec.VolumeGroups {
		if v.Name == name {
			return true
		}
	}
	return pl.inv.LVM != nil && pl.inv.LVM.VG(name) != nil
}

// drives are the whole disks under dev (dev itself for a disk or loop).
func (pl *planner) drives(dev string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		if seen[p] || depth > 16 {
			return
		}
		seen[p] = true
		d := pl.inv.Device(p)
		if d == nil {
			return
		}
		if d.Type == "disk" || d.Type == "loop" {
			out = append(out, d.Path)
			return
		}
		for _, par := range d.Parents {
			walk(par, depth+1)
		}
	}
	walk(dev, 0)
	if len(out) == 0 {
		// A device the plan creates: its disk is the one it is cut from.
		for _, disk := range pl.disks {
			if strings.HasPrefix(dev, disk) {
				out = append(out, disk)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (pl *planner) override(c Code, dev string) (OverrideSpec, bool) {
	for _, o := range pl.spec.Overrides {
		if Code(o.Code) == c && (o.Device == "" || o.Device == dev) {
			return o, true
		}
	}
	return OverrideSpec{}, false
}

// heavy marks a as heavy and refuses it on a failing drive unless the
// Spec overrides drive_failing.
func (pl *planner) heavy(a *Action, obj string) {
	a.Heavy = true
	a.Drives = pl.drives(a.Device)
	for _, dr := range a.Drives {
		for _, h := range pl.inv.Health {
			if h.Device != dr || h.Verdict != "failing" {
				continue
			}
			if o, ok := pl.override(CodeDriveFailing, dr); ok {
				a.Overrides = append(a.Overrides, o)
				continue
			}
			pl.refuse(CodeDriveFailing, obj, "%s on %s: SMART says drive %s is failing (%s)", a.Kind, a.Device, dr, strings.Join(h.Reasons, "; "))
		}
	}
	if o, ok := pl.override(CodeDeviceSaturated, a.Device); ok {
		a.Overrides = append(a.Overrides, o)
	}
}

func (pl *planner) findDisk(d DiskSpec) *Device {
	for i := range pl.inv.Devices {
		v := &pl.inv.Devices[i]
		if v.Type != "disk" && v.Type != "loop" {
			continue
		}
		switch {
		case d.Path != "" && v.Path == d.Path,
			d.Path == "" && d.Serial != "" && v.Serial == d.Serial,
			d.Path == "" && d.Serial == "" && d.WWN != "" && v.WWN == d.WWN:
			return v
		}
	}
	return nil
}

func (pl *planner) disk(ds DiskSpec) {
	obj := "disk " + ds.ID
	dev := pl.findDisk(ds)
	if dev == nil {
		pl.refuse(CodeNotFound, obj, "no disk with path %q serial %q wwn %q", ds.Path, ds.Serial, ds.WWN)
		return
	}
	disk := dev.Path
	pl.disks[ds.ID] = disk
	const gptOverhead = 2*partAlign + 34*512 // leading alignment gap and the backup table
	usable := dev.SizeBytes - gptOverhead
	t := pl.inv.Table(disk)
	var write, shrink Action
	write = Action{ID: KindPartitionWrite + ":" + disk, Kind: KindPartitionWrite, Device: disk, Disposable: ds.Disposable}
	shrink = Action{ID: KindPartitionShrink + ":" + disk, Kind: KindPartitionShrink, Device: disk}
	var why, shrinkWhy []string
	existing := map[int]Partition{}
	if t == nil {
		if errs := pl.inv.ErrorsFor(disk); len(errs) > 0 {
			pl.refuse(CodeUnreadable, obj, "%s: its partition table could not be read: %s", disk, errs[0].Err)
			return
		}
		if dev.FSType != "" && !ds.Disposable {
			pl.refuse(CodeNotDisposable, obj, "%s holds %s and no partition table; mark the disk disposable to replace it", disk, dev.FSType)
			return
		}
		write.NewTable = true
		why = append(why, "create a GPT")
	} else {
		if t.Label != "gpt" {
			pl.refuse(CodeTableMismatch, obj, "%s has a %s table, the spec asks for gpt", disk, t.Label)
			return
		}
		for _, p := range t.Partitions {
			existing[p.Number] = p
		}
	}
	// Space: what partitions outside the spec and those the spec keeps use.
	used := int64(0)
	inSpec := map[int]bool{}
	for _, p := range ds.Partitions {
		inSpec[p.Number] = true
	}
	for n, p := range existing {
		if !inSpec[n] {
			used += p.SizeBytes
		}
	}
	for i, ps := range ds.Partitions {
		path := partPath(disk, ps.Number)
		pobj := fmt.Sprintf("%s partition %d", obj, ps.Number)
		want := ps.SizeBytes
		if want == 0 {
			want = usable - used
			if want < partAlign {
				pl.refuse(CodeTooBig, pobj, "no space left on %s for the rest-of-disk partition", disk)
				continue
			}
		}
		cur, ok := existing[ps.Number]
		switch {
		case !ok:
			if used+want > usable {
				pl.refuse(CodeTooBig, pobj, "needs %d bytes, %s has %d free", want, disk, max(usable-used, 0))
			}
			write.Partitions = append(write.Partitions, PartitionChange{Op: "add", Number: ps.Number, SizeBytes: ps.SizeBytes, Name: ps.Name, Type: ps.Type})
			why = append(why, fmt.Sprintf("add partition %d", ps.Number))
			pl.creator[path] = write.ID
			pl.future[path] = want
		case ps.SizeBytes == 0 && i == len(ds.Partitions)-1:
			limit := pl.limitAfter(t, cur, dev.SizeBytes)
			if limit-(cur.StartBytes+cur.SizeBytes) > partAlign { // an aligned end leaves less
				want = limit - cur.StartBytes
				write.Partitions = append(write.Partitions, PartitionChange{Op: "resize", Number: ps.Number})
				why = append(why, fmt.Sprintf("grow partition %d to the end of the free space", ps.Number))
				pl.grower[path] = write.ID
				pl.future[path] = want
			} else {
				want = cur.SizeBytes
			}
		case want >= cur.SizeBytes+partAlign:
			limit := pl.limitAfter(t, cur, dev.SizeBytes)
			if cur.StartBytes+want > limit {
				pl.refuse(CodeTooBig, pobj, "grow to %d bytes: only %d fit before the next partition or the end", want, limit-cur.StartBytes)
			}
			write.Partitions = append(write.Partitions, PartitionChange{Op: "resize", Number: ps.Number, SizeBytes: want})
			why = append(why, fmt.Sprintf("grow partition %d from %d to %d bytes", ps.Number, cur.SizeBytes, want))
			pl.grower[path] = write.ID
			pl.future[path] = want
		case want <= cur.SizeBytes-partAlign:
			pl.shrinkPartition(pobj, path, cur.SizeBytes, want)
			shrink.Partitions = append(shrink.Partitions, PartitionChange{Op: "resize", Number: ps.Number, SizeBytes: want})
			shrinkWhy = append(shrinkWhy, fmt.Sprintf("shrink partition %d from %d to %d bytes", ps.Number, cur.SizeBytes, want))
			pl.future[path] = want
		default:
			want = cur.SizeBytes
		}
		used += want
	}
	if len(shrink.Partitions) > 0 {
		shrink.Reason = strings.Join(shrinkWhy, "; ")
		pl.heavy(&shrink, obj)
		pl.add(shrink)
		write.Depends = append(write.Depends, shrink.ID)
	}
	if write.NewTable || len(write.Partitions) > 0 {
		write.Reason = strings.Join(why, "; ")
		if slices.ContainsFunc(write.Partitions, func(c PartitionChange) bool { return c.Op == "resize" }) {
			pl.heavy(&write, obj)
		}
		pl.add(write)
	}
}

// limitAfter is where partition p may end: the next partition's start or
// the last usable byte of the disk.
func (pl *planner) limitAfter(t *PartitionTable, p Partition, diskBytes int64) int64 {
	limit := diskBytes - 34*512
	for _, o := range t.Partitions {
		if o.StartBytes > p.StartBytes && o.StartBytes < limit {
			limit = o.StartBytes
		}
	}
	return limit
}

// shrinkPartition checks what is on a partition the spec shrinks: a
// filesystem must be named by the spec (it is shrunk first, checked against
// its minimum there), a PV must have the room free.
func (pl *planner) shrinkPartition(obj, path string, from, to int64) {
	if fs := pl.inv.Filesystem(path); fs != nil {
		named := slices.ContainsFunc(pl.spec.Filesystems, func(f FilesystemSpec) bool { return pl.resolve(f.Device) == path })
		if !named {
			pl.refuse(CodeNotDisposable, obj, "shrinking %s would cut its %s filesystem, which the spec does not name", path, fs.Type)
		}
		return
	}
	if pv := pl.pv(path); pv != nil {
		if pv.Size-pv.Used < from-to {
			pl.refuse(CodeTooBig, obj, "PV %s has %d bytes free, the shrink takes %d", path, pv.Size-pv.Used, from-to)
		}
		return
	}
	if d := pl.inv.Device(path); d != nil && d.FSType != "" {
		pl.refuse(CodeNotDisposable, obj, "%s holds %s, which the engine cannot shrink", path, d.FSType)
	}
}

func (pl *planner) pv(path string) *lvm.PV {
	if pl.inv.LVM == nil {
		return nil
	}
	for _, p := range pl.inv.LVM.PVs {
		if p.Name == path {
			return p
		}
	}
	return nil
}

func (pl *planner) vg(vs VGSpec) {
	obj := "volume group " + vs.Name
	var cur *lvm.VG
	if pl.inv.LVM != nil {
		cur = pl.inv.LVM.VG(vs.Name)
	} else if len(pl.inv.ErrorsFor("")) > 0 && slices.ContainsFunc(pl.inv.Errors, func(e InventoryError) bool { return e.Source == "lvm" }) {
		pl.refuse(CodeUnreadable, obj, "the LVM inventory could not be read")
		return
	}
	var vgDeps, newPVs []string
	future := int64(0)
	for _, ref := range vs.PVs {
		path := pl.resolve(ref)
		if path == "" {
			continue
		}
		size := pl.sizeOf(path)
		if size == 0 && pl.creator[path] == "" {
			pl.refuse(CodeNotFound, obj, "PV device %s does not exist", ref)
			continue
		}
		future += size
		pv := pl.pv(path)
		switch {
		case pv == nil:
			if d := pl.inv.Device(path); d != nil && d.FSType != "" && d.FSType != "LVM2_member" {
				pl.refuse(CodeNotDisposable, obj, "%s holds %s; the spec does not make it disposable", path, d.FSType)
				continue
			}
			a := Action{ID: KindPVCreate + ":" + path, Kind: KindPVCreate, Device: path, Reason: "make " + path + " a PV"}
			if c := pl.creator[path]; c != "" {
				a.Depends = append(a.Depends, c)
			}
			pl.add(a)
			vgDeps = append(vgDeps, a.ID)
			newPVs = append(newPVs, path)
		case pv.VGName != "" && pv.VGName != vs.Name:
			pl.refuse(CodeNotDisposable, obj, "%s is a PV of volume group %s", path, pv.VGName)
		default:
			if g := pl.grower[path]; g != "" {
				a := Action{ID: KindPVResize + ":" + path, Kind: KindPVResize, Device: path, SizeBytes: size,
					Depends: []string{g}, Reason: fmt.Sprintf("grow PV %s with its device to %d bytes", path, size)}
				pl.add(a)
				pl.vgGrowers[vs.Name] = append(pl.vgGrowers[vs.Name], a.ID)
			}
			if pv.VGName == "" {
				newPVs = append(newPVs, path)
			}
		}
	}
	vgAct := ""
	switch {
	case cur == nil:
		a := Action{ID: KindVGCreate + ":" + vs.Name, Kind: KindVGCreate, VG: vs.Name, PVs: pvPaths(pl, vs.PVs),
			ExtentBytes: vs.ExtentBytes, Depends: vgDeps, Reason: "create volume group " + vs.Name}
		pl.add(a)
		vgAct = a.ID
	case len(newPVs) > 0:
		a := Action{ID: KindVGExtend + ":" + vs.Name, Kind: KindVGExtend, VG: vs.Name, PVs: newPVs,
			Depends: vgDeps, Reason: "add " + strings.Join(newPVs, ", ") + " to volume group " + vs.Name}
		pl.add(a)
		vgAct = a.ID
		pl.vgGrowers[vs.Name] = append(pl.vgGrowers[vs.Name], a.ID)
	}
	deps := slices.Clone(pl.vgGrowers[vs.Name])
	if vgAct != "" {
		deps = append(deps, vgAct)
	}
	// Capacity: thick LVs and pools must fit the VG's future size.
	need := int64(0)
	if cur != nil {
		future = max(future, cur.Size)
	}
	poolAct := map[string]string{}
	for _, tp := range vs.ThinPools {
		need += tp.SizeBytes + tp.MetadataBytes
		var lv *lvm.LV
		if cur != nil {
			lv = cur.LV(tp.Name)
		}
		switch {
		case lv == nil:
			a := Action{ID: KindThinPoolCreate + ":" + vs.Name + "/" + tp.Name, Kind: KindThinPoolCreate, VG: vs.Name, LV: tp.Name,
				SizeBytes: tp.SizeBytes, MetadataBytes: tp.MetadataBytes, Depends: deps,
				Reason: fmt.Sprintf("create thin pool %s/%s of %d bytes", vs.Name, tp.Name, tp.SizeBytes)}
			pl.add(a)
			poolAct[tp.Name] = a.ID
		case tp.SizeBytes >= lv.Size+extent(cur):
			a := Action{ID: KindThinPoolExtend + ":" + vs.Name + "/" + tp.Name, Kind: KindThinPoolExtend, VG: vs.Name, LV: tp.Name,
				SizeBytes: tp.SizeBytes, MetadataBytes: tp.MetadataBytes, Depends: deps,
				Reason: fmt.Sprintf("extend thin pool %s/%s from %d to %d bytes", vs.Name, tp.Name, lv.Size, tp.SizeBytes)}
			pl.add(a)
			poolAct[tp.Name] = a.ID
		case tp.SizeBytes <= lv.Size-extent(cur):
			pl.refuse(CodeShrinkNotSafe, obj, "thin pool %s cannot shrink (%d -> %d bytes)", tp.Name, lv.Size, tp.SizeBytes)
		}
	}
	for _, ls := range vs.LVs {
		path := lvPath(vs.Name, ls.Name)
		lobj := obj + " lv " + ls.Name
		if ls.Pool == "" {
			need += ls.SizeBytes
		}
		var lv *lvm.LV
		if cur != nil {
			lv = cur.LV(ls.Name)
		}
		switch {
		case lv == nil:
			d := slices.Clone(deps)
			if pa := poolAct[ls.Pool]; pa != "" {
				d = append(d, pa)
			}
			a := Action{ID: KindLVCreate + ":" + vs.Name + "/" + ls.Name, Kind: KindLVCreate, VG: vs.Name, LV: ls.Name,
				Pool: ls.Pool, SizeBytes: ls.SizeBytes, Device: path, Depends: d, Thin: ls.Pool != "",
				Reason: fmt.Sprintf("create LV %s/%s of %d bytes", vs.Name, ls.Name, ls.SizeBytes)}
			pl.add(a)
			pl.creator[path] = a.ID
			pl.future[path] = ls.SizeBytes
		case ls.SizeBytes >= lv.Size+extent(cur):
			if ls.Pool == "" {
				need -= 0
			}
			a := Action{ID: KindLVResize + ":" + vs.Name + "/" + ls.Name, Kind: KindLVResize, VG: vs.Name, LV: ls.Name,
				SizeBytes: ls.SizeBytes, Device: path, Depends: deps,
				Reason: fmt.Sprintf("grow LV %s/%s (and its filesystem) from %d to %d bytes", vs.Name, ls.Name, lv.Size, ls.SizeBytes)}
			pl.heavy(&a, lobj)
			pl.add(a)
			pl.grower[path] = a.ID
			pl.future[path] = ls.SizeBytes
			pl.lvHandlesFS[path] = true
		case ls.SizeBytes <= lv.Size-extent(cur):
			if fs := pl.inv.Filesystem(path); fs != nil {
				pl.checkShrink(lobj, path, fs, ls.SizeBytes)
			}
			a := Action{ID: KindLVResize + ":" + vs.Name + "/" + ls.Name, Kind: KindLVResize, VG: vs.Name, LV: ls.Name,
				SizeBytes: ls.SizeBytes, Device: path,
				Reason: fmt.Sprintf("shrink LV %s/%s (its filesystem first) from %d to %d bytes", vs.Name, ls.Name, lv.Size, ls.SizeBytes)}
			pl.heavy(&a, lobj)
			pl.add(a)
			pl.future[path] = ls.SizeBytes
			pl.lvHandlesFS[path] = true
		}
	}
	if need > future && future > 0 {
		pl.refuse(CodeTooBig, obj, "LVs and thin pools need %d bytes, the volume group will have %d", need, future)
	}
}

func pvPaths(pl *planner, refs []string) []string {
	var out []string
	for _, r := range refs {
		if p := pl.resolve(r); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func extent(v *lvm.VG) int64 {
	if v == nil || v.ExtentSize <= 0 {
		return 4 << 20
	}
	return v.ExtentSize
}

func (pl *planner) backend(bs BackendVolumeSpec) {
	obj := "backend volume " + bs.Backend + ":" + bs.Pool + "/" + bs.Name
	b, err := pl.e.backends.Lookup(bs.Backend)
	if err != nil {
		pl.refuse(CodeNotFound, obj, "%v", err)
		return
	}
	v, err := b.Volume(pl.ctx, bs.Pool+"/"+bs.Name)
	a := Action{Backend: bs.Backend, Pool: bs.Pool, Name: bs.Name, SizeBytes: bs.SizeBytes, Thin: bs.Thin}
	switch {
	case err != nil:
		a.ID, a.Kind = KindBackendCreate+":"+bs.Backend+":"+bs.Pool+"/"+bs.Name, KindBackendCreate
		a.Reason = fmt.Sprintf("create %s volume %s/%s of %d bytes", bs.Backend, bs.Pool, bs.Name, bs.SizeBytes)
	case v.SizeBytes < bs.SizeBytes:
		a.ID, a.Kind = KindBackendResize+":"+bs.Backend+":"+bs.Pool+"/"+bs.Name, KindBackendResize
		a.Reason = fmt.Sprintf("grow %s volume %s from %d to %d bytes", bs.Backend, v.ID, v.SizeBytes, bs.SizeBytes)
	default:
		return
	}
	pl.add(a)
}

// checkShrink refuses a filesystem shrink that cannot happen: xfs, a type
// that cannot shrink, below the minimum, or an offline-only shrink of a
// mounted filesystem.
func (pl *planner) checkShrink(obj, dev string, fs *fsys.Info, to int64) bool {
	t := fsys.Type(fs.Type)
	switch {
	case t == fsys.XFS:
		pl.refuse(CodeShrinkXFS, obj, "%s holds xfs, which cannot shrink (%d -> %d bytes)", dev, fs.SizeBytes, to)
		return false
	case t.IsExt() && fs.Mounted():
		pl.refuse(CodeShrinkNotSafe, obj, "%s: %s shrinks only unmounted, it is mounted at %s", dev, t, strings.Join(fs.Mountpoints, ", "))
		return false
	case !t.IsExt() && t != fsys.Btrfs:
		pl.refuse(CodeShrinkNotSafe, obj, "%s: %s cannot shrink", dev, t)
		return false
	}
	min, err := pl.e.minSize(pl.ctx, dev)
	if err != nil {
		pl.refuse(CodeUnreadable, obj, "%s: the filesystem's minimum size could not be read: %v", dev, err)
		return false
	}
	if to < min {
		pl.refuse(CodeShrinkBelowMin, obj, "%s: %d bytes is below the %s filesystem's minimum of %d", dev, to, t, min)
		return false
	}
	return true
}

func (pl *planner) filesystem(fs FilesystemSpec) {
	obj := "filesystem on " + fs.Device
	dev := pl.resolve(fs.Device)
	if dev == "" {
		return
	}
	t := fsys.Type(fs.Type)
	if !t.Valid() {
		pl.refuse(CodeInvalidSpec, obj, "unknown filesystem type %q", fs.Type)
		return
	}
	devSize := pl.sizeOf(dev)
	creator := pl.creator[dev]
	if devSize == 0 && creator == "" {
		pl.refuse(CodeNotFound, obj, "device %s does not exist and the spec does not create it", dev)
		return
	}
	if fs.SizeBytes > devSize {
		pl.refuse(CodeTooBig, obj, "%d bytes asked, %s has %d", fs.SizeBytes, dev, devSize)
		return
	}
	cur := pl.inv.Filesystem(dev)
	if creator != "" {
		cur = nil // a device the plan creates holds nothing yet
	}
	if cur == nil && creator == "" {
		for _, ie := range pl.inv.ErrorsFor(dev) {
			if ie.Source == "fsys" || ie.Source == "probe" {
				pl.refuse(CodeUnreadable, obj, "%s could not be inspected: %s", dev, ie.Err)
				return
			}
		}
	}
	mk := func(why string) {
		a := Action{ID: KindMkfs + ":" + dev, Kind: KindMkfs, Device: dev, FSType: fs.Type, Label: fs.Label,
			Disposable: fs.Disposable, SizeBytes: devSize, Reason: why}
		if creator != "" {
			a.Depends = append(a.Depends, creator)
		}
		if devSize >= heavyMkfsBytes {
			pl.heavy(&a, obj)
		}
		pl.add(a)
		pl.mkfs[dev] = a.ID
		if fs.SizeBytes > 0 && fs.SizeBytes <= devSize-partAlign {
			r := Action{ID: KindFSResize + ":" + dev, Kind: KindFSResize, Device: dev, SizeBytes: fs.SizeBytes, Depends: []string{a.ID},
				Reason: fmt.Sprintf("size the new filesystem to %d bytes", fs.SizeBytes)}
			pl.heavy(&r, obj)
			pl.add(r)
			pl.mkfs[dev] = r.ID
		}
	}
	switch {
	case cur == nil:
		if d := pl.inv.Device(dev); d != nil && d.FSType != "" && creator == "" && !fs.Disposable {
			pl.refuse(CodeNotDisposable, obj, "%s holds %s; mark the filesystem disposable to replace it", dev, d.FSType)
			return
		}
		mk(fmt.Sprintf("make %s on %s", t, dev))
	case fsys.Type(cur.Type) != t:
		if !fs.Disposable {
			pl.refuse(CodeNotDisposable, obj, "%s holds %s, the spec asks for %s; mark it disposable to replace it", dev, cur.Type, t)
			return
		}
		if cur.Mounted() {
			pl.refuse(CodeNotDisposable, obj, "%s holds a mounted %s (%s) that would be replaced", dev, cur.Type, strings.Join(cur.Mountpoints, ", "))
			return
		}
		mk(fmt.Sprintf("replace disposable %s on %s with %s", cur.Type, dev, t))
	case pl.lvHandlesFS[dev]:
		// The LV resize grows or shrinks the filesystem with it.
	default:
		want := fs.SizeBytes
		if want == 0 {
			want = devSize
		}
		bs := max(cur.BlockSize, 4096)
		switch {
		case want >= cur.SizeBytes+max(bs, partAlign/4) && want <= devSize:
			a := Action{ID: KindFSResize + ":" + dev, Kind: KindFSResize, Device: dev, SizeBytes: want,
				Reason: fmt.Sprintf("grow %s on %s from %d to %d bytes", cur.Type, dev, cur.SizeBytes, want)}
			if g := pl.grower[dev]; g != "" {
				a.Depends = append(a.Depends, g)
			}
			pl.heavy(&a, obj)
			pl.add(a)
		case fs.SizeBytes > 0 && want <= cur.SizeBytes-bs || devSize < cur.SizeBytes:
			if fs.SizeBytes == 0 {
				want = devSize
			}
			if !pl.checkShrink(obj, dev, cur, want) {
				return
			}
			a := Action{ID: KindFSResize + ":" + dev, Kind: KindFSResize, Device: dev, SizeBytes: want,
				Reason: fmt.Sprintf("shrink %s on %s from %d to %d bytes", cur.Type, dev, cur.SizeBytes, want)}
			pl.heavy(&a, obj)
			pl.add(a)
			pl.fsShrink[dev] = a.ID
			for _, dr := range pl.drives(dev) {
				pl.shrinkDeps[dr] = append(pl.shrinkDeps[dr], a.ID)
			}
		}
	}
}

func (pl *planner) mount(ms MountSpec) {
	obj := "mount " + ms.Target
	dev := pl.resolve(ms.Device)
	if dev == "" {
		return
	}
	for _, d := range pl.inv.Devices {
		if slices.Contains(d.Mountpoints, ms.Target) {
			if d.Path == dev {
				return // holds
			}
			pl.refuse(CodeMountConflict, obj, "%s is mounted there, the spec asks for %s", d.Path, dev)
			return
		}
	}
	t := ms.Type
	if t == "" {
		for _, f := range pl.spec.Filesystems {
			if pl.resolve(f.Device) == dev {
				t = f.Type
			}
		}
	}
	if t == "" {
		if fs := pl.inv.Filesystem(dev); fs != nil {
			t = fs.Type
		}
	}
	if t == "" {
		pl.refuse(CodeNotFound, obj, "no filesystem on %s and none in the spec", dev)
		return
	}
	a := Action{ID: KindMount + ":" + ms.Target, Kind: KindMount, Device: dev, Target: ms.Target, FSType: t,
		ReadOnly: ms.ReadOnly, Options: ms.Options, Reason: fmt.Sprintf("mount %s (%s) at %s", dev, t, ms.Target)}
	for _, dep := range []string{pl.mkfs[dev], pl.fsShrink[dev], pl.creator[dev]} {
		if dep != "" {
			a.Depends = append(a.Depends, dep)
		}
	}
	pl.add(a)
}

// MarshalJSON is the plain encoding; it exists so a Plan's unexported
// sched plan never leaks into a stored plan.
func (p *Plan) MarshalJSON() ([]byte, error) {
	type plain struct {
		Actions []Action   `json:"actions"`
		Stages  [][]string `json:"stages,omitempty"`
	}
	a := p.Actions
	if a == nil {
		a = []Action{}
	}
	return json.Marshal(plain{Actions: a, Stages: p.Stages})
}
