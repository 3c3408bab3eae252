package safety

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// compactFixture leaves a journal with finished mutations, one interrupted
// and one lock-down, and returns what must survive compaction.
func compactFixture(t *testing.T, dir string) (interruptedID string, locked Identity, path string, old []byte) {
	t.Helper()
	ctx := context.Background()
	j, err := OpenJournal(ctx, WithStateDir(dir), WithRetention(2), WithCompactAt(0))
	if err != nil {
		t.Fatal(err)
	}
	_, idf, _ := target(t, 32768)
	for i := 0; i < 6; i++ {
		m, err := j.Begin(ctx, Intent{Op: "x", Target: idf, Ranges: testRanges[:1]})
		if err != nil {
			t.Fatal(err)
		}
		m.Step(ctx, "s", "")
		m.Done(ctx)
	}
	j.RecordOverride(ctx, idf, []Override{{Code: CodeNotEmpty, Reason: "audit me"}})
	_, locked, _ = target(t, 4096)
	j.LockDown(ctx, locked, "distrusted")
	j.Close()
	path, idi, old := target(t, 32768)
	interruptedID = interruptedAfter(t, dir, path, idi, 1)
	return interruptedID, locked, path, old
}

func TestCompactKeepsWhatRecoveryNeeds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mid, locked, path, old := compactFixture(t, dir)
	j := openJ(t, dir, WithRetention(2), WithCompactAt(0))
	before := len(j.Entries())
	st, err := j.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.After >= st.Before || st.Entries != 3 || before != 7 {
		t.Fatalf("stats %+v (before %d entries)", st, before)
	}
	arch := mustRead(t, st.Archive)
	if !bytes.Contains(arch, []byte("audit me")) {
		t.Fatal("archive lost the audit trail")
	}
	// Appends after compaction land in the new file.
	if err := j.RecordOverride(ctx, locked, []Override{{Code: CodeMounted, Reason: "after"}}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j2 := openJ(t, dir, WithCompactAt(0))
	if in := j2.Interrupted(); len(in) != 1 || in[0].ID != mid || in[0].LastStep() != "range" {
		t.Fatalf("interrupted %+v", in)
	}
	if _, ok := j2.LockedDown(locked); !ok {
		t.Fatal("lock-down lost")
	}
	if n := len(j2.Entries()); n != 3 {
		t.Fatalf("%d entries after compaction", n)
	}
	res, err := j2.Recover(ctx)
	if err != nil || res[0].Outcome != OutcomeRolledBack || !bytes.Equal(mustRead(t, path), old) {
		t.Fatalf("recover after compaction: %+v %v", res, err)
	}
}

func TestCompactAutomaticallyAtOpen(t *testing.T) {
	dir := t.TempDir()
	compactFixture(t, dir)
	j := openJ(t, dir, WithRetention(1), WithCompactAt(1))
	if n := len(j.Entries()); n != 2 {
		t.Fatalf("%d entries", n)
	}
	ms, _ := filepath.Glob(filepath.Join(dir, "journal-*.wal.old"))
	if len(ms) != 1 {
		t.Fatalf("archives %v", ms)
	}
	if _, err := OpenJournal(context.Background(), WithStateDir(t.TempDir()), WithCompactAt(-1)); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestCompactFaultAtEveryWriteAndSync(t *testing.T) {
	ctx := context.Background()
	for failAt := 1; ; failAt++ {
		dir := t.TempDir()
		mid, locked, _, _ := compactFixture(t, dir)
		ffs := &faultFS{failAt: failAt}
		j, err := OpenJournal(ctx, WithStateDir(dir), WithFS(ffs), WithCompactAt(0), WithRetention(2))
		if err != nil {
			t.Fatal(err)
		}
		ffs.armed = true
		_, cerr := j.Compact(ctx)
		j.Close()
		j2 := openJ(t, dir, WithCompactAt(0))
		if in := j2.Interrupted(); len(in) != 1 || in[0].ID != mid {
			t.Fatalf("failAt=%d (%v): interrupted %+v", failAt, cerr, in)
		}
		if _, ok := j2.LockedDown(locked); !ok {
			t.Fatalf("failAt=%d: lock-down lost", failAt)
		}
		if _, err := os.Stat(filepath.Join(dir, JournalFile+".tmp")); err == nil {
			t.Fatalf("failAt=%d: temporary file left", failAt)
		}
		j2.Close()
		if ffs.faults == 0 {
			if cerr != nil {
				t.Fatal(cerr)
			}
			t.Logf("%d fault points", failAt-1)
			break
		}
	}
}

// After a compaction renumbers the records, retention must still keep the
// newest mutations' before-images. The in-memory entries kept their old
// (larger) outcome sequence numbers, so the first mutation after a
// compaction looked older than every kept one and lost its images at once.
func TestRetentionAfterCompaction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, id, _ := target(t, 32768)
	j := openJ(t, dir, WithRetention(1))
	run := func() string {
		t.Helper()
		m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges[:1]})
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 3; k++ {
			if err := m.Step(ctx, "s", ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Done(ctx); err != nil {
			t.Fatal(err)
		}
		return m.ID()
	}
	for i := 0; i < 4; i++ {
		run()
	}
	if _, err := j.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	newest := run()
	ents, _ := os.ReadDir(filepath.Join(dir, "images"))
	if len(ents) != 1 || ents[0].Name() != newest {
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		t.Fatalf("images kept %v, want only the newest %s", got, newest)
	}
	// The same answer from a fresh replay of the compacted journal.
	j.Close()
	j2 := openJ(t, dir, WithRetention(1))
	if e, err := j2.Entry(newest); err != nil || len(e.Images) == 0 {
		t.Fatalf("newest entry %+v %v", e, err)
	}
	if _, err := os.Stat(j2.ImagePath(mustEntry(t, j2, newest).Images[0])); err != nil {
		t.Fatal(err)
	}
}

func mustEntry(t *testing.T, j *Journal, id string) Entry {
	t.Helper()
	e, err := j.Entry(id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The before-images of a locked-down target are what an operator restores
// by hand: retention and compaction keep them (and the mutation they
// belong to) until the lock-down is cleared. They used to go with the
// retention of finished mutations like any other.
func TestLockedDownImagesOutliveRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, idX, _ := target(t, 32768)
	_, idY, _ := target(t, 32768)
	j := openJ(t, dir, WithRetention(1))
	m, err := j.Begin(ctx, Intent{Op: "x", Target: idX, Ranges: testRanges[:1]})
	if err != nil {
		t.Fatal(err)
	}
	locked := m.ID()
	if _, err := m.lockDown(errors.New("restore failed"), "undo failed: "); !errors.Is(err, ErrLockedDown) {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		m, err := j.Begin(ctx, Intent{Op: "y", Target: idY, Ranges: testRanges[:1]})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Done(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j = openJ(t, dir, WithRetention(1))
	e, err := j.Entry(locked)
	if err != nil {
		t.Fatalf("locked-down mutation dropped: %v", err)
	}
	if _, err := os.Stat(j.ImagePath(e.Images[0])); err != nil {
		t.Fatalf("before-image of a locked-down target pruned: %v", err)
	}
	// Cleared, it is an ordinary finished mutation again.
	if err := j.Clear(ctx, idX, "restored by hand"); err != nil {
		t.Fatal(err)
	}
	m, err = j.Begin(ctx, Intent{Op: "y", Target: idY, Ranges: testRanges[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Done(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "images", locked)); !os.IsNotExist(err) {
		t.Fatalf("images of a cleared lock-down kept past retention: %v", err)
	}
}
