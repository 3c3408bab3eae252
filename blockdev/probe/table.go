package probe

// Table is a partition table as blkid reads it: its type, its identifier and
// its entries with offsets and sizes in 512-byte sectors whatever the
// device's logical sector size.
type Table struct {
	Type    string // "gpt", "dos" or "PMBR" (protective MBR without a valid GPT)
	ID      string // PTUUID: disk GUID (gpt) or disk signature %08x (dos)
	Entries []Entry
}

// Entry is one partition of a Table.
type Entry struct {
	Number int    // blkid's PART_ENTRY_NUMBER: GPT slot+1; dos 1-4, logical 5+
	Start  uint64 // in 512-byte sectors
	Size   uint64 // in 512-byte sectors
	Type   string // GPT type GUID, or "0xNN" for dos
	UUID   string // GPT partition GUID, or "<disk id>-NN" for dos
	Name   string // GPT partition name
	Flags  uint64 // GPT attribute bits, or dos boot indicator (0x80)
}

// probeTable finds the partition table on s, in blkid's order: dos (which
// steps aside for a protective MBR and for a FAT boot sector), then GPT,
// then a bare protective MBR.
func probeTable(s *source, sectorSize int64) (*Table, error) {
	mbr := s.headAt(0, 512)
	if mbr == nil || mbr[510] != 0x55 || mbr[511] != 0xaa {
		return nil, nil
	}
	hasPMBR := false
	for i := 0; i < 4; i++ {
		if mbr[446+i*16+4] == 0xee {
			hasPMBR = true
		}
	}
	if !hasPMBR {
		return probeDOS(s, sectorSize)
	}
	t, err := probeGPT(s, sectorSize)
	if err != nil || t != nil {
		return t, err
	}
	return &Table{Type: "PMBR"}, nil
}
