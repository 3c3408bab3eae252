package safety

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"time"
)

// On-disk frame of one journal record:
//
//	magic   u32 LE  "EWAL"
//	length  u32 LE  payload bytes, 1..MaxRecordSize
//	crc     u32 LE  CRC32C (Castagnoli) over the length field and the payload
//	payload JSON
//
// The magic keeps a zero-filled tail (a file extended but not written before
// a crash) from reading as records; the CRC covers the length so a torn or
// flipped length is caught before it is trusted.
const (
	recordMagic = 0x4C415745 // "EWAL" little-endian
	frameHeader = 12
	// MaxRecordSize bounds one record's payload; a longer length field is damage.
	MaxRecordSize = 4 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record kinds.
const (
	kindIntent   = "intent"
	kindStep     = "step"
	kindOutcome  = "outcome"
	kindRecovery = "recovery"
	kindLockdown = "lockdown"
	kindClear    = "clear"
	kindOverride = "override"
)

// FormatVersion is the journal record format this build writes and reads.
// Every record carries it ("v"); a record with another version is refused
// with ErrVersion, never read with this version's meaning, and the journal
// is then left untouched (no torn-tail truncation).
const FormatVersion = 1

// record is one journal entry. Which fields are set depends on Kind.
type record struct {
	V        int        `json:"v"`
	Seq      uint64     `json:"seq"`
	Kind     string     `json:"kind"`
	ID       string     `json:"id,omitempty"` // mutation id
	Time     time.Time  `json:"time"`
	Intent   *Intent    `json:"intent,omitempty"`
	Images   []Image    `json:"images,omitempty"`
	Step     string     `json:"step,omitempty"`
	Detail   string     `json:"detail,omitempty"`
	Outcome  Outcome    `json:"outcome,omitempty"`
	Error    string     `json:"error,omitempty"`
	Lockdown *Lockdown  `json:"lockdown,omitempty"`
	Target   *Identity  `json:"target,omitempty"`
	Override []Override `json:"override,omitempty"`
}

// encodeRecord frames r.
func encodeRecord(r *record) ([]byte, error) {
	r.V = FormatVersion
	payload, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("%w: encode record: %v", ErrInvalid, err)
	}
	if len(payload) > MaxRecordSize {
		return nil, fmt.Errorf("%w: record of %d bytes exceeds %d", ErrInvalid, len(payload), MaxRecordSize)
	}
	buf := make([]byte, frameHeader+len(payload))
	binary.LittleEndian.PutUint32(buf[0:], recordMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(payload)))
	copy(buf[frameHeader:], payload)
	crc := crc32.Update(0, castagnoli, buf[4:8])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(buf[8:], crc)
	return buf, nil
}

// frameAt checks the frame at data[off:] and returns its payload and total
// length, or ok=false when there is no whole, intact frame there.
func frameAt(data []byte, off int) (payload []byte, n int, ok bool) {
	rest := data[off:]
	if len(rest) < frameHeader {
		return nil, 0, false
	}
	if binary.LittleEndian.Uint32(rest[0:]) != recordMagic {
		return nil, 0, false
	}
	l := binary.LittleEndian.Uint32(rest[4:])
	if l == 0 || l > MaxRecordSize || uint64(l) > uint64(len(rest)-frameHeader) {
		return nil, 0, false
	}
	p := rest[frameHeader : frameHeader+int(l)]
	crc := crc32.Update(0, castagnoli, rest[4:8])
	crc = crc32.Update(crc, castagnoli, p)
	if crc != binary.LittleEndian.Uint32(rest[8:]) {
		return nil, 0, false
	}
	return p, frameHeader + int(l), true
}

// decodeJournal parses a whole journal image. It returns the records and the
// length of the valid prefix. A damaged frame with no intact frame after it
// is a torn tail (a crash during the last append): it is ignored, and the
// caller truncates to validEnd. A damaged frame followed by an intact one is
// corruption, never skipped: ErrCorrupt. Sequence numbers must increase.
func decodeJournal(data []byte) (recs []record, validEnd int, err error) {
	off := 0
	var last uint64
	for off < len(data) {
		p, n, ok := frameAt(data, off)
		if !ok {
			if later := nextFrame(data, off+1); later >= 0 {
				return recs, off, fmt.Errorf("%w: damaged record at byte %d followed by an intact one at %d", ErrCorrupt, off, later)
			}
			return recs, off, nil
		}
		// The version is read first and leniently: a record of another
		// version may have fields this one does not know.
		var v struct {
			V *int `json:"v"`
		}
		if err := json.Unmarshal(p, &v); err != nil {
			return recs, off, fmt.Errorf("%w: record at byte %d has a valid checksum but does not decode: %v", ErrCorrupt, off, err)
		}
		if v.V == nil || *v.V != FormatVersion {
			got := "none"
			if v.V != nil {
				got = fmt.Sprint(*v.V)
			}
			return recs, off, fmt.Errorf("%w: record at byte %d has format version %s, this build reads %d", ErrVersion, off, got, FormatVersion)
		}
		var r record
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return recs, off, fmt.Errorf("%w: record at byte %d has a valid checksum but does not decode: %v", ErrCorrupt, off, err)
		}
		if dec.More() {
			return recs, off, fmt.Errorf("%w: record at byte %d has data after its JSON value", ErrCorrupt, off)
		}
		if err := r.validate(); err != nil {
			return recs, off, fmt.Errorf("%w: record at byte %d: %v", ErrCorrupt, off, err)
		}
		if r.Seq <= last {
			return recs, off, fmt.Errorf("%w: record at byte %d has sequence %d after %d", ErrCorrupt, off, r.Seq, last)
		}
		last = r.Seq
		recs = append(recs, r)
		off += n
	}
	return recs, off, nil
}

// nextFrame finds the first intact frame at or after off, or -1.
func nextFrame(data []byte, off int) int {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], recordMagic)
	for off < len(data) {
		i := bytes.Index(data[off:], magic[:])
		if i < 0 {
			return -1
		}
		if _, _, ok := frameAt(data, off+i); ok {
			return off + i
		}
		off += i + 1
	}
	return -1
}

// validate checks that a decoded record is one this version writes: a
// known kind with the fields that kind needs. Replay would otherwise skip
// it silently (an intent without its Intent would lose a mutation).
func (r *record) validate() error {
	switch r.Kind {
	case kindIntent:
		if r.ID == "" || r.Intent == nil {
			return fmt.Errorf("intent without an id or intent")
		}
		if !validID(r.ID) {
			return fmt.Errorf("mutation id %q", r.ID)
		}
		// Restores read these files and write them to the target: they
		// must stay inside the state directory.
		for _, im := range r.Images {
			if !filepath.IsLocal(im.File) {
				return fmt.Errorf("before-image file %q outside the state directory", im.File)
			}
		}
	case kindStep, kindRecovery:
		if r.ID == "" {
			return fmt.Errorf("%s without a mutation id", r.Kind)
		}
	case kindOutcome:
		if r.ID == "" || r.Outcome == "" {
			return fmt.Errorf("outcome without a mutation id or outcome")
		}
	case kindLockdown:
		if r.Lockdown == nil {
			return fmt.Errorf("lockdown without its lock-down")
		}
	case kindClear, kindOverride:
		if r.Target == nil {
			return fmt.Errorf("%s without a target", r.Kind)
		}
	default:
		return fmt.Errorf("unknown kind %q", r.Kind)
	}
	return nil
}
