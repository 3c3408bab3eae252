package smart

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ParseAtasmartBlob decodes a libatasmart blob: sections of a 4-byte ASCII
// tag, a 4-byte big-endian length and the bytes, with tags IDFY (IDENTIFY
// DEVICE), SMST (SMART status: big-endian 1 good, 0 bad), SMDT (SMART READ
// DATA) and SMTH (SMART READ THRESHOLDS). Unknown tags are skipped; a
// repeated tag, a truncated section or a missing IDFY is ErrMalformed. A
// bad page checksum fails the parse with a *ChecksumError for that page.
func ParseAtasmartBlob(b []byte) (*Report, error) {
	const page = "libatasmart blob"
	sec := map[string][]byte{}
	for p := 0; p < len(b); {
		if len(b)-p < 8 {
			return nil, malformed(page, "truncated section header at offset %d", p)
		}
		tag := string(b[p : p+4])
		n := binary.BigEndian.Uint32(b[p+4:])
		p += 8
		if uint64(n) > uint64(len(b)-p) {
			return nil, malformed(page, "section %q of %d bytes overruns the blob", tag, n)
		}
		if _, dup := sec[tag]; dup {
			return nil, malformed(page, "repeated section %q", tag)
		}
		sec[tag] = b[p : p+int(n)]
		p += int(n)
	}
	idfy, ok := sec["IDFY"]
	if !ok {
		return nil, malformed(page, "no IDFY section")
	}
	id, err := ParseIdentify(idfy)
	if err != nil {
		return nil, err
	}
	var problems []error
	st := StatusUnknown
	if s, ok := sec["SMST"]; ok {
		if len(s) != 4 {
			return nil, malformed(page, "SMST of %d bytes, want 4", len(s))
		}
		st = StatusFailed
		if binary.BigEndian.Uint32(s) != 0 {
			st = StatusPassed
		}
	}
	var v *SmartValues
	if d, ok := sec["SMDT"]; ok {
		if v, err = ParseSmartValues(d); err != nil {
			return nil, err
		}
	}
	var th *Thresholds
	if d, ok := sec["SMTH"]; ok {
		if th, err = ParseThresholds(d); err != nil {
			return nil, err
		}
	}
	if v == nil {
		problems = append(problems, fmt.Errorf("%w: blob has no SMDT section", ErrMalformed))
	}
	data := NewATAData(id, v, th, st)
	data.Problems = problems
	return &Report{Protocol: ProtocolATA, ATA: data}, nil
}

// ParseReplay decodes a saved reading: a libatasmart blob, or a raw 512-byte
// NVMe SMART / Health Information log page.
func ParseReplay(b []byte) (*Report, error) {
	if len(b) >= 4 {
		switch string(b[:4]) {
		case "IDFY", "SMST", "SMDT", "SMTH":
			return ParseAtasmartBlob(b)
		}
	}
	if len(b) == 512 {
		h, err := ParseNVMeHealth(b)
		if err != nil {
			return nil, err
		}
		return &Report{Protocol: ProtocolNVMe, NVMe: &NVMeData{Health: h}}, nil
	}
	return nil, errors.Join(ErrMalformed, fmt.Errorf("smart: replay data of %d bytes is neither a libatasmart blob nor a 512-byte NVMe health log", len(b)))
}
