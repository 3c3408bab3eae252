package lvm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// pvResizeLab is newOpsLab over one loop device whose backing file the
// test can grow: a VG "vg_r" on it (4 MiB extents) with a 24 MiB LV.
func pvResizeLab(t *testing.T, size int64, hook func(kind, step string) error) (*opsLab, string) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lvm", "losetup", "truncate")
	sys := t.TempDir()
	must(t, os.WriteFile(filepath.Join(sys, "lvm.conf"), []byte(labConf), 0o644))
	img := filepath.Join(t.TempDir(), "pv.img")
	f, err := os.Create(img)
	must(t, err)
	must(t, f.Truncate(size))
	must(t, f.Close())
	l := &opsLab{jdir: t.TempDir(), hook: hook}
	l.devs = []string{testenv.LoopFile(t, img)}
	x, err := command.New()
	must(t, err)
	l.tool, err = NewTool(x, WithSystemDir(sys), WithDevices(l.devs...), WithoutDeviceMapper())
	must(t, err)
	l.open(t, hook)
	ctx := context.Background()
	op, err := l.m.PVCreateOp(ctx, l.devs[0])
	must(t, run1(t, op, err))
	op, err = l.m.VGCreateOp(ctx, "vg_r", l.devs, VGOptions{ExtentBytes: 4 << 20})
	must(t, run1(t, op, err))
	op, err = l.m.LVCreateOp(ctx, "vg_r", LVSpec{Name: "a", SizeBytes: 24 << 20})
	must(t, run1(t, op, err))
	return l, img
}

// growLoop grows the backing file and tells the loop driver (losetup -c).
func growLoop(t *testing.T, img, dev string, size int64) {
	t.Helper()
	must(t, os.Truncate(img, size))
	testenv.Run(t, "losetup", "-c", dev)
}

func (l *opsLab) pv(t *testing.T) (*PV, *VG) {
	t.Helper()
	r := l.inv(t)
	v := r.VG("vg_r")
	if v == nil || len(v.PVs) != 1 {
		t.Fatalf("vg_r: %+v", v)
	}
	return v.PVs[0], v
}

// TestPVResize grows a PV after its loop device grew (pvresize to the
// device's size, then to an explicit size), shrinks it back, and checks
// the refusals: below the last allocated extent, and beyond the device.
func TestPVResize(t *testing.T) {
	l, img := pvResizeLab(t, 64<<20, nil)
	ctx := context.Background()
	dev := l.devs[0]
	p0, v0 := l.pv(t)
	growLoop(t, img, dev, 128<<20)
	op, err := l.m.PVResizeOp(ctx, dev, 0)
	must(t, run1(t, op, err))
	p1, v1 := l.pv(t)
	if p1.DevSize != 128<<20 || p1.Size <= p0.Size || v1.Free-v0.Free != p1.Size-p0.Size || v1.Seqno != v0.Seqno+1 {
		t.Fatalf("after pvresize to the device: pv_size %d -> %d (dev %d), vg_free %d -> %d, seqno %d -> %d",
			p0.Size, p1.Size, p1.DevSize, v0.Free, v1.Free, v0.Seqno, v1.Seqno)
	}
	// The free range at the PV's end grew with it.
	last := p1.Segments[len(p1.Segments)-1]
	if last.LVUUID != "" || last.StartExtent+last.Extents != p1.PECount {
		t.Fatalf("PV segments after the grow: %+v (pe_count %d)", p1.Segments, p1.PECount)
	}
	t.Logf("pvresize to the device: pv_size %d -> %d, vg_free %d -> %d", p0.Size, p1.Size, v0.Free, v1.Free)

	// An explicit smaller size above the allocated extents.
	op, err = l.m.PVResizeOp(ctx, dev, 96<<20)
	must(t, run1(t, op, err))
	p2, v2 := l.pv(t)
	if p2.Size >= p1.Size || p2.Size > 96<<20 || v1.Free-v2.Free != p1.Size-p2.Size {
		t.Fatalf("pvresize to 96 MiB: pv_size %d, vg_free %d", p2.Size, v2.Free)
	}

	// Below the allocated extents (the LV holds extents 0-5: 1 MiB + 24 MiB):
	// refused with a typed error before lvm runs; nothing changes.
	old := l.metadata(t, "vg_r")
	op, err = l.m.PVResizeOp(ctx, dev, 16<<20)
	var re *RefusedError
	if err = run1(t, op, err); !errors.As(err, &re) || re.Code != CodePVShrink || !errors.Is(err, ErrRefused) {
		t.Fatalf("pvresize below the allocated extents: %v, want %s", err, CodePVShrink)
	}
	t.Logf("shrink below the allocated extents: %v", err)
	// Beyond the device: refused too (lvm -y would override the real size).
	op, err = l.m.PVResizeOp(ctx, dev, 256<<20)
	if err = run1(t, op, err); !errors.As(err, &re) || re.Code != CodePVBeyondDevice {
		t.Fatalf("pvresize beyond the device: %v, want %s", err, CodePVBeyondDevice)
	}
	if got := l.metadata(t, "vg_r"); got != old {
		t.Fatalf("a refused pvresize changed the VG:\n--- old\n%s\n--- now\n%s", old, got)
	}
	// Exactly at the end of the allocated extents is allowed.
	op, err = l.m.PVResizeOp(ctx, dev, p2.PEStart+6*(4<<20))
	must(t, run1(t, op, err))
	if p3, v3 := l.pv(t); p3.PECount != 6 || v3.FreeCount != 0 {
		t.Fatalf("pvresize to the allocated extents: pe_count %d, vg_free_count %d", p3.PECount, v3.FreeCount)
	}
	// lvm itself refuses the same shrink when our preflight is bypassed:
	// the two agree on where the allocated extents end.
	err = l.tool.Run(ctx, "pvresize", "-y", "--setphysicalvolumesize", bytesArg(16<<20), dev)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("lvm's pvresize below the allocated extents: %v, want ErrInUse", err)
	}
	t.Logf("lvm's own refusal: %v", err)
}

