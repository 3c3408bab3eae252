package safety

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// frame wraps any payload in an intact journal frame, as another build (or
// a buggy writer) would.
func frame(payload string) []byte {
	buf := make([]byte, frameHeader+len(payload))
	binary.LittleEndian.PutUint32(buf[0:], recordMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(payload)))
	copy(buf[frameHeader:], payload)
	crc := crc32.Update(0, castagnoli, buf[4:8])
	crc = crc32.Update(crc, castagnoli, []byte(payload))
	binary.LittleEndian.PutUint32(buf[8:], crc)
	return buf
}

// A record that is intact but written in another format version (or in
// none) must be refused, never read with this version's meaning, and the
// journal must not be "repaired" by truncating it as a torn tail. A record
// of this version with a kind it does not define, or without the fields
// its kind needs, is corruption: replay used to skip it silently.
func TestJournalRecordVersionAndKind(t *testing.T) {
	good, _ := journalBytes(t, 2)
	cases := []struct {
		name    string
		payload string
		want    error
	}{
		{"newer version", `{"v":2,"seq":3,"kind":"intent","id":"x","time":"2026-01-01T00:00:00Z","new_field":1}`, ErrVersion},
		{"newer version, known fields", `{"v":2,"seq":3,"kind":"step","id":"m","time":"2026-01-01T00:00:00Z","step":"s"}`, ErrVersion},
		{"no version", `{"seq":3,"kind":"step","id":"m","time":"2026-01-01T00:00:00Z","step":"s"}`, ErrVersion},
		{"unknown kind", `{"v":1,"seq":3,"kind":"truncate","id":"m","time":"2026-01-01T00:00:00Z"}`, ErrCorrupt},
		{"intent without intent", `{"v":1,"seq":3,"kind":"intent","id":"m","time":"2026-01-01T00:00:00Z"}`, ErrCorrupt},
		{"outcome without outcome", `{"v":1,"seq":3,"kind":"outcome","id":"m","time":"2026-01-01T00:00:00Z"}`, ErrCorrupt},
		{"image outside the state dir", `{"v":1,"seq":3,"kind":"intent","id":"m","time":"2026-01-01T00:00:00Z","intent":{"op":"x","target":{"path":"/dev/x"}},"images":[{"file":"../../etc/shadow","offset":0,"length":1,"sha256":"00"}]}`, ErrCorrupt},
		{"id that is a path", `{"v":1,"seq":3,"kind":"intent","id":"../m","time":"2026-01-01T00:00:00Z","intent":{"op":"x","target":{"path":"/dev/x"}}}`, ErrCorrupt},
		{"two values", `{"v":1,"seq":3,"kind":"step","id":"m","time":"2026-01-01T00:00:00Z"} {}`, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := append(append([]byte(nil), good...), frame(c.payload)...)
			recs, _, err := decodeJournal(data)
			if !errors.Is(err, c.want) || len(recs) != 2 {
				t.Fatalf("decode: %d records, %v; want %v", len(recs), err, c.want)
			}
			dir := t.TempDir()
			jp := filepath.Join(dir, JournalFile)
			if err := os.WriteFile(jp, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenJournal(context.Background(), WithStateDir(dir)); !errors.Is(err, c.want) {
				t.Fatalf("open: %v; want %v", err, c.want)
			}
			if _, err := ReadJournal(context.Background(), dir); !errors.Is(err, c.want) {
				t.Fatalf("snapshot: %v; want %v", err, c.want)
			}
			if after, _ := os.ReadFile(jp); !bytes.Equal(after, data) {
				t.Fatalf("journal changed by a refused open: %d bytes, was %d", len(after), len(data))
			}
		})
	}
}
