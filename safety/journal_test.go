package safety

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// target makes a file of n bytes with a recognisable pattern and returns its
// path, identity and contents.
func target(t *testing.T, n int) (string, Identity, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := IdentityOf(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return p, id, data
}

func openJ(t *testing.T, dir string, opts ...Option) *Journal {
	t.Helper()
	j, err := OpenJournal(context.Background(), append([]Option{WithStateDir(dir)}, opts...)...)
	if err != nil {
		t.Fatalf("OpenJournal: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

var testRanges = []Range{{Offset: 0, Length: 512}, {Offset: 4096, Length: 1024}, {Offset: 16384, Length: 512}}

// newContent is the file with every test range overwritten by 0xEE.
func newContent(old []byte) []byte {
	nw := append([]byte(nil), old...)
	for _, r := range testRanges {
		for i := r.Offset; i < r.Offset+r.Length; i++ {
			nw[i] = 0xEE
		}
	}
	return nw
}

// applyRanges performs the test mutation: each range gets 0xEE.
func applyRange(path string, r Range) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xEE}, int(r.Length)), r.Offset); err != nil {
		return err
	}
	return f.Sync()
}

func rollForwardAll(_ context.Context, e Entry) error {
	for _, r := range e.Intent.Ranges {
		if err := applyRange(e.Intent.Target.Path, r); err != nil {
			return err
		}
	}
	return nil
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJournalLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, id, old := target(t, 32768)
	j := openJ(t, dir)
	m, err := j.Begin(ctx, Intent{Op: "test.write", Target: id, Ranges: testRanges, Params: []byte(`{"fill":238}`)})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range testRanges {
		if err := applyRange(path, r); err != nil {
			t.Fatal(err)
		}
		if err := m.Step(ctx, fmt.Sprintf("range-%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Done(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Done(ctx); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second Done: %v, want ErrInvalid", err)
	}
	// The before-images are named like sfdisk's and hold the old bytes, so
	// dd restores them.
	for _, im := range m.Images() {
		want := fmt.Sprintf("sfdisk-disk.img-0x%08x.bak", im.Offset)
		if filepath.Base(im.File) != want {
			t.Errorf("image file %s, want %s", im.File, want)
		}
		got := mustRead(t, filepath.Join(dir, im.File))
		if !bytes.Equal(got, old[im.Offset:im.Offset+im.Length]) {
			t.Errorf("image %s does not hold the old bytes", im.File)
		}
	}
	j.Close()

	j2 := openJ(t, dir)
	if in := j2.Interrupted(); len(in) != 0 {
		t.Fatalf("interrupted after Done: %+v", in)
	}
	es := j2.Entries()
	if len(es) != 1 || es[0].Outcome != OutcomeDone || es[0].Outcome.State() != "new" {
		t.Fatalf("entries %+v", es)
	}
	if got := es[0].StepsDone(); strings.Join(got, ",") != "range-0,range-1,range-2" {
		t.Fatalf("steps %v", got)
	}
	if string(es[0].Intent.Params) != `{"fill":238}` {
		t.Fatalf("params %s", es[0].Intent.Params)
	}
}

func TestJournalSecondProcessBusy(t *testing.T) {
	dir := t.TempDir()
	openJ(t, dir)
	// flock is per open file description, so a second open in this process
	// stands in for a second process.
	if _, err := OpenJournal(context.Background(), WithStateDir(dir)); !errors.Is(err, ErrBusy) {
		t.Fatalf("second open: %v, want ErrBusy", err)
	}
}

func TestOptionsValidated(t *testing.T) {
	ctx := context.Background()
	bad := []Option{WithStateDir(""), WithFS(nil), WithRetention(-1), WithRollForward("", nil),
		WithIdentifier(nil), WithDeviceOpener(nil), WithClock(nil)}
	for i, o := range bad {
		if _, err := OpenJournal(ctx, WithStateDir(t.TempDir()), o); !errors.Is(err, ErrInvalid) {
			t.Errorf("option %d: %v, want ErrInvalid", i, err)
		}
	}
	f := func(context.Context, Entry) error { return nil }
	if _, err := OpenJournal(ctx, WithStateDir(t.TempDir()), WithRollForward("x", f), WithRollForward("x", f)); !errors.Is(err, ErrInvalid) {
		t.Errorf("duplicate roll-forward: %v", err)
	}
}

func TestBeginValidates(t *testing.T) {
	ctx := context.Background()
	j := openJ(t, t.TempDir())
	_, id, _ := target(t, 8192)
	for i, in := range []Intent{
		{Target: id},
		{Op: "x"},
		{Op: "x", Target: id, Ranges: []Range{{Offset: -1, Length: 1}}},
		{Op: "x", Target: id, Ranges: []Range{{Offset: 0, Length: 0}}},
		{Op: "x", Target: id, Params: []byte("{")},
		{Op: "x", Target: id, Overrides: []Override{{Code: CodeMounted}}},
		{Op: "x", Target: id, Overrides: []Override{{Code: CodeLockedDown, Reason: "please"}}},
	} {
		if _, err := j.Begin(ctx, in); !errors.Is(err, ErrInvalid) {
			t.Errorf("intent %d: %v, want ErrInvalid", i, err)
		}
	}
	// A range past the end of the target cannot be saved: Begin fails and
	// journals nothing.
	if _, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: []Range{{Offset: 8000, Length: 1000}}}); err == nil {
		t.Fatal("range past end accepted")
	}
	if len(j.Entries()) != 0 {
		t.Fatalf("failed Begin journaled %+v", j.Entries())
	}
}

