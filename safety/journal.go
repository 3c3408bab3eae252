package safety

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"golang.org/x/sys/unix"
)

// DefaultStateDir is where the journal lives unless WithStateDir says otherwise.
const DefaultStateDir = "/var/lib/eos-storage"

// JournalFile is the journal's file name inside the state directory.
const JournalFile = "journal.wal"

// lockFile is flocked by the process that has the journal open.
const lockFile = "journal.lock"

// DefaultRetention is how many finished mutations keep their before-images.
const DefaultRetention = 32

// Journal is the write-ahead journal of one state directory. Only one
// process may have a state directory open (it is flocked); within the process
// a Journal is safe for concurrent use.
type Journal struct {
	dir     string
	root    sysfs.Root // where recovery finds a target's sysfs entry and whole disk
	fs      FS
	open    DeviceOpener
	ident   Identifier
	log     *slog.Logger
	retain  int
	rollFwd map[string]RollForward
	rollBck map[string]RollBack
	now     func() time.Time

	mu       sync.Mutex
	f        File
	lock     *os.File
	seq      uint64
	broken   error
	closed   bool
	entries  map[string]*Entry
	order    []string // mutation ids in intent order
	inflight map[string]*Mutation
	locks    []Lockdown // active lock-downs
	torn     int64      // bytes of torn tail dropped on open
	size     int64      // journal bytes at open
}

// Identifier reports the identity of whatever is at path now; recovery uses
// it to refuse when a different disk has taken the name.
type Identifier func(ctx context.Context, path string) (Identity, error)

// RollForward finishes an interrupted mutation of one op kind. It must be
// idempotent (it may run again after a crash during recovery). Returning an
// error (wrap ErrCannotFinish when it is a decision, not a failure) makes
// recovery roll back with the before-images instead.
type RollForward func(ctx context.Context, e Entry) error

// RollBack undoes an interrupted mutation of one op kind by the operation's
// own means, for writes the before-images cannot cover: mke2fs writes inode
// tables across the whole device, and its undo file (e2undo) restores them.
// Recovery runs it before restoring the before-images (which follow in any
// case); when it fails, the target is locked down after the images are
// restored, since the images alone do not make it old. It must be
// idempotent, and return nil when the mutation never got as far as writing
// what it undoes.
type RollBack func(ctx context.Context, e Entry) error

// Option configures OpenJournal. Options are validated once, at open.
type Option func(*journalConfig) error

type journalConfig struct {
	dir       string
	fs        FS
	open      DeviceOpener
	ident     Identifier
	log       *slog.Logger
	retain    int
	rollFwd   map[string]RollForward
	rollBck   map[string]RollBack
	now       func() time.Time
	compactAt int64
	root      sysfs.Root
}

// WithStateDir sets the state directory (default DefaultStateDir).
func WithStateDir(dir string) Option {
	return func(c *journalConfig) error {
		if dir == "" {
			return fmt.Errorf("%w: empty state directory", ErrInvalid)
		}
		c.dir = dir
		return nil
	}
}

// WithLogger sets the logger; nil discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *journalConfig) error { c.log = l; return nil }
}

// WithFS replaces the file system the journal writes its state through
// (fault injection in tests).
func WithFS(fs FS) Option {
	return func(c *journalConfig) error {
		if fs == nil {
			return fmt.Errorf("%w: nil FS", ErrInvalid)
		}
		c.fs = fs
		return nil
	}
}

// WithDeviceOpener replaces how targets are opened for before-images and
// restores.
func WithDeviceOpener(o DeviceOpener) Option {
	return func(c *journalConfig) error {
		if o == nil {
			return fmt.Errorf("%w: nil DeviceOpener", ErrInvalid)
		}
		c.open = o
		return nil
	}
}

// WithIdentifier replaces how recovery identifies the device at a path now
// (default IdentityOf, on the live system or WithSysRoot's).
func WithIdentifier(f Identifier) Option {
	return func(c *journalConfig) error {
		if f == nil {
			return fmt.Errorf("%w: nil Identifier", ErrInvalid)
		}
		c.ident = f
		return nil
	}
}

// WithSysRoot reads /sys and /dev under dir for recovery (the default
// identifier and the whole-disk lock), as WithRoot does for preflight;
// "" or "/" is the live system.
func WithSysRoot(dir string) Option {
	return func(c *journalConfig) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		c.root = r
		return nil
	}
}

