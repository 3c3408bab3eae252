package lvm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// ReadDisks is the inventory without running lvm: it reads the PV label
// and the newest metadata text of every given device (devices without a
// label are skipped), decodes each VG from the copy with the highest
// seqno, and asks device-mapper (by ioctl, see dmstate.go) which LVs are
// active and open. Without device-mapper the state and open columns are
// unknown ('X'), as lvm prints them with --driverloaded n. A VG that uses
// something it does not decode is an *UnsupportedError (errors.Is
// ErrUnsupported) naming the feature: ReadOrRun then runs lvm instead.
func ReadDisks(ctx context.Context, devices []string) (*Report, error) {
	var scanned []scannedPV
	for _, path := range devices {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := readDevice(path)
		if errors.Is(err, ErrNoLabel) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("lvm: %s: %w", path, err)
		}
		scanned = append(scanned, s)
	}
	r, err := assemble(scanned)
	if err != nil {
		return nil, err
	}
	applyDMState(r, readDMState())
	return r, nil
}

// ReadOrRun is ReadDisks, falling back to t.Inventory when the metadata
// uses a feature the reader does not decode; Report.Fallback then says
// which.
func ReadOrRun(ctx context.Context, t *Tool, devices []string) (*Report, error) {
	r, err := ReadDisks(ctx, devices)
	var ue *UnsupportedError
	if !errors.As(err, &ue) {
		return r, err
	}
	r, err = t.Inventory(ctx)
	if r != nil {
		r.Fallback = ue.Error()
	}
	return r, err
}

// scannedPV is one device's label and metadata text (nil for an orphan).
type scannedPV struct {
	dev  pvDevice
	text []byte
}

func readDevice(path string) (scannedPV, error) {
	f, err := os.Open(path)
	if err != nil {
		return scannedPV{}, err
	}
	defer f.Close()
	s := scannedPV{dev: pvDevice{path: path, major: -1, minor: -1}}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		s.dev.major, s.dev.minor = int(unix.Major(st.Rdev)), int(unix.Minor(st.Rdev))
	}
	if s.dev.size, err = f.Seek(0, io.SeekEnd); err != nil {
		return s, err
	}
	return s, readPV(f, &s)
}

// readPV reads the label and the first metadata area that holds text.
func readPV(r io.ReaderAt, s *scannedPV) error {
	l, err := ReadLabel(r)
	if err != nil {
		return err
	}
	s.dev.label = l
	var firstErr error
	for _, a := range l.MetadataAreas {
		text, err := ReadMetadataText(r, a)
		if err != nil {
			firstErr = err
			continue
		}
		if text != nil {
			s.text = text
			return nil
		}
	}
	return firstErr
}

// assemble joins scanned PVs into a Report: each VG from its newest
// metadata copy, orphans as lvm reports them.
func assemble(scanned []scannedPV) (*Report, error) {
	r := &Report{Source: "disk"}
	byUUID := map[string]*pvDevice{}
	newest := map[string]*vgMeta{}
	var order []string
	for i := range scanned {
		s := &scanned[i]
		byUUID[s.dev.label.PVUUID] = &s.dev
		if s.text == nil {
			continue
		}
		m, err := decodeVGMetadata(s.text)
		if err != nil {
			return nil, fmt.Errorf("lvm: %s: %w", s.dev.path, err)
		}
		old := newest[m.uuid]
		if old == nil {
			order = append(order, m.uuid)
		}
		if old == nil || m.seqno > old.seqno {
			newest[m.uuid] = m
		}
	}
	inVG := map[string]bool{}
	for _, id := range order {
		v, pvs, err := buildVG(newest[id], byUUID)
		if err != nil {
			return nil, err
		}
		r.VGs = append(r.VGs, v)
		for _, p := range pvs {
			inVG[p.UUID] = true
		}
	}
	// lvm lists PVs in device order; keep the caller's device order, VG
	// members where their device was given.
	pvOf := map[string]*PV{}
	for _, v := range r.VGs {
		for _, p := range v.PVs {
			pvOf[p.UUID] = p
		}
	}
	for i := range scanned {
		d := &scanned[i].dev
		if p := pvOf[d.label.PVUUID]; p != nil {
			r.PVs = append(r.PVs, p)
			continue
		}
		if inVG[d.label.PVUUID] {
			continue
		}
		var peStart int64
		if len(d.label.DataAreas) > 0 {
			peStart = d.label.DataAreas[0].Offset
		}
		r.PVs = append(r.PVs, &PV{Name: d.path, UUID: d.label.PVUUID, Attr: "---", Major: d.major, Minor: d.minor,
			DevSize: d.size, Size: d.size, Free: d.size, PEStart: peStart, MDACount: len(d.label.MetadataAreas)})
	}
	for _, v := range r.VGs {
		for _, p := range v.PVs {
			if p.Missing {
				r.PVs = append(r.PVs, p)
			}
		}
	}
	derivePVSegments(r)
	return r, nil
}
