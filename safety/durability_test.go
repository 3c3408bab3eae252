package safety

import (
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

// durFS is the real file system with a model of what a crash would keep:
// a created or renamed entry survives only once its directory is fsynced,
// written bytes only once their file is. Every fsync of the journal file
// checks that everything done before it is durable: a record that survives
// a crash must never name an image file or a directory that does not.
type durFS struct {
	OSFS
	journal string

	mu         sync.Mutex
	pending    map[string]bool // entries whose directory was not fsynced since
	dirty      map[string]bool // files written since their last fsync
	violations []string
}

func newDurFS(dir string) *durFS {
	return &durFS{journal: filepath.Join(dir, JournalFile), pending: map[string]bool{}, dirty: map[string]bool{}}
}

func (d *durFS) MkdirAll(dir string, perm fs.FileMode) error {
	var missing []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	if err := d.OSFS.MkdirAll(dir, perm); err != nil {
		return err
	}
	d.mu.Lock()
	for _, p := range missing {
		d.pending[p] = true
	}
	d.mu.Unlock()
	return nil
}

func (d *durFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	_, statErr := os.Stat(name)
	f, err := d.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if flag&os.O_CREATE != 0 && errors.Is(statErr, fs.ErrNotExist) {
		d.pending[name] = true
	}
	if flag&os.O_TRUNC != 0 {
		d.dirty[name] = true
	}
	d.mu.Unlock()
	return &durFile{File: f, fs: d, name: name}, nil
}

func (d *durFS) SyncDir(dir string) error {
	if err := d.OSFS.SyncDir(dir); err != nil {
		return err
	}
	d.mu.Lock()
	for p := range d.pending {
		if filepath.Dir(p) == filepath.Clean(dir) {
			delete(d.pending, p)
		}
	}
	d.mu.Unlock()
	return nil
}

func (d *durFS) Rename(from, to string) error {
	if err := d.OSFS.Rename(from, to); err != nil {
		return err
	}
	d.mu.Lock()
	delete(d.pending, from)
	d.pending[to] = true
	if d.dirty[from] {
		d.dirty[to] = true
	}
	delete(d.dirty, from)
	d.mu.Unlock()
	return nil
}

func (d *durFS) RemoveAll(path string) error {
	d.mu.Lock()
	for _, m := range []map[string]bool{d.pending, d.dirty} {
		for p := range m {
			if p == path || strings.HasPrefix(p, path+"/") {
				delete(m, p)
			}
		}
	}
	d.mu.Unlock()
	return d.OSFS.RemoveAll(path)
}

// synced is called after a file's fsync; for the journal it checks the model.
func (d *durFS) synced(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.dirty, name)
	if name != d.journal {
		return
	}
	var bad []string
	for p := range d.pending {
		bad = append(bad, "entry "+p)
	}
	for p := range d.dirty {
		bad = append(bad, "contents of "+p)
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		d.violations = append(d.violations, fmt.Sprintf("journal record synced while not durable: %s", strings.Join(bad, ", ")))
	}
}

type durFile struct {
	File
	fs   *durFS
	name string
}

func (f *durFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	f.fs.dirty[f.name] = true
	f.fs.mu.Unlock()
	return f.File.Write(p)
}

func (f *durFile) Truncate(n int64) error {
	f.fs.mu.Lock()
	f.fs.dirty[f.name] = true
	f.fs.mu.Unlock()
	return f.File.Truncate(n)
}

func (f *durFile) Sync() error {
	if err := f.File.Sync(); err != nil {
		return err
	}
	f.fs.synced(f.name)
	return nil
}

// TestJournalDurabilityOrder runs a journal's whole life in a state
// directory that does not exist yet (two levels deep): open, a mutation
// with before-images, steps, done, compaction, and a second mutation. Every
// record must be fsynced only after what it refers to is durable: the
// state directory's own entry in its parent, the images directory, every
// image file and its entry.
func TestJournalDurabilityOrder(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "var", "eos")
	dfs := newDurFS(dir)
	path, id, _ := target(t, 32768)
	j, err := OpenJournal(ctx, WithStateDir(dir), WithFS(dfs))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	for i := 0; i < 2; i++ {
		m, err := j.Begin(ctx, Intent{Op: "test.write", Target: id, Ranges: testRanges})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range testRanges {
			if err := applyRange(path, r); err != nil {
				t.Fatal(err)
			}
			if err := m.Step(ctx, "range", ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := m.Done(ctx); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := j.Compact(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, v := range dfs.violations {
		t.Error(v)
	}
}