// TestPVResizeFaults fails a pvresize at each journaled step: the VG
// metadata is exactly the old one afterwards (vgcfgrestore from the backup
// undid the change when it had been made), and the journal says the
// mutation was compensated or rolled back.
func TestPVResizeFaults(t *testing.T) {
	var failAt string
	l, img := pvResizeLab(t, 64<<20, func(kind, step string) error {
		if kind == OpPVResize && step == failAt {
			return errors.New("injected fault at " + step)
		}
		return nil
	})
	ctx := context.Background()
	dev := l.devs[0]
	growLoop(t, img, dev, 128<<20)
	for _, step := range []string{"backup", "changed"} {
		t.Run(step, func(t *testing.T) {
			old := l.metadata(t, "vg_r")
			p0, v0 := l.pv(t)
			failAt = step
			op, err := l.m.PVResizeOp(ctx, dev, 0)
			if err == nil {
				err = runOp(ctx, op)
			}
			failAt = ""
			if err == nil {
				t.Fatal("the fault did not fail the pvresize")
			}
			if got := l.metadata(t, "vg_r"); got != old {
				t.Fatalf("after a fault at %s the VG is not as before:\n--- old\n%s\n--- now\n%s", step, old, got)
			}
			if p1, v1 := l.pv(t); p1.Size != p0.Size || p1.PECount != p0.PECount || v1.Free != v0.Free {
				t.Fatalf("after a fault at %s: pv_size %d -> %d, vg_free %d -> %d", step, p0.Size, p1.Size, v0.Free, v1.Free)
			}
			es := l.j.Entries()
			e := es[len(es)-1]
			if e.Intent.Op != OpPVResize || (e.Outcome != safety.OutcomeCompensated && e.Outcome != safety.OutcomeRolledBack) {
				t.Fatalf("journal: kind %s outcome %q, want %s compensated or rolled back", e.Intent.Op, e.Outcome, OpPVResize)
			}
			made := false
			for _, s := range e.Steps {
				made = made || s.Name == "changed"
			}
			if made != (step == "changed") {
				t.Fatalf("journal steps %+v: changed=%v for a fault at %s", e.Steps, made, step)
			}
			t.Logf("fault at %s: %v; journal %s, lvm had changed the VG: %v; metadata as before", step, err, e.Outcome, made)
		})
	}
	// Without a fault the same pvresize goes through.
	op, err := l.m.PVResizeOp(ctx, dev, 0)
	must(t, run1(t, op, err))
	if p, _ := l.pv(t); p.DevSize != 128<<20 || p.Size < 120<<20 {
		t.Fatalf("pvresize after the faults: %+v", p)
	}
}
