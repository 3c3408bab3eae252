package lvm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
)

// On-disk PV label (lvm2 lib/format_text/layout.h, lib/label/label.h): a
// 512-byte label_header in one of the first four sectors, "LABELONE", its
// own sector number, a CRC of the rest of the sector, the offset of the
// pv_header within the sector and the type "LVM2 001". The pv_header holds
// the PV UUID, the device size and two zero-terminated lists of disk_locn
// (offset, size in bytes): data areas, then metadata areas.
const (
	sectorSize     = 512
	labelScanSecs  = 4
	labelID        = "LABELONE"
	labelType      = "LVM2 001"
	initialCRC     = 0xf597a6cf
	mdaHeaderSize  = 512
	mdaMagic       = " LVM2 x[5A%r0N*>"
	rawLocnIgnored = 1
)

// ErrNoLabel says a device carries no LVM2 PV label.
var ErrNoLabel = errors.New("lvm: no LVM2 label")

// Locn is a disk_locn: an area's byte offset and size.
type Locn struct{ Offset, Size int64 }

// Label is a PV label and its pv_header.
type Label struct {
	Sector        int64
	PVUUID        string // formatted as lvm prints it (6-4-4-4-4-4-6)
	DevSize       int64  // bytes, as pvcreate recorded it
	DataAreas     []Locn
	MetadataAreas []Locn
}

// lvmCRC is lvm2's calc_crc: CRC-32 (the IEEE polynomial, reflected) with
// lvm's initial value and no final inversion; Go's crc32 inverts on the way
// in and out, so the inversions cancel.
func lvmCRC(init uint32, b []byte) uint32 {
	return ^crc32.Update(^init, crc32.IEEETable, b)
}

// ReadLabel finds and decodes the label in the first four sectors of r.
func ReadLabel(r io.ReaderAt) (*Label, error) {
	buf := make([]byte, labelScanSecs*sectorSize)
	n, err := r.ReadAt(buf, 0)
	if n < sectorSize && err != nil {
		return nil, err
	}
	return parseLabel(buf[:n])
}

func parseLabel(buf []byte) (*Label, error) {
	for s := 0; s < labelScanSecs && (s+1)*sectorSize <= len(buf); s++ {
		sec := buf[s*sectorSize : (s+1)*sectorSize]
		if string(sec[:8]) != labelID {
			continue
		}
		off := int64(s * sectorSize)
		if got := binary.LittleEndian.Uint64(sec[8:16]); got != uint64(s) {
			return nil, malformed("PV label", off, "records sector %d", got)
		}
		if sum, want := lvmCRC(initialCRC, sec[20:]), binary.LittleEndian.Uint32(sec[16:20]); sum != want {
			return nil, malformed("PV label", off, "checksum %#x, want %#x", sum, want)
		}
		if string(sec[24:32]) != labelType {
			return nil, &UnsupportedError{Feature: "label type " + string(bytes.TrimRight(sec[24:32], "\x00"))}
		}
		hoff := binary.LittleEndian.Uint32(sec[20:24])
		if hoff < 32 || hoff+40 > sectorSize {
			return nil, malformed("PV label", off, "pv_header offset %d", hoff)
		}
		return parsePVHeader(sec[hoff:], int64(s), off+int64(hoff))
	}
	return nil, ErrNoLabel
}

func parsePVHeader(h []byte, sector, off int64) (*Label, error) {
	l := &Label{Sector: sector, PVUUID: formatUUID(string(h[:32])), DevSize: int64(binary.LittleEndian.Uint64(h[32:40]))}
	p := 40
	for list := 0; list < 2; list++ {
		for {
			if p+16 > len(h) {
				return nil, malformed("pv_header", off+int64(p), "area list runs off the sector")
			}
			o, sz := binary.LittleEndian.Uint64(h[p:]), binary.LittleEndian.Uint64(h[p+8:])
			p += 16
			if o == 0 && sz == 0 {
				break
			}
			if o > 1<<62 || sz > 1<<62 {
				return nil, malformed("pv_header", off+int64(p-16), "area %d+%d", o, sz)
			}
			if list == 0 {
				l.DataAreas = append(l.DataAreas, Locn{int64(o), int64(sz)})
			} else {
				l.MetadataAreas = append(l.MetadataAreas, Locn{int64(o), int64(sz)})
			}
		}
	}
	return l, nil
}

// formatUUID inserts lvm's dashes into a 32-character id.
func formatUUID(s string) string {
	if len(s) != 32 {
		return s
	}
	var b []byte
	for i, n := range []int{6, 4, 4, 4, 4, 4, 6} {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, s[:n]...)
		s = s[n:]
	}
	return string(b)
}

// ReadMetadataText returns the newest committed metadata text of one
// metadata area: the mda_header at the area's start (checksum, magic,
// version 1, the area's own offset and size) and its first raw_locn, which
// points into a circular buffer after the header: text that runs past the
// area's end continues right after the header. Empty with no error means
// the area holds no metadata (an orphan PV) or is ignored.
func ReadMetadataText(r io.ReaderAt, area Locn) ([]byte, error) {
	h := make([]byte, mdaHeaderSize)
	if _, err := r.ReadAt(h, area.Offset); err != nil {
		return nil, err
	}
	return readMDA(r, area, h)
}

func readMDA(r io.ReaderAt, area Locn, h []byte) ([]byte, error) {
	if sum, want := lvmCRC(initialCRC, h[4:mdaHeaderSize]), binary.LittleEndian.Uint32(h[0:4]); sum != want {
		return nil, malformed("mda_header", area.Offset, "checksum %#x, want %#x", sum, want)
	}
	if string(h[4:20]) != mdaMagic {
		return nil, malformed("mda_header", area.Offset, "bad magic")
	}
	if v := binary.LittleEndian.Uint32(h[20:24]); v != 1 {
		return nil, &UnsupportedError{Feature: "metadata area version " + itoa(int64(v))}
	}
	start, size := int64(binary.LittleEndian.Uint64(h[24:32])), int64(binary.LittleEndian.Uint64(h[32:40]))
	if start != area.Offset || size < mdaHeaderSize || size > 1<<40 {
		return nil, malformed("mda_header", area.Offset, "area %d+%d, label says %d+%d", start, size, area.Offset, area.Size)
	}
	off, n := int64(binary.LittleEndian.Uint64(h[40:48])), int64(binary.LittleEndian.Uint64(h[48:56]))
	sum := binary.LittleEndian.Uint32(h[56:60])
	flags := binary.LittleEndian.Uint32(h[60:64])
	if flags&rawLocnIgnored != 0 || off == 0 && n == 0 {
		return nil, nil
	}
	if off < mdaHeaderSize || off >= size || n <= 0 || n > size-mdaHeaderSize {
		return nil, malformed("raw_locn", area.Offset+40, "text %d+%d in an area of %d", off, n, size)
	}
	text := make([]byte, n)
	first := min(n, size-off)
	if _, err := r.ReadAt(text[:first], start+off); err != nil {
		return nil, err
	}
	if first < n { // wrapped around the circular buffer
		if _, err := r.ReadAt(text[first:], start+mdaHeaderSize); err != nil {
			return nil, err
		}
	}
	if got := lvmCRC(initialCRC, text); got != sum {
		return nil, malformed("metadata text", start+off, "checksum %#x, want %#x", got, sum)
	}
	// The text is NUL-terminated on disk and the size may count the NUL.
	return bytes.TrimRight(text, "\x00"), nil
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
