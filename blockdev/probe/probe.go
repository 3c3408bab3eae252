package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Sentinel errors. "Nothing found" is never an error: an empty Result is the
// answer for a device that carries no known signature.
var (
	// ErrRead marks an I/O failure while reading the device or image.
	ErrRead = errors.New("probe: read failed")
	// ErrCorrupt marks a structure whose magic matched but whose content is
	// inconsistent in a way that makes the answer unreliable.
	ErrCorrupt = errors.New("probe: corrupt structure")
	// ErrInvalidOption marks an option value rejected before any I/O.
	ErrInvalidOption = errors.New("probe: invalid option")
)

// ReadError is an I/O failure at a byte range; it matches ErrRead with errors.Is
// and unwraps to the underlying error.
type ReadError struct {
	Off int64
	Len int
	Err error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("probe: read %d bytes at %d: %v", e.Len, e.Off, e.Err)
}

// Is makes errors.Is(err, ErrRead) true.
func (e *ReadError) Is(target error) bool { return target == ErrRead }

// Unwrap returns the underlying I/O error.
func (e *ReadError) Unwrap() error { return e.Err }

// Option configures a probe. Options are validated once, before any I/O.
type Option func(*config) error

type config struct {
	log        *slog.Logger
	sectorSize int64
	parent     *parentInfo
}

type parentInfo struct {
	diskPath    string
	diskMajMin  string
	startSector uint64
	sizeSectors uint64
}

// WithParent says the probed device is a partition of diskPath (maj:min
// diskMajMin) starting at startSector and spanning sizeSectors 512-byte
// sectors. The probe reads the parent's partition table to fill the
// PART_ENTRY_* fields, as blkid -p does for a partition.
func WithParent(diskPath, diskMajMin string, startSector, sizeSectors uint64) Option {
	return func(c *config) error {
		if diskPath == "" {
			return fmt.Errorf("%w: empty parent disk path", ErrInvalidOption)
		}
		if sizeSectors == 0 {
			return fmt.Errorf("%w: zero partition size", ErrInvalidOption)
		}
		c.parent = &parentInfo{diskPath, diskMajMin, startSector, sizeSectors}
		return nil
	}
}

// WithLogger sets the logger for debug messages; nil discards them.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

// WithSectorSize sets the logical sector size used to locate partition
// tables (512 or 4096). Path asks the kernel for block devices; image files
// and ReaderAt default to 512, as blkid does for regular files.
func WithSectorSize(n int) Option {
	return func(c *config) error {
		if n < 512 || n > 65536 || n&(n-1) != 0 {
			return fmt.Errorf("%w: sector size %d", ErrInvalidOption, n)
		}
		c.sectorSize = int64(n)
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Path probes a device node or an image file.
func Path(ctx context.Context, path string, opts ...Option) (*Result, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, &ReadError{Off: 0, Len: 0, Err: err}
	}
	return probe(ctx, c, f, size)
}

// ReaderAt probes size bytes of r, an image or an already-open device.
func ReaderAt(ctx context.Context, r io.ReaderAt, size int64, opts ...Option) (*Result, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size %d", ErrInvalidOption, size)
	}
	return probe(ctx, c, r, size)
}

func probe(ctx context.Context, c *config, r io.ReaderAt, size int64) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &Result{}, nil
}
