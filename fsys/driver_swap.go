package fsys

import (
	"context"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
)

// swapDriver: the header is written in pure Go; swaplabel changes label
// and UUID. An active swap area counts as mounted (the Manager refuses).
type swapDriver struct {
	m *Manager
	unsupported
}

func (d *swapDriver) Type() Type { return Swap }

func (d *swapDriver) Read(r io.ReaderAt, size int64) (superblock.Super, error) {
	s, err := superblock.ReadSwap(r, size)
	if err != nil {
		return superblock.Super{}, err
	}
	return s.Super(), nil
}

func (d *swapDriver) Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error {
	return makeSwapDevice(ctx, dev, o)
}

func (d *swapDriver) SetLabel(ctx context.Context, dev, mountpoint, label string) error {
	if err := offlineOnly(Swap, mountpoint, CapLabelOnline); err != nil {
		return err
	}
	return d.m.setLabelOffline(ctx, dev, Swap, label)
}

func (d *swapDriver) SetUUID(ctx context.Context, dev, mountpoint, uuid string) error {
	if err := offlineOnly(Swap, mountpoint, CapUUIDOnline); err != nil {
		return err
	}
	return d.m.setUUIDOffline(ctx, dev, Swap, uuid)
}