func TestBeginRefusesBusyAndPending(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, id, _ := target(t, 32768)
	j := openJ(t, dir)
	m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(ctx, Intent{Op: "y", Target: id}); !errors.Is(err, ErrBusy) {
		t.Fatalf("concurrent Begin: %v, want ErrBusy", err)
	}
	_ = m // left running: the close below makes it interrupted
	j.Close()
	j2 := openJ(t, dir)
	in := j2.Interrupted()
	if len(in) != 1 || in[0].ID != m.ID() {
		t.Fatalf("interrupted %+v", in)
	}
	if _, err := j2.Begin(ctx, Intent{Op: "y", Target: id}); !errors.Is(err, ErrPendingRecovery) {
		t.Fatalf("Begin with pending: %v, want ErrPendingRecovery", err)
	}
	p, err := j2.Plan(Intent{Op: "y", Target: id, Ranges: testRanges[:1]})
	if err != nil || !errors.Is(p.Refused, ErrPendingRecovery) || len(p.Images) != 1 {
		t.Fatalf("plan %+v %v", p, err)
	}
}

func TestUndoLevels(t *testing.T) {
	ctx := context.Background()
	t.Run("compensated", func(t *testing.T) {
		path, id, old := target(t, 32768)
		j := openJ(t, t.TempDir())
		m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges})
		if err != nil {
			t.Fatal(err)
		}
		applyRange(path, testRanges[0])
		o, err := m.Undo(ctx, errors.New("boom"), func(context.Context) error {
			return os.WriteFile(path, old, 0o600)
		})
		if o != OutcomeCompensated || err != nil {
			t.Fatalf("%v %v", o, err)
		}
		if !bytes.Equal(mustRead(t, path), old) {
			t.Fatal("not old")
		}
	})
	t.Run("restored", func(t *testing.T) {
		path, id, old := target(t, 32768)
		j := openJ(t, t.TempDir())
		m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range testRanges {
			applyRange(path, r)
		}
		o, err := m.Undo(ctx, errors.New("boom"), func(context.Context) error { return errors.New("no way back") })
		if o != OutcomeRolledBack || err != nil {
			t.Fatalf("%v %v", o, err)
		}
		if !bytes.Equal(mustRead(t, path), old) {
			t.Fatal("restore is not byte-identical")
		}
		e, _ := j.Entry(m.ID())
		if e.Outcome.State() != "old" || !strings.Contains(e.Error, "no way back") {
			t.Fatalf("entry %+v", e)
		}
	})
	t.Run("lockdown", func(t *testing.T) {
		dir := t.TempDir()
		path, id, _ := target(t, 32768)
		failWrites := func(p string, flag int) (Device, error) {
			if flag&(os.O_RDWR|os.O_WRONLY) != 0 {
				return nil, fs.ErrPermission
			}
			return openDevice(p, flag)
		}
		j := openJ(t, dir, WithDeviceOpener(failWrites))
		m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges})
		if err != nil {
			t.Fatal(err)
		}
		applyRange(path, testRanges[0])
		o, err := m.Undo(ctx, errors.New("boom"), nil)
		if o != OutcomeLockedDown || !errors.Is(err, ErrLockedDown) {
			t.Fatalf("%v %v", o, err)
		}
		var lde *LockedDownError
		if _, err := j.Begin(ctx, Intent{Op: "x", Target: id}); !errors.As(err, &lde) || lde.Lockdown.MutationID != m.ID() {
			t.Fatalf("Begin on locked target: %v", err)
		}
		j.Close()
		// Lock-down is persisted: a new process refuses too, until Clear.
		j2 := openJ(t, dir)
		if _, err := j2.Begin(ctx, Intent{Op: "x", Target: id}); !errors.Is(err, ErrLockedDown) {
			t.Fatalf("after reopen: %v", err)
		}
		if err := j2.Clear(ctx, id, ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Clear without reason: %v", err)
		}
		if err := j2.Clear(ctx, id, "disk checked by hand"); err != nil {
			t.Fatal(err)
		}
		if err := j2.Clear(ctx, id, "again"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second Clear: %v", err)
		}
		m2, err := j2.Begin(ctx, Intent{Op: "x", Target: id})
		if err != nil {
			t.Fatalf("after Clear: %v", err)
		}
		m2.Cancel(ctx, nil)
		j2.Close()
		j3 := openJ(t, dir)
		if ls := j3.Lockdowns(); len(ls) != 0 {
			t.Fatalf("cleared lock-down came back: %+v", ls)
		}
	})
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, id, _ := target(t, 32768)
	j := openJ(t, dir, WithRetention(2))
	var ids []string
	for i := 0; i < 5; i++ {
		m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges[:1]})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID())
		if err := m.Done(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "images"))
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	want := []string{ids[3], ids[4]}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

