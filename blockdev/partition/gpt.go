package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"unicode/utf16"
)

const (
	gptSignature     = "EFI PART"
	gptRevision      = 0x00010000
	gptMinHeaderSize = 92
	gptMinEntrySize  = 128
	gptNameBytes     = 72 // 36 UTF-16LE code units
	gptMinEntriesLen = 16384
)

// gptHeader is one decoded GPT header, with what checking it found.
type gptHeader struct {
	HeaderSize   uint32
	HeaderCRC    uint32
	MyLBA        uint64
	AlternateLBA uint64
	FirstUsable  uint64
	LastUsable   uint64
	DiskGUID     GUID
	EntriesLBA   uint64
	EntryCount   uint32
	EntrySize    uint32
	EntriesCRC   uint32
	extra        []byte
}

// headerFault is why a header sector is not a usable GPT header.
type headerFault int

const (
	headerOK headerFault = iota
	headerNoSignature
	headerBadCRC
	headerBadFields
)

// parseGPTHeader decodes the header in sector (one logical sector read at
// lba). It never trusts a field before checking it: header size within the
// sector, CRC, the reserved field, entry size a multiple of 128 and a power of
// two times 128, an entries array of sane size, usable range ordered.
func parseGPTHeader(sector []byte, lba uint64) (gptHeader, headerFault, string) {
	var h gptHeader
	if len(sector) < 512 || string(sector[0:8]) != gptSignature {
		return h, headerNoSignature, "no EFI PART signature"
	}
	h.HeaderSize = binary.LittleEndian.Uint32(sector[12:16])
	if h.HeaderSize < gptMinHeaderSize || int(h.HeaderSize) > len(sector) {
		return h, headerBadFields, fmt.Sprintf("header size %d outside 92..%d", h.HeaderSize, len(sector))
	}
	h.HeaderCRC = binary.LittleEndian.Uint32(sector[16:20])
	hdr := bytes.Clone(sector[:h.HeaderSize])
	binary.LittleEndian.PutUint32(hdr[16:20], 0)
	if crc32.ChecksumIEEE(hdr) != h.HeaderCRC {
		return h, headerBadCRC, fmt.Sprintf("header CRC %08x, computed %08x", h.HeaderCRC, crc32.ChecksumIEEE(hdr))
	}
	if rev := binary.LittleEndian.Uint32(sector[8:12]); rev>>16 != 1 {
		return h, headerBadFields, fmt.Sprintf("revision %#x", rev)
	}
	if binary.LittleEndian.Uint32(sector[20:24]) != 0 {
		return h, headerBadFields, "reserved field not zero"
	}
	h.MyLBA = binary.LittleEndian.Uint64(sector[24:32])
	h.AlternateLBA = binary.LittleEndian.Uint64(sector[32:40])
	h.FirstUsable = binary.LittleEndian.Uint64(sector[40:48])
	h.LastUsable = binary.LittleEndian.Uint64(sector[48:56])
	copy(h.DiskGUID[:], sector[56:72])
	h.EntriesLBA = binary.LittleEndian.Uint64(sector[72:80])
	h.EntryCount = binary.LittleEndian.Uint32(sector[80:84])
	h.EntrySize = binary.LittleEndian.Uint32(sector[84:88])
	h.EntriesCRC = binary.LittleEndian.Uint32(sector[88:92])
	h.extra = bytes.Clone(sector[gptMinHeaderSize:h.HeaderSize])
	if h.MyLBA != lba {
		return h, headerBadFields, fmt.Sprintf("header says it is at LBA %d, read from %d", h.MyLBA, lba)
	}
	if h.EntrySize < gptMinEntrySize || h.EntrySize&(h.EntrySize-1) != 0 || h.EntrySize > 1<<16 {
		return h, headerBadFields, fmt.Sprintf("entry size %d is not 128 times a power of two", h.EntrySize)
	}
	if h.EntryCount == 0 || uint64(h.EntryCount)*uint64(h.EntrySize) > 1<<24 {
		return h, headerBadFields, fmt.Sprintf("%d entries of %d bytes", h.EntryCount, h.EntrySize)
	}
	if h.FirstUsable > h.LastUsable+1 {
		return h, headerBadFields, fmt.Sprintf("first usable %d after last usable %d", h.FirstUsable, h.LastUsable)
	}
	return h, headerOK, ""
}

func (h gptHeader) entriesLen() int { return int(h.EntryCount) * int(h.EntrySize) }

