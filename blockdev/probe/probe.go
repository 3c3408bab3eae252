package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/cdrom"
	"golang.org/x/sys/unix"
)

// Sentinel errors. "Nothing found" is never an error: an empty Result is the
// answer for a device that carries no known signature.
var (
	// ErrRead marks an I/O failure while reading the device or image.
	ErrRead = errors.New("probe: read failed")
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
	// sectorSizeSet records WithSectorSize, which then also applies to the
	// parent disk of WithParent (an image file cannot tell its own).
	sectorSizeSet bool
	parent        *parentInfo
	// cdrom: Path found an optical drive (blkid's BLKID_FL_CDROM_DEV).
	cdrom bool
}

type parentInfo struct {
	table       *Table // when set, used instead of reading diskPath
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
		c.parent = &parentInfo{diskPath: diskPath, diskMajMin: diskMajMin, startSector: startSector, sizeSectors: sizeSectors}
		return nil
	}
}

// WithParentTable is WithParent with the parent's table already read (by
// TablePath or ReadTable), so probing the partitions of one disk reads its
// table once instead of once per partition. A nil table means the parent
// has none: no PART_ENTRY_* values.
func WithParentTable(t *Table, diskMajMin string, startSector, sizeSectors uint64) Option {
	return func(c *config) error {
		if sizeSectors == 0 {
			return fmt.Errorf("%w: zero partition size", ErrInvalidOption)
		}
		if t == nil {
			t = &Table{}
		}
		c.parent = &parentInfo{table: t, diskMajMin: diskMajMin, startSector: startSector, sizeSectors: sizeSectors}
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
// tables (512 or 4096), on the probed device and on the parent named by
// WithParent. Without it, Path asks the kernel for block devices, and image
// files and ReaderAt use 512, as blkid does for regular files.
func WithSectorSize(n int) Option {
	return func(c *config) error {
		if n < 512 || n > 65536 || n&(n-1) != 0 {
			return fmt.Errorf("%w: sector size %d", ErrInvalidOption, n)
		}
		c.sectorSize = int64(n)
		c.sectorSizeSet = true
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

// Path probes a device node or an image file. For a block device the
// kernel's logical sector size locates partition tables (unless
// WithSectorSize says otherwise); an image file is read as 512-byte sectors.
func Path(ctx context.Context, path string, opts ...Option) (*Result, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, size, ssz, err := openDevice(path)
	if errors.Is(err, unix.ENOMEDIUM) {
		return &Result{}, nil // an empty CD or card reader holds nothing to probe
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if c.sectorSize == 0 {
		c.sectorSize = ssz
	}
	c.cdrom = isCDROM(f)
	r, err := probe(ctx, c, f, size)
	if errors.Is(err, unix.ENOMEDIUM) {
		return &Result{}, nil
	}
	return r, err
}

// openDevice opens path read-only and returns its size and logical sector
// size (512 for anything that is not a block device). O_NONBLOCK lets a
// removable drive without a medium open at all (as blkid opens them); the
// empty drive then reports ENOMEDIUM.
func openDevice(path string) (*os.File, int64, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, 0, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, 0, &ReadError{Err: err}
	}
	ssz := int64(512)
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0 {
		if n, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKSSZGET); err == nil && n >= 512 && n&(n-1) == 0 {
			ssz = int64(n)
		}
	}
	return f, size, ssz, nil
}

// isCDROM asks the drive, as blkid does, whether it is optical; anything
// but a block device is not.
func isCDROM(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
		return false
	}
	return cdrom.IsOptical(int(f.Fd()))
}

// ReaderAt probes size bytes of r, an image or an already-open device.
func ReaderAt(ctx context.Context, r io.ReaderAt, size int64, opts ...Option) (*Result, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%w: nil reader", ErrInvalidOption)
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size %d", ErrInvalidOption, size)
	}
	return probe(ctx, c, r, size)
}

// ReadTable reads only the partition table of r (size bytes, sectorSize
// bytes per logical sector, 0 meaning 512). It returns nil and no error when
// there is none.
func ReadTable(ctx context.Context, r io.ReaderAt, size int64, sectorSize int) (*Table, error) {
	if sectorSize == 0 {
		sectorSize = 512
	}
	if sectorSize < 512 || sectorSize&(sectorSize-1) != 0 {
		return nil, fmt.Errorf("%w: sector size %d", ErrInvalidOption, sectorSize)
	}
	s, err := newSource(ctx, r, size)
	if err != nil {
		return nil, err
	}
	defer s.release()
	return probeTable(s, int64(sectorSize))
}

// TablePath reads only the partition table of a device node or image file,
// with the kernel's logical sector size for a block device (WithSectorSize
// overrides it). It returns nil and no error when there is none.
func TablePath(ctx context.Context, path string, opts ...Option) (*Table, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, size, ssz, err := openDevice(path)
	if errors.Is(err, unix.ENOMEDIUM) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if c.sectorSizeSet {
		ssz = c.sectorSize
	}
	return ReadTable(ctx, f, size, int(ssz))
}

func probe(ctx context.Context, c *config, r io.ReaderAt, size int64) (*Result, error) {
	if c.sectorSize == 0 {
		c.sectorSize = 512
	}
	s, err := newSource(ctx, r, size)
	if err != nil {
		return nil, err
	}
	defer s.release()
	s.wholeDisk = c.parent == nil
	s.cdrom = c.cdrom
	s.sectorSize = c.sectorSize
	res := &Result{}
	if err := probeSuperblocks(s, res); err != nil {
		return nil, err
	}
	// blkid ignores a partition table under a RAID-like member (a RAID1
	// leg shows its array's table), and so do we, with blkid's one
	// exception: an LVM2 label marks its first 8 KiB as a "wiper" area,
	// so tables are still read under it, and a dos table, whose entries
	// lie in that area, is taken as written after the label and replaces
	// it (the GPT prober's wiper check in 2.38 never overlaps, so a GPT
	// is reported beside the PV).
	if res.Usage != UsageRaid || res.Type == "LVM2_member" {
		t, err := probeTableType(s, c.sectorSize)
		if err != nil {
			return nil, err
		}
		if t != nil {
			if res.Type == "LVM2_member" && t.Type == "dos" {
				*res = Result{}
			}
			res.PTType, res.PTUUID = t.Type, t.ID
		}
	}
	if c.parent != nil {
		if err := fillPartEntry(ctx, c, res); err != nil {
			return nil, err
		}
	}
	c.log.Debug("probe", "type", res.Type, "pttype", res.PTType, "ambiguous", res.Ambiguous, "extra_reads", s.extra)
	return res, nil
}

// fillPartEntry reads the parent disk's table and copies the entry that
// starts (and ends) where this partition does.
func fillPartEntry(ctx context.Context, c *config, res *Result) error {
	p := c.parent
	t := p.table
	if t == nil {
		var opts []Option
		if c.sectorSizeSet {
			opts = append(opts, WithSectorSize(int(c.sectorSize)))
		}
		var err error
		t, err = TablePath(ctx, p.diskPath, opts...)
		if err != nil {
			return fmt.Errorf("probe: parent %s: %w", p.diskPath, err)
		}
	}
	if t == nil || t.Type == "PMBR" {
		return nil
	}
	var match *Entry
	for i := range t.Entries {
		e := &t.Entries[i]
		if e.Start == p.startSector && e.Size == p.sizeSectors {
			match = e
			break
		}
		if e.Start == p.startSector && match == nil {
			match = e // the kernel shows an extended partition as 1 KiB
		}
	}
	if match == nil {
		return nil
	}
	res.HasPartEntry = true
	res.PartEntryScheme = t.Type
	if match.Scheme != "" {
		res.PartEntryScheme = match.Scheme // a nested table's (freebsd, solaris...) or a bare bsd label's
	}
	res.PartEntryUUID = match.UUID
	res.PartEntryName = match.Name
	res.PartEntryType = match.Type
	res.PartEntryNumber = match.Number
	res.PartEntryOffset = match.Start
	res.PartEntrySize = match.Size
	res.PartEntryDisk = p.diskMajMin
	res.PartEntryFlags = match.Flags
	return nil
}
