package fsys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// RollForward returns the journal options that let safety.Journal.Recover
// finish fsys mutations a crash interrupted. Open the journal with them:
//
//	j, err := safety.OpenJournal(ctx, fsys.RollForward()...)
//
// A make is not rolled forward: it is rolled back from its before-images
// (the signature regions), after an overridden ext make's mke2fs undo file
// is replayed with e2undo, so the device reads as before, the filesystem
// that was overwritten included.
// A resize is finished: an unmounted ext filesystem is first repaired
// (e2fsck -fy, which is what a resize2fs killed midway needs), then the
// resize runs again unless the filesystem already has its new size. A
// label or UUID change is set again; a repair runs again. opts configure
// the Manager that does it (a runner, a logger); it has no journal, since
// recovery journals its own attempts.
func RollForward(opts ...Option) []safety.Option {
	var m *Manager
	get := func() (*Manager, error) {
		if m != nil {
			return m, nil
		}
		var err error
		m, err = New(opts...)
		return m, err
	}
	return []safety.Option{
		safety.WithRollForward(OpResize, func(ctx context.Context, e safety.Entry) error {
			m, err := get()
			if err != nil {
				return err
			}
			var p ResizePlan
			if err := json.Unmarshal(e.Intent.Params, &p); err != nil {
				return fmt.Errorf("fsys: journal params: %w", err)
			}
			return m.finishResize(ctx, e.Intent.Target.Path, &p)
		}),
		safety.WithRollForward(OpLabel, func(ctx context.Context, e safety.Entry) error {
			return rollIdentity(ctx, get, e, false)
		}),
		safety.WithRollForward(OpUUID, func(ctx context.Context, e safety.Entry) error {
			return rollIdentity(ctx, get, e, true)
		}),
		// An overridden ext make kept mke2fs's undo file in the journal:
		// the before-images (signature regions) do not cover the inode
		// tables mke2fs wrote across the device, the undo file does. e2undo
		// replays it first (it copes with a file mke2fs was killed while
		// writing), then the images are restored.
		safety.WithRollBack(OpMake, func(ctx context.Context, e safety.Entry) error {
			file := ""
			for _, st := range e.Steps {
				if st.Name == "undo_file" {
					file = st.Detail
				}
			}
			if file == "" {
				return nil // no undo file asked for: the images are the undo
			}
			if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
				return nil // mke2fs creates it before its first write: it wrote nothing
			}
			m, err := get()
			if err != nil {
				return err
			}
			return m.e2undo(ctx, file, e.Intent.Target.Path)
		}),
		safety.WithRollForward(OpRepair, func(ctx context.Context, e safety.Entry) error {
			m, err := get()
			if err != nil {
				return err
			}
			var o CheckOptions
			if err := json.Unmarshal(e.Intent.Params, &o); err != nil {
				return fmt.Errorf("fsys: journal params: %w", err)
			}
			dev := e.Intent.Target.Path
			info, err := m.notMounted(ctx, dev)
			if err != nil {
				return err
			}
			d, err := m.Driver(Type(info.Type))
			if err != nil {
				return err
			}
			_, err = d.Check(ctx, dev, o.Mode, o.Override, nil)
			return err
		}),
	}
}

// finishResize completes an interrupted resize.
func (m *Manager) finishResize(ctx context.Context, dev string, p *ResizePlan) error {
	d, err := m.Driver(p.Type)
	if err != nil {
		return err
	}
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return err
	}
	// The device identity safety checked is the disk's; the filesystem on
	// it must be the one the resize was planned for.
	if Type(info.Type) != p.Type || info.UUID != p.UUID {
		return fmt.Errorf("%w: %s now holds %s %s, the resize was of %s %s", ErrRefused, dev, info.Type, info.UUID, p.Type, p.UUID)
	}
	if info.Mounted() {
		if sizeOnDevice(info, dev) == p.To {
			return nil
		}
		return d.ResizeOnline(ctx, dev, info.Mountpoints[0], p.To)
	}
	if p.Type.IsExt() {
		res, err := d.Check(ctx, dev, CheckRepair, false, nil)
		if err != nil {
			return fmt.Errorf("fsys: repair before finishing the resize: %w", err)
		}
		if res.Verdict != VerdictClean && res.Verdict != VerdictFixed {
			return fmt.Errorf("fsys: %s checks %s; the resize is not finished", dev, res.Verdict)
		}
		if info, err = m.Inspect(ctx, dev); err != nil {
			return err
		}
	}
	if sizeOnDevice(info, dev) == p.To {
		return nil
	}
	if err := d.ResizeOffline(ctx, dev, p.To, func(string) {}, nil); err != nil {
		return err
	}
	info, err = m.Inspect(ctx, dev)
	if err != nil {
		return err
	}
	if got := sizeOnDevice(info, dev); got != p.To {
		return fmt.Errorf("fsys: %s reads %d bytes after finishing the resize to %d", dev, got, p.To)
	}
	return nil
}

func rollIdentity(ctx context.Context, get func() (*Manager, error), e safety.Entry, uuid bool) error {
	m, err := get()
	if err != nil {
		return err
	}
	var p idParams
	if err := json.Unmarshal(e.Intent.Params, &p); err != nil {
		return fmt.Errorf("fsys: journal params: %w", err)
	}
	dev := e.Intent.Target.Path
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		return err
	}
	if Type(info.Type) != p.Type || p.FSUUID != "" && !sameUUID(info.UUID, p.FSUUID) && !(uuid && sameUUID(info.UUID, p.New)) {
		return fmt.Errorf("%w: %s now holds %s %s, the change was of %s %s", ErrRefused, dev, info.Type, info.UUID, p.Type, p.FSUUID)
	}
	d, err := m.Driver(Type(info.Type))
	if err != nil {
		return err
	}
	mp := ""
	if len(info.Mountpoints) > 0 {
		mp = info.Mountpoints[0]
	}
	if uuid {
		if p.New == "" || sameUUID(info.UUID, p.New) {
			return nil
		}
		return d.SetUUID(ctx, dev, mp, p.New)
	}
	if info.Label == p.New {
		return nil
	}
	return d.SetLabel(ctx, dev, mp, p.New)
}
