package probe

import (
	"bytes"
	"hash/crc32"
)

const (
	gptSignature     = "EFI PART"
	gptMinHeaderSize = 92
	gptEntrySize     = 128 // the only entry size blkid accepts
)

// probeGPT reads the primary GPT header at LBA 1 and, when it is invalid,
// the backup at the device's last LBA, as blkid does. Header and entry
// array CRCs are both checked.
func probeGPT(s *source, ssz int64) (*Table, error) {
	lastLBA := s.size/ssz - 1
	if lastLBA < 2 {
		return nil, nil
	}
	h, ents, err := gptHeader(s, ssz, 1, lastLBA)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h, ents, err = gptHeader(s, ssz, lastLBA, lastLBA)
		if err != nil || h == nil {
			return nil, err
		}
	}
	t := &Table{Type: "gpt", ID: guidString(h[56:72])}
	n := le.Uint32(h[80:])
	esz := le.Uint32(h[84:])
	first, last := le.Uint64(h[40:]), le.Uint64(h[48:])
	mul := uint64(ssz / 512)
	for i := uint32(0); i < n; i++ {
		e := ents[i*esz : (i+1)*esz]
		if isZero(e[0:16]) {
			continue // unused slot; numbering still counts it
		}
		start, end := le.Uint64(e[32:]), le.Uint64(e[40:])
		if start < first || end > last || end < start {
			continue // blkid ignores entries outside the usable area
		}
		t.Entries = append(t.Entries, Entry{
			Number: int(i) + 1,
			Start:  start * mul,
			Size:   (end - start + 1) * mul,
			Type:   guidString(e[0:16]),
			UUID:   guidString(e[16:32]),
			Name:   utf16Label(e[56:128], false),
			Flags:  le.Uint64(e[48:]),
		})
	}
	return t, nil
}

// gptHeader validates the header at lba and loads its entry array. It
// returns nil (no error) for anything invalid.
func gptHeader(s *source, ssz, lba, lastLBA int64) ([]byte, []byte, error) {
	h, err := s.at(lba*ssz, int(ssz))
	if err != nil || h == nil {
		return nil, nil, ignoreBudget(err)
	}
	if !hasAt(h, 0, gptSignature) {
		return nil, nil, nil
	}
	hsz := le.Uint32(h[12:])
	if hsz < gptMinHeaderSize || int64(hsz) > ssz {
		return nil, nil, nil
	}
	c := bytes.Clone(h[:hsz])
	want := le.Uint32(c[16:])
	c[16], c[17], c[18], c[19] = 0, 0, 0, 0
	if crc32.ChecksumIEEE(c) != want {
		return nil, nil, nil
	}
	if int64(le.Uint64(h[24:])) != lba {
		return nil, nil, nil
	}
	first, last := le.Uint64(h[40:]), le.Uint64(h[48:])
	if first > last || last > uint64(lastLBA) || first > uint64(lastLBA) {
		return nil, nil, nil
	}
	// blkid wants the header outside the usable range and entries of
	// exactly 128 bytes; it caps the array only below 4 GiB, we at one
	// read (8192 entries), far more than any tool writes.
	if first < uint64(lba) && uint64(lba) < last {
		return nil, nil, nil
	}
	n, esz := le.Uint32(h[80:]), le.Uint32(h[84:])
	if n == 0 || esz != gptEntrySize || uint64(n)*gptEntrySize > maxExtraBytes {
		return nil, nil, nil
	}
	entLBA := int64(le.Uint64(h[72:]))
	if entLBA < 0 || entLBA > lastLBA {
		return nil, nil, nil
	}
	ents, err := s.at(entLBA*ssz, int(n*esz))
	if err != nil || ents == nil {
		return nil, nil, ignoreBudget(err)
	}
	if crc32.ChecksumIEEE(ents) != le.Uint32(h[88:]) {
		return nil, nil, nil
	}
	return h, ents, nil
}

func ignoreBudget(err error) error {
	if err == errBudget {
		return nil
	}
	return err
}
