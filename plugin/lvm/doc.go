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
// volume, admitted like a new thin volume of its size since it may diverge
// that far); a thick volume's is a classic snapshot whose COW space is the
// volume's size plus lvm's exception metadata, so it cannot fill and be
// dropped, and which keeps its volume from being deleted or grown
// (ErrInUse). Volumes from snapshots: a thin snapshot's clone is a
// writable thin snapshot of it, activated; a classic snapshot's clone is a
// new linear LV tagged eos-storage.incomplete, the snapshot's bytes copied
// and synced into it, then the tag dropped: a crash between leaves an LV
// that is never listed as a volume, and a create of its name removes and
// redoes it.
//
// Thin admission is checked when the operations are built and again in
// each operation's preflight (lvm.WithPreflight), on the inventory read
// under the VG's claim, so two creates planned at once cannot both pass
// on the same old total.
//
// Resizes go through the Manager's filesystem-aware LVResizeOp: a shrink
// of an open volume is refused (ErrInUse); a filesystem is shrunk first
// (refused below its minimum and for xfs: ErrInvalid); a volume holding
// nothing the probe recognises is cut without a check, and one holding
// something fsys cannot shrink is refused (ErrNotSupported). Sizes round
// up to the VG's extent size, which Limits reports once read.
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