// WithRetention keeps the before-images of the newest n finished mutations
// (default DefaultRetention). Images of unfinished mutations are never pruned.
func WithRetention(n int) Option {
	return func(c *journalConfig) error {
		if n < 0 {
			return fmt.Errorf("%w: negative retention %d", ErrInvalid, n)
		}
		c.retain = n
		return nil
	}
}

// WithRollForward registers how recovery finishes an interrupted mutation of
// op kind op. Without one, recovery rolls that kind back.
func WithRollForward(op string, f RollForward) Option {
	return func(c *journalConfig) error {
		if op == "" || f == nil {
			return fmt.Errorf("%w: roll-forward needs an op and a func", ErrInvalid)
		}
		if _, dup := c.rollFwd[op]; dup {
			return fmt.Errorf("%w: two roll-forward funcs for op %q", ErrInvalid, op)
		}
		c.rollFwd[op] = f
		return nil
	}
}

// WithRollBack registers how recovery undoes an interrupted mutation of op
// kind op by the operation's own means, before its before-images are
// restored.
func WithRollBack(op string, f RollBack) Option {
	return func(c *journalConfig) error {
		if op == "" || f == nil {
			return fmt.Errorf("%w: roll-back needs an op and a func", ErrInvalid)
		}
		if _, dup := c.rollBck[op]; dup {
			return fmt.Errorf("%w: two roll-back funcs for op %q", ErrInvalid, op)
		}
		c.rollBck[op] = f
		return nil
	}
}

// WithClock sets the time source of record timestamps (tests).
func WithClock(now func() time.Time) Option {
	return func(c *journalConfig) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalid)
		}
		c.now = now
		return nil
	}
}