func TestConcurrentMutationsOnDifferentTargets(t *testing.T) {
	ctx := context.Background()
	j := openJ(t, t.TempDir())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		_, id, _ := target(t, 32768)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges})
			if err != nil {
				errs <- err
				return
			}
			if err := m.Step(ctx, "a", ""); err != nil {
				errs <- err
			}
			if err := m.Done(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(j.Entries()); n != 8 {
		t.Fatalf("%d entries", n)
	}
}

func TestOverrideJournaled(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, id, _ := target(t, 8192)
	j := openJ(t, dir)
	if err := j.RecordOverride(ctx, id, nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := j.RecordOverride(ctx, id, []Override{{Code: CodeNotEmpty, Reason: "re-format of a scratch disk", By: "ops"}}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	data := mustRead(t, filepath.Join(dir, JournalFile))
	if !bytes.Contains(data, []byte(`"code":"not_empty"`)) || !bytes.Contains(data, []byte("scratch disk")) {
		t.Fatalf("override not in journal: %q", data)
	}
}

func TestRestoreByHand(t *testing.T) {
	ctx := context.Background()
	path, id, old := target(t, 32768)
	j := openJ(t, t.TempDir())
	if err := j.Restore(ctx, path, nil); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: testRanges})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(path, 3)
	m.Done(ctx)
	if err := j.Restore(ctx, path, m.Images()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustRead(t, path), old) {
		t.Fatal("not byte-identical")
	}
	if _, err := os.Stat(j.ImagePath(m.Images()[0])); err != nil {
		t.Fatal(err)
	}
}

