package fsys

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"
)

// The version-1 swap header (linux/swap.h union swap_header, and
// util-linux's swapheader.h): the first 1024 bytes are left for a boot
// loader ("bootbits"), then the header, and the magic ends the first page.
// Fields are in the machine's byte order, as the kernel reads them.
const (
	swapHeaderOff   = 1024
	swapVersionOff  = swapHeaderOff + 0  // u32 version (1)
	swapLastPageOff = swapHeaderOff + 4  // u32 last_page
	swapNrBadOff    = swapHeaderOff + 8  // u32 nr_badpages
	swapUUIDOff     = swapHeaderOff + 12 // u8 uuid[16]
	swapLabelOff    = swapHeaderOff + 28 // char volume_name[16]
	swapMagic       = "SWAPSPACE2"
	// swapMinPages is mkswap's floor ("swap space needs to be at least 40 KiB"
	// with 4 KiB pages).
	swapMinPages = 10
)

// writeSwap writes a version-1 swap header for a device of size bytes to
// w, as mkswap 2.38 does: the whole first page is written, zero except the
// header and the magic (mkswap also zeroes the bootbits when the device
// has no partition table, which is always so for a device preflight found
// blank). It writes nothing else: mkswap additionally wipes other
// signatures through libblkid, which fsys leaves to preflight (a device is
// made swap only once proved blank).
func writeSwap(w io.WriterAt, size int64, o MakeOptions) error {
	if err := o.Validate(Swap); err != nil {
		return err
	}
	ps := o.PageSize
	if ps == 0 {
		ps = int64(os.Getpagesize())
	}
	pages := size / ps
	if pages < swapMinPages {
		return fmt.Errorf("%w: swap of %d bytes is under %d pages of %d bytes", ErrInvalid, size, swapMinPages, ps)
	}
	// mkswap caps last_page at what the header's u32 holds.
	last := uint64(pages - 1)
	if last > math.MaxUint32 {
		last = math.MaxUint32
	}
	var id uuid.UUID
	if o.UUID == "" {
		id = uuid.New() // random, version 4, as mkswap's libuuid does
	} else {
		var err error
		if id, err = uuid.Parse(o.UUID); err != nil {
			return fmt.Errorf("%w: swap uuid %q: %v", ErrInvalid, o.UUID, err)
		}
	}
	page := make([]byte, ps)
	ne := binary.NativeEndian
	ne.PutUint32(page[swapVersionOff:], 1)
	ne.PutUint32(page[swapLastPageOff:], uint32(last))
	ne.PutUint32(page[swapNrBadOff:], 0)
	copy(page[swapUUIDOff:swapUUIDOff+16], id[:])
	copy(page[swapLabelOff:swapLabelOff+16], o.Label)
	copy(page[ps-int64(len(swapMagic)):], swapMagic)
	if _, err := w.WriteAt(page, 0); err != nil {
		return fmt.Errorf("fsys: writing swap header: %w", err)
	}
	return nil
}

// makeSwapDevice makes dev a swap area: opened exclusively (O_EXCL on a
// block device fails with EBUSY while anything holds it: a mount, swapon,
// a device-mapper table), sized by seeking to its end, written by
// writeSwap and fsynced before returning.
func makeSwapDevice(ctx context.Context, dev string, o MakeOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := o.Validate(Swap); err != nil {
		return err
	}
	f, err := os.OpenFile(dev, os.O_RDWR|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("%w: %s: %v", ErrBusy, dev, err)
		}
		return fmt.Errorf("fsys: mkswap %s: %w", dev, err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err == nil {
		err = writeSwap(f, size, o)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsys: mkswap %s: %w", dev, err)
	}
	return nil
}