// OpenJournal opens (creating if needed) the journal in the state directory,
// replays it, drops a torn last record, and reports interrupted mutations
// through Interrupted. It does not recover them: call Recover.
func OpenJournal(ctx context.Context, opts ...Option) (*Journal, error) {
	c := journalConfig{dir: DefaultStateDir, fs: OSFS{}, open: openDevice, retain: DefaultRetention,
		rollFwd: map[string]RollForward{}, rollBck: map[string]RollBack{}, now: time.Now, compactAt: DefaultCompactAt}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.ident == nil {
		root := c.root
		c.ident = func(ctx context.Context, path string) (Identity, error) {
			return identityAt(ctx, root, path, openDevice)
		}
	}
	j := &Journal{dir: c.dir, root: c.root, fs: c.fs, open: c.open, ident: c.ident, log: c.log, retain: c.retain,
		rollFwd: c.rollFwd, rollBck: c.rollBck, now: c.now, entries: map[string]*Entry{}, inflight: map[string]*Mutation{}}
	if err := mkdirDurable(c.fs, c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("safety: state dir: %w", err)
	}
	// The state-dir lock is a real flock whatever FS is in use: it guards
	// against a second process, which no fake file system can.
	lk, err := os.OpenFile(filepath.Join(c.dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("safety: journal lock: %w", err)
	}
	if err := unix.Flock(int(lk.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lk.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: journal %s is open in another process", ErrBusy, c.dir)
		}
		return nil, fmt.Errorf("safety: journal lock: %w", os.NewSyscallError("flock", err))
	}
	j.lock = lk
	if err := j.load(); err != nil {
		j.f = closeQuiet(j.f)
		lk.Close()
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if c.compactAt > 0 && j.size > c.compactAt {
		if _, err := j.compactLocked(); err != nil {
			j.log.Warn("safety: journal compaction failed; the journal stays as it was", "err", err)
		}
	}
	j.pruneImagesLocked()
	return j, nil
}

func closeQuiet(f File) File {
	if f != nil {
		f.Close()
	}
	return nil
}

// load reads the journal file, truncates a torn tail and rebuilds the state.
func (j *Journal) load() error {
	path := filepath.Join(j.dir, JournalFile)
	f, err := j.fs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("safety: open journal: %w", err)
	}
	j.f = f
	// The file may have just been created: make its directory entry durable
	// before anything is appended to it.
	if err := j.fs.SyncDir(j.dir); err != nil {
		return fmt.Errorf("safety: sync state dir: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("safety: read journal: %w", err)
	}
	recs, end, err := decodeJournal(data)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	if end < len(data) {
		j.torn = int64(len(data) - end)
		j.log.Warn("safety: dropping torn last journal record", "bytes", j.torn, "journal", path)
		if err := f.Truncate(int64(end)); err != nil {
			return fmt.Errorf("safety: truncate torn journal tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("safety: sync journal: %w", err)
		}
	}
	j.size = int64(end)
	// A compaction that crashed before its rename leaves a temporary file.
	j.fs.RemoveAll(filepath.Join(j.dir, JournalFile+".tmp"))
	if _, err := f.Seek(int64(end), io.SeekStart); err != nil {
		return fmt.Errorf("safety: seek journal: %w", err)
	}
	for i := range recs {
		j.apply(&recs[i])
	}
	return nil
}

// apply folds one record into the in-memory state.
func (j *Journal) apply(r *record) {
	j.seq = r.Seq
	switch r.Kind {
	case kindIntent:
		if r.Intent == nil || j.entries[r.ID] != nil {
			return
		}
		e := &Entry{ID: r.ID, Intent: *r.Intent, Images: r.Images, Started: r.Time}
		j.entries[r.ID] = e
		j.order = append(j.order, r.ID)
	case kindStep, kindRecovery:
		e := j.entries[r.ID]
		if e == nil {
			return
		}
		s := StepRecord{Name: r.Step, Detail: r.Detail, Error: r.Error, Time: r.Time, Recovery: r.Kind == kindRecovery}
		e.Steps = append(e.Steps, s)
		if r.Kind == kindRecovery && r.Step == "start" {
			e.Recoveries++
		}
	case kindOutcome:
		e := j.entries[r.ID]
		if e == nil || e.Outcome != "" {
			return
		}
		e.Outcome, e.Error, e.Ended, e.endSeq = r.Outcome, r.Error, r.Time, r.Seq
	case kindLockdown:
		if r.Lockdown != nil {
			j.locks = append(j.locks, *r.Lockdown)
		}
	case kindClear:
		if r.Target == nil {
			return
		}
		kept := j.locks[:0]
		for _, l := range j.locks {
			if !l.Target.sameTarget(*r.Target) {
				kept = append(kept, l)
			}
		}
		j.locks = kept
	case kindOverride:
		// Overrides are an audit trail: nothing to fold.
	}
}

// appendRecord writes one record and fsyncs it. A failed write or sync
// breaks the journal: the kernel may have dropped the dirty pages, so
// nothing later could be trusted to be durable (fsyncgate).
func (j *Journal) appendLocked(r *record) error {
	if j.closed {
		return ErrClosed
	}
	if j.broken != nil {
		return fmt.Errorf("%w: %v", ErrJournalBroken, j.broken)
	}
	r.Seq = j.seq + 1
	if r.Time.IsZero() {
		r.Time = j.now().UTC()
	}
	buf, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(buf); err != nil {
		j.broken = err
		return fmt.Errorf("%w: write: %v", ErrJournalBroken, err)
	}
	if err := j.f.Sync(); err != nil {
		j.broken = err
		return fmt.Errorf("%w: sync: %v", ErrJournalBroken, err)
	}
	j.seq = r.Seq
	j.apply(r)
	return nil
}

func (j *Journal) append(r *record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.appendLocked(r)
}

// Close releases the journal and its state-directory lock. Mutations still
// in flight stay interrupted in the journal.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	err := j.f.Close()
	if lerr := j.lock.Close(); err == nil {
		err = lerr
	}
	return err
}

// Dir is the state directory.
func (j *Journal) Dir() string { return j.dir }

// TornBytes is how many bytes of a torn last record were dropped at open.
func (j *Journal) TornBytes() int64 { return j.torn }

// Entries returns every mutation the journal knows, oldest first.
func (j *Journal) Entries() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Entry, 0, len(j.order))
	for _, id := range j.order {
		out = append(out, j.entries[id].clone())
	}
	return out
}

// Entry returns one mutation by id.
func (j *Journal) Entry(id string) (Entry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.entries[id]
	if e == nil {
		return Entry{}, fmt.Errorf("%w: mutation %q", ErrNotFound, id)
	}
	return e.clone(), nil
}

// Interrupted returns the mutations that have an intent and no outcome and
// are not running in this process: what a crash left behind.
func (j *Journal) Interrupted() []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Entry
	for _, id := range j.order {
		e := j.entries[id]
		if _, running := j.inflight[id]; e.Outcome == "" && !running {
			out = append(out, e.clone())
		}
	}
	return out
}

func newID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// sortedLocks is used by tests and Lockdowns for a stable order.
func sortedLocks(ls []Lockdown) []Lockdown {
	out := append([]Lockdown(nil), ls...)
	sort.SliceStable(out, func(a, b int) bool { return out[a].Time.Before(out[b].Time) })
	return out
}
