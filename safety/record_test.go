package safety

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// journalBytes builds a journal image of n small records.
func journalBytes(t testing.TB, n int) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	var ends []int
	for i := 1; i <= n; i++ {
		b, err := encodeRecord(&record{Seq: uint64(i), Kind: kindStep, ID: "m", Step: "s"})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		ends = append(ends, buf.Len())
	}
	return buf.Bytes(), ends
}

func TestTornTailAtEveryByte(t *testing.T) {
	data, ends := journalBytes(t, 3)
	for cut := ends[1]; cut < len(data); cut++ {
		recs, end, err := decodeJournal(data[:cut])
		if err != nil || len(recs) != 2 || end != ends[1] {
			t.Fatalf("cut at %d: %d records, end %d, %v", cut, len(recs), end, err)
		}
	}
	// Zeros after the last record (the file grew, the data never landed).
	recs, end, err := decodeJournal(append(append([]byte(nil), data...), make([]byte, 4096)...))
	if err != nil || len(recs) != 3 || end != len(data) {
		t.Fatalf("zero tail: %d %d %v", len(recs), end, err)
	}
}

func TestDamageInTheMiddleIsCorrupt(t *testing.T) {
	data, ends := journalBytes(t, 3)
	// Every single-byte flip inside the second record is caught: either the
	// journal is corrupt, or (for a flip that breaks framing and hides the
	// third record's magic too) it is never misread as a different record.
	for i := ends[0]; i < ends[1]; i++ {
		d := append([]byte(nil), data...)
		d[i] ^= 0x40
		recs, _, err := decodeJournal(d)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d: %d records, %v; want ErrCorrupt", i, len(recs), err)
		}
		if len(recs) != 1 {
			t.Fatalf("flip at %d: %d records trusted", i, len(recs))
		}
	}
	// Sequence going backwards is corruption too.
	a, _ := encodeRecord(&record{Seq: 2, Kind: kindStep, ID: "m"})
	b, _ := encodeRecord(&record{Seq: 1, Kind: kindStep, ID: "m"})
	if _, _, err := decodeJournal(append(a, b...)); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
}

func TestOpenTruncatesTornTailAndAppendsAfter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, id, _ := target(t, 32768)
	j := openJ(t, dir)
	m, err := j.Begin(ctx, Intent{Op: "x", Target: id})
	if err != nil {
		t.Fatal(err)
	}
	m.Done(ctx)
	j.Close()
	jp := filepath.Join(dir, JournalFile)
	good := mustRead(t, jp)
	torn, _ := encodeRecord(&record{Seq: 99, Kind: kindStep, ID: m.ID(), Step: "half"})
	os.WriteFile(jp, append(good, torn[:len(torn)-3]...), 0o600)
	j2 := openJ(t, dir)
	if j2.TornBytes() != int64(len(torn)-3) {
		t.Fatalf("torn bytes %d", j2.TornBytes())
	}
	m2, err := j2.Begin(ctx, Intent{Op: "y", Target: id})
	if err != nil {
		t.Fatal(err)
	}
	m2.Done(ctx)
	j2.Close()
	j3 := openJ(t, dir)
	if n := len(j3.Entries()); n != 2 {
		t.Fatalf("%d entries after torn tail + append", n)
	}
	j3.Close()
	// Damage in the middle refuses to open.
	d := mustRead(t, jp)
	d[20] ^= 1
	os.WriteFile(jp, d, 0o600)
	if _, err := OpenJournal(ctx, WithStateDir(dir)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open of damaged journal: %v", err)
	}
}

// TestFaultAtEveryJournalWriteAndSync fails each write and sync of the
// journal and its before-images in turn, during Begin, Step and Done. The
// promise: when Begin fails the target is never written; after a reopen and
// recovery the target is exactly old or exactly new and the journal says
// which.
func TestFaultAtEveryJournalWriteAndSync(t *testing.T) {
	ctx := context.Background()
	points := 0
	for failAt := 1; ; failAt++ {
		dir := t.TempDir()
		path, id, old := target(t, 32768)
		ffs := &faultFS{failAt: failAt}
		j, err := OpenJournal(ctx, WithStateDir(dir), WithFS(ffs))
		if err != nil {
			t.Fatal(err)
		}
		ffs.armed = true
		wrote := false
		func() {
			m, err := j.Begin(ctx, Intent{Op: "test.write", Target: id, Ranges: testRanges})
			if err != nil {
				return
			}
			for _, r := range testRanges {
				wrote = true
				if err := applyRange(path, r); err != nil {
					t.Fatal(err)
				}
				if err := m.Step(ctx, "range", ""); err != nil {
					return // the caller stops mutating when the journal fails
				}
			}
			m.Done(ctx)
		}()
		if !wrote && !bytes.Equal(mustRead(t, path), old) {
			t.Fatal("target written although Begin failed")
		}
		j.Close()
		j2 := openJ(t, dir)
		if _, err := j2.Recover(ctx); err != nil {
			t.Fatalf("failAt=%d: recover: %v", failAt, err)
		}
		es := j2.Entries()
		got := mustRead(t, path)
		switch {
		case len(es) == 0:
			if !bytes.Equal(got, old) {
				t.Fatalf("failAt=%d: no entry but target changed", failAt)
			}
		case es[0].Outcome.State() == "old":
			if !bytes.Equal(got, old) {
				t.Fatalf("failAt=%d: journal says old, target differs", failAt)
			}
		case es[0].Outcome.State() == "new":
			if !bytes.Equal(got, newContent(old)) {
				t.Fatalf("failAt=%d: journal says new, target differs", failAt)
			}
		default:
			t.Fatalf("failAt=%d: outcome %q", failAt, es[0].Outcome)
		}
		j2.Close()
		if ffs.faults == 0 {
			break
		}
		points++
	}
	if points < 10 {
		t.Fatalf("only %d fault points", points)
	}
	t.Logf("%d fault points", points)
}

func FuzzDecodeJournal(f *testing.F) {
	data, ends := journalBytes(f, 3)
	f.Add(data)
	f.Add(data[:ends[1]+5])
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	intent, _ := encodeRecord(&record{Seq: 1, Kind: kindIntent, ID: "a", Intent: &Intent{Op: "x", Target: Identity{Path: "/dev/x"}},
		Images: []Image{{File: "f", Offset: 1, Length: 2, SHA256: "00"}}})
	f.Add(intent)
	f.Add(append(data[:ends[0]:ends[0]], frame(`{"v":2,"seq":2,"kind":"step","id":"m","time":"2026-01-01T00:00:00Z"}`)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, end, err := decodeJournal(b)
		if end < 0 || end > len(b) {
			t.Fatalf("end %d of %d", end, len(b))
		}
		// The valid prefix must decode to the same records again, and
		// re-encoding them must reproduce it byte for byte: nothing misread.
		recs2, end2, err2 := decodeJournal(b[:end])
		if err2 != nil || end2 != end || len(recs2) != len(recs) {
			t.Fatalf("prefix re-decode: %d %v vs %d %v", len(recs2), err2, len(recs), err)
		}
		for i := range recs {
			if _, err := encodeRecord(&recs[i]); err != nil {
				t.Fatalf("decoded record does not re-encode: %v", err)
			}
		}
		j := &Journal{entries: map[string]*Entry{}, inflight: map[string]*Mutation{}}
		for i := range recs {
			j.apply(&recs[i])
		}
	})
}
