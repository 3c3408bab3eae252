package fsys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
	"golang.org/x/sys/unix"

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

// Make writes the swap header after zeroing every place another format's
// signature can be (probe.MetadataRegions, the before-images the make
// saved): the header fills only the first page, and a swap area over an
// old btrfs or RAID superblock would otherwise read as two things at once.
// mkswap wipes them too.
func (d *swapDriver) Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error {
	if err := wipeSignatureRegions(ctx, dev); err != nil {
		return err
	}
	return makeSwapDevice(ctx, dev, o)
}

func wipeSignatureRegions(ctx context.Context, dev string) error {
	f, err := os.OpenFile(dev, os.O_WRONLY|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%w: %s: %v", ErrBusy, dev, err)
		}
		return fmt.Errorf("fsys: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("fsys: %s: %w", dev, err)
	}
	zero := make([]byte, 64<<10)
	for _, r := range probe.MetadataRegions(size) {
		if err := ctx.Err(); err != nil {
			return err
		}
		for off := r.Off; off < r.Off+r.Len; off += int64(len(zero)) {
			n := min(int64(len(zero)), r.Off+r.Len-off)
			if _, err := f.WriteAt(zero[:n], off); err != nil {
				return fmt.Errorf("fsys: wipe %s at %d: %w", dev, off, err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsys: %s: %w", dev, err)
	}
	return nil
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