func TestUndoCancelledIsLeftForRecovery(t *testing.T) {
	path, id, old := target(t, 32768)
	j := openJ(t, t.TempDir())
	m, err := j.Begin(context.Background(), Intent{Op: "x", Target: id, Ranges: testRanges})
	if err != nil {
		t.Fatal(err)
	}
	writeAll(path, 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o, err := m.Undo(ctx, errors.New("boom"), nil)
	if o != "" || !errors.Is(err, context.Canceled) || errors.Is(err, ErrLockedDown) {
		t.Fatalf("%q %v", o, err)
	}
	if len(j.Lockdowns()) != 0 || len(j.Interrupted()) != 1 {
		t.Fatal("cancelled undo locked down or vanished")
	}
	res, err := j.Recover(context.Background())
	if err != nil || res[0].Outcome != OutcomeRolledBack || !bytes.Equal(mustRead(t, path), old) {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestSameOffsetRangesShareOneImage(t *testing.T) {
	ctx := context.Background()
	path, id, old := target(t, 32768)
	j := openJ(t, t.TempDir())
	rs := []Range{{0, 512}, {0, 1024}, {512, 512}, {4096, 100}}
	p, err := j.Plan(Intent{Op: "x", Target: id, Ranges: rs})
	if err != nil || len(p.Images) != 3 {
		t.Fatalf("plan %+v %v", p, err)
	}
	m, err := j.Begin(ctx, Intent{Op: "x", Target: id, Ranges: rs})
	if err != nil {
		t.Fatal(err)
	}
	if im := m.Images(); len(im) != 3 || im[0].Length != 1024 {
		t.Fatalf("images %+v", im)
	}
	writeAll(path, 3)
	if o, err := m.Undo(ctx, nil, nil); o != OutcomeRolledBack || err != nil {
		t.Fatal(o, err)
	}
	// Only the bytes the images cover are restored; writeAll touched more.
	got := mustRead(t, path)
	if !bytes.Equal(got[:1024], old[:1024]) || !bytes.Equal(got[4096:4196], old[4096:4196]) {
		t.Fatal("overlapping images did not restore the old bytes")
	}
}

func TestReadJournalSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, id, _ := target(t, 32768)
	mid := interruptedAfter(t, dir, path, id, 1)
	j := openJ(t, dir)
	j.LockDown(ctx, Identity{Path: "/dev/sdz", Serial: "Z"}, "bad disk")
	// Torn tail: a snapshot ignores it and leaves the file alone.
	f, _ := os.OpenFile(filepath.Join(dir, JournalFile), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("EWAL\x05"))
	f.Close()
	s, err := ReadJournal(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if in := s.Interrupted(); len(in) != 1 || in[0].ID != mid || len(s.Lockdowns) != 1 || s.TornBytes != 5 {
		t.Fatalf("snapshot %+v", s)
	}
	if fi, _ := os.Stat(filepath.Join(dir, JournalFile)); fi.Size() == 0 {
		t.Fatal("snapshot changed the journal")
	}
	if s, err := ReadJournal(ctx, t.TempDir()); err != nil || len(s.Entries) != 0 {
		t.Fatalf("missing journal: %+v %v", s, err)
	}
	// A state directory that does not exist (a typo) hides every
	// lock-down: it is an error, not an empty journal.
	if _, err := ReadJournal(ctx, filepath.Join(t.TempDir(), "typo")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing state dir: %v", err)
	}
	if !id.SameTarget(Identity{Path: "/elsewhere", Major: id.Major, Minor: id.Minor, Inode: id.Inode}) {
		t.Fatal("same inode is the same target")
	}
}
