package safety

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// ErrShortDevice: a device returned fewer bytes than its size says it has.
var ErrShortDevice = errors.New("safety: device shorter than its size")

// DataRange is a run of nonzero bytes found where on-disk formats keep their
// metadata, on a device where no signature was recognised.
type DataRange struct {
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Region string `json:"region"` // which metadata region (probe.MetadataRegions)
}

func (d DataRange) String() string {
	return fmt.Sprintf("nonzero bytes at %d-%d (%s)", d.Offset, d.Offset+d.Length-1, d.Region)
}

// Granularity and bounds of the scan: runs are reported in 4 KiB blocks, a
// region is read 256 KiB at a time, and the evidence keeps the first
// maxDataRanges runs (the scan still reads every region, so one run is
// enough to refuse).
const (
	dataBlock     = 4096
	dataChunk     = 256 << 10
	maxDataRanges = 16
)

// scanData reads every metadata region of a device of size bytes and
// returns the runs of 4 KiB blocks that are not all zero. "Nothing
// recognised" is not "blank": a format this package does not know still
// keeps its metadata in these places. A read error is returned: the device
// is then unreadable, never empty.
func scanData(ctx context.Context, r io.ReaderAt, size int64) ([]DataRange, error) {
	var out []DataRange
	buf := make([]byte, dataChunk)
	for _, reg := range probe.MetadataRegions(size) {
		for off := reg.Off; off < reg.Off+reg.Len; off += dataChunk {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n := min(int64(dataChunk), reg.Off+reg.Len-off)
			b := buf[:n]
			got, err := r.ReadAt(b, off)
			if got < len(b) {
				if err == nil || errors.Is(err, io.EOF) {
					// Shorter than its size said: the regions scanned
					// are not where its last sectors are, so nothing
					// here proves it blank.
					return nil, fmt.Errorf("read %d bytes at %d: the device ended after %d: %w", n, off, got, ErrShortDevice)
				}
				return nil, fmt.Errorf("read %d bytes at %d: %w", n, off, err)
			}
			for i := 0; i < len(b); i += dataBlock {
				blk := b[i:min(i+dataBlock, len(b))]
				if allZero(blk) {
					continue
				}
				at := off + int64(i)
				if k := len(out) - 1; k >= 0 && out[k].Offset+out[k].Length == at && out[k].Region == reg.What {
					out[k].Length += int64(len(blk))
				} else if len(out) < maxDataRanges {
					out = append(out, DataRange{Offset: at, Length: int64(len(blk)), Region: reg.What})
				}
			}
		}
	}
	return out, nil
}

// allZero reports whether b holds only zero bytes, eight at a time.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
