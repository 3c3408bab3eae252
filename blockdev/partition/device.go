package partition

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/blkpg"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// Device is what the table code reads and writes through. Sync must make
// every completed WriteAt durable before it returns: the crash ordering rests
// on it. *os.File satisfies it.
type Device interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
}

// Option configures Open and NewDisk.
type Option func(*config) error

type config struct {
	log        *slog.Logger
	root       sysfs.Root
	readOnly   bool
	sectorSize int
	journal    Journal
	progress   func(done int, s Step)
	lockHeld   bool
}

// WithLogger sets the logger; nil discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l != nil {
			c.log = l
		}
		return nil
	}
}

// WithRoot sets the system root used for sysfs and /proc lookups.
func WithRoot(r sysfs.Root) Option {
	return func(c *config) error { c.root = r; return nil }
}

// WithReadOnly opens the target read-only; writes fail with ErrNotSupported.
func WithReadOnly() Option {
	return func(c *config) error { c.readOnly = true; return nil }
}

// WithSectorSize sets the logical sector size of an image file (block
// devices report theirs; giving a different one for a device is an error).
func WithSectorSize(n int) Option {
	return func(c *config) error {
		switch n {
		case 512, 1024, 2048, 4096:
			c.sectorSize = n
			return nil
		}
		return fmt.Errorf("%w: sector size %d", ErrInvalidArgument, n)
	}
}

// WithJournal records before-images and intent before every write.
func WithJournal(j Journal) Option {
	return func(c *config) error {
		if j == nil {
			return fmt.Errorf("%w: nil journal", ErrInvalidArgument)
		}
		c.journal = j
		return nil
	}
}

// WithProgress calls f after each write step of Write, Repair or Apply is
// written and synced (done counts the steps finished so far).
func WithProgress(f func(done int, s Step)) Option {
	return func(c *config) error {
		if f == nil {
			return fmt.Errorf("%w: nil progress func", ErrInvalidArgument)
		}
		c.progress = f
		return nil
	}
}

// WithLockHeld says the caller already holds the whole-disk flock (safety's
// recovery does, around a roll-forward); Write and Apply then do not take it
// again, which on another file description would wait forever.
func WithLockHeld() Option {
	return func(c *config) error { c.lockHeld = true; return nil }
}

// Disk is one target: an image file or a whole-disk block device.
type Disk struct {
	dev   Device
	geo   Geometry
	file  *os.File // nil when built from a Device
	path  string
	block bool
	cfg   config
}

func buildConfig(opts []Option) (config, error) {
	c := config{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// NewDisk wraps any Device with a known geometry (tests, in-memory images).
func NewDisk(dev Device, geo Geometry, opts ...Option) (*Disk, error) {
	c, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	if dev == nil {
		return nil, fmt.Errorf("%w: nil device", ErrInvalidArgument)
	}
	if geo.PhysicalSectorSize == 0 {
		geo.PhysicalSectorSize = geo.SectorSize
	}
	if err := geo.validate(); err != nil {
		return nil, err
	}
	return &Disk{dev: dev, geo: geo, cfg: c}, nil
}

// Open opens an image file or a whole-disk block device. For a device the
// geometry comes from the kernel (BLKGETSIZE64, BLKSSZGET, BLKPBSZGET,
// BLKIOOPT); for an image from its size and WithSectorSize (512 by default).
func Open(ctx context.Context, path string, opts ...Option) (*Disk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	flag := os.O_RDWR
	if c.readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("partition: open %s: %w", path, err)
	}
	d := &Disk{dev: f, file: f, path: path, cfg: c}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.Mode()&os.ModeDevice != 0 {
		d.block = true
		fd := f.Fd()
		size, err := blkpg.Size64(fd)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("partition: %s: %w", path, err)
		}
		lss, err := blkpg.LogicalSectorSize(fd)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("partition: %s: %w", path, err)
		}
		if c.sectorSize != 0 && c.sectorSize != lss {
			f.Close()
			return nil, fmt.Errorf("%w: %s has %d-byte sectors, asked for %d", ErrInvalidArgument, path, lss, c.sectorSize)
		}
		pss, _ := blkpg.PhysicalSectorSize(fd)
		opt, _ := blkpg.OptimalIO(fd)
		d.geo = Geometry{Size: int64(size), SectorSize: lss, PhysicalSectorSize: max(pss, lss), OptimalIO: opt}
	} else {
		ss := c.sectorSize
		if ss == 0 {
			ss = 512
		}
		d.geo = Geometry{Size: fi.Size(), SectorSize: ss, PhysicalSectorSize: ss}
	}
	if err := d.geo.validate(); err != nil {
		f.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the file Open opened.
func (d *Disk) Close() error {
	if d.file == nil {
		return nil
	}
	return d.file.Close()
}

// Geometry returns what the disk reported.
func (d *Disk) Geometry() Geometry { return d.geo }

// Path is the path Open was given ("" for NewDisk).
func (d *Disk) Path() string { return d.path }

// IsBlockDevice reports whether the target is a block device (and so has a
// kernel view to keep in sync).
func (d *Disk) IsBlockDevice() bool { return d.block }

func (d *Disk) readSector(lba uint64) ([]byte, error) {
	return d.readAt(lba, 1)
}

func (d *Disk) readAt(lba, n uint64) ([]byte, error) {
	ss := uint64(d.geo.SectorSize)
	if lba >= d.geo.Sectors() || n > d.geo.Sectors()-lba {
		return nil, fmt.Errorf("%w: read of %d sectors at LBA %d past the end (%d sectors)", ErrInvalidLayout, n, lba, d.geo.Sectors())
	}
	buf := make([]byte, n*ss)
	if _, err := d.dev.ReadAt(buf, int64(lba*ss)); err != nil && err != io.EOF {
		return nil, fmt.Errorf("partition: read LBA %d: %w", lba, err)
	}
	return buf, nil
}
