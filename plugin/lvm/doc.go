// Package lvm is the plugin backend for LVM2: volumes are logical volumes
// of one volume group, changed through the lvm package's Manager, so every
// change is a guarded, journaled lvm mutation (vgcfgbackup before, seqno
// after, an inverse or vgcfgrestore on failure, lvm.RollForward after a
// crash).
//
// Pools: the VG itself (thick, linear LVs; free space is the VG's) and,
// with WithThinPool, its thin pool (thin LVs). A thin pool's FreeBytes is
// what the over-provisioning limit still allows: the ratio (1.0 unless
// WithOverProvisioning or a policy's) times the pool's data size, less the
// thin LVs' virtual sizes. WithPolicy admits thin creates and grows
// through lvm.Policy.Admit instead, which also refuses pools the policy
// does not watch.
//
// Volume IDs are "vg/lv" whichever pool they come from; snapshot IDs are
// "vg/volume@snapshot", kept as read-only LVs named "_volume+snapshot"
// (volume and snapshot names start with a letter or digit and never hold
// '+', so no volume can take that name). Only LVs the backend made
// (tagged eos-storage.volume or eos-storage.snapshot) are listed or
// changed; the VG's other LVs are left alone. Callers' tags are kept as
// base64url in LV tags, so any text survives lvm's tag alphabet.
//
// Snapshots: a thin volume's is a thin snapshot (instant, outlives its
// volume); a thick volume's is a classic snapshot whose COW space is the
// volume's whole size, so it cannot overflow and be dropped, and which
// keeps its volume from being deleted (ErrInUse). Volumes from snapshots:
// a thin snapshot's clone is a writable thin snapshot of it, activated; a
// classic snapshot's clone is a new linear LV the snapshot's bytes are
// copied into (an operation of its own after the lvcreate).
//
// Resizes go through the Manager's filesystem-aware LVResizeOp: a shrink
// shrinks the filesystem first (refused below its minimum and for xfs);
// a volume holding nothing the probe recognises is cut without a check,
// and one holding something fsys cannot shrink is refused.
//
// Capabilities: without lvm2, the VG, or device-mapper (this machine's
// host: lvm then runs metadata only and nothing can be activated) every
// technology is unavailable with the reason; snapshots and clones need
// the dm snapshot target; thin needs the configured thin pool.
//
// Tests: the VM tier (internal/vmtest's TestGuestPluginLVM) runs
// plugintest on a thick VG with a thin pool, and thin clones, the
// over-provisioning limit, the policy's refusal and a filesystem shrink,
// for real with device-mapper; the host tests check the metadata-only
// answers on loop devices and the naming rules.
package lvm