// parseGPTEntries decodes the entries array; it checks nothing but the CRC,
// which the caller compares.
func parseGPTEntries(buf []byte, count, size uint32) []Partition {
	var out []Partition
	for i := uint32(0); i < count; i++ {
		e := buf[int(i)*int(size) : int(i+1)*int(size)]
		var p Partition
		copy(p.Type[:], e[0:16])
		if p.Type.IsZero() {
			continue
		}
		copy(p.UUID[:], e[16:32])
		first := binary.LittleEndian.Uint64(e[32:40])
		last := binary.LittleEndian.Uint64(e[40:48])
		p.Number = int(i) + 1
		p.Start = first
		if last >= first {
			p.Size = last - first + 1
		}
		p.Attrs = binary.LittleEndian.Uint64(e[48:56])
		p.Name = decodeName(e[56:128])
		if size > gptMinEntrySize {
			p.extra = bytes.Clone(e[gptMinEntrySize:])
		}
		out = append(out, p)
	}
	return out
}

func decodeName(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

func encodeName(s string) ([]byte, error) {
	u := utf16.Encode([]rune(s))
	if len(u) > gptNameBytes/2 {
		return nil, fmt.Errorf("%w: name %q is longer than 36 UTF-16 code units", ErrInvalidArgument, s)
	}
	b := make([]byte, gptNameBytes)
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b, nil
}

// encodeGPTEntries builds the entries array for t.
func encodeGPTEntries(t *Table) ([]byte, error) {
	buf := make([]byte, int(t.EntryCount)*int(t.EntrySize))
	for _, p := range t.Partitions {
		if p.Number < 1 || p.Number > int(t.EntryCount) {
			return nil, fmt.Errorf("%w: partition number %d outside 1..%d", ErrInvalidLayout, p.Number, t.EntryCount)
		}
		e := buf[(p.Number-1)*int(t.EntrySize) : p.Number*int(t.EntrySize)]
		copy(e[0:16], p.Type[:])
		copy(e[16:32], p.UUID[:])
		binary.LittleEndian.PutUint64(e[32:40], p.Start)
		binary.LittleEndian.PutUint64(e[40:48], p.End())
		binary.LittleEndian.PutUint64(e[48:56], p.Attrs)
		name, err := encodeName(p.Name)
		if err != nil {
			return nil, err
		}
		copy(e[56:128], name)
		copy(e[128:], p.extra)
	}
	return buf, nil
}

// encodeGPTHeader builds one header sector. backup selects the copy: the
// backup swaps MyLBA and AlternateLBA and points at the backup entries.
func encodeGPTHeader(t *Table, entriesCRC uint32, backup bool) []byte {
	s := make([]byte, t.SectorSize)
	copy(s[0:8], gptSignature)
	binary.LittleEndian.PutUint32(s[8:12], gptRevision)
	binary.LittleEndian.PutUint32(s[12:16], t.HeaderSize)
	my, alt, entries := uint64(1), t.AlternateLBA, t.EntriesLBA
	if backup {
		my, alt, entries = t.AlternateLBA, 1, t.BackupEntriesLBA()
	}
	binary.LittleEndian.PutUint64(s[24:32], my)
	binary.LittleEndian.PutUint64(s[32:40], alt)
	binary.LittleEndian.PutUint64(s[40:48], t.FirstUsable)
	binary.LittleEndian.PutUint64(s[48:56], t.LastUsable)
	copy(s[56:72], t.DiskGUID[:])
	binary.LittleEndian.PutUint64(s[72:80], entries)
	binary.LittleEndian.PutUint32(s[80:84], t.EntryCount)
	binary.LittleEndian.PutUint32(s[84:88], t.EntrySize)
	binary.LittleEndian.PutUint32(s[88:92], entriesCRC)
	copy(s[gptMinHeaderSize:t.HeaderSize], t.headerExtra)
	binary.LittleEndian.PutUint32(s[16:20], crc32.ChecksumIEEE(s[:t.HeaderSize]))
	return s
}

// tableFromHeader builds a Table from a checked header and its entries.
func tableFromHeader(h gptHeader, entries []byte, sectorSize int, sectors uint64, src Source) *Table {
	t := &Table{
		Label:       LabelGPT,
		SectorSize:  sectorSize,
		Sectors:     sectors,
		DiskGUID:    h.DiskGUID,
		FirstUsable: h.FirstUsable,
		LastUsable:  h.LastUsable,
		EntryCount:  h.EntryCount,
		EntrySize:   h.EntrySize,
		HeaderSize:  h.HeaderSize,
		Source:      src,
		headerExtra: h.extra,
		Partitions:  parseGPTEntries(entries, h.EntryCount, h.EntrySize),
	}
	if src == FromPrimary {
		t.EntriesLBA = h.EntriesLBA
		t.AlternateLBA = h.AlternateLBA
	} else {
		// Rebuild the primary's view from the backup: the primary entries
		// sit right after the primary header unless the usable area says
		// there is no room, which validation reports.
		t.AlternateLBA = h.MyLBA
		t.EntriesLBA = 2
	}
	return t
}
