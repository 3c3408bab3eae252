package perf

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// Sample is one reading of the kernel's counters. Time carries Go's
// monotonic clock reading, so Sub between two samples is the measured
// interval, immune to wall-clock steps.
type Sample struct {
	Time  time.Time
	Disks []DiskStat
}

// Find returns the device named name, or nil.
func (s *Sample) Find(name string) *DiskStat {
	for i := range s.Disks {
		if s.Disks[i].Name == name {
			return &s.Disks[i]
		}
	}
	return nil
}

// StatReader re-reads one statistics file through a descriptor kept open
// between samples: each Read is a single pread at offset 0 into a reused
// buffer, parsed in place, so steady-state sampling costs one syscall and no
// allocation. Where pread fails on the file (a filesystem without positional
// reads) it falls back to reopening the file for every read.
//
// A StatReader is not safe for concurrent use.
type StatReader struct {
	path   string
	device string // "" for /proc/diskstats; the device name for a sysfs stat file
	fd     int
	reopen bool // positional reads failed once: open per read
	buf    []byte
	closed bool

	// Set by DiskstatsCollector, which owns the Sample it passes: keep the
	// previous page (prev, with its lines) and skip lines that did not
	// change (see parseDiskstats). disks is the slice that page was parsed
	// into; a Read into any other starts over.
	reuse     bool
	prev      []byte
	prevLines []lineSpan
	lines     []lineSpan
	disks     *DiskStat
}

// OpenDiskstats opens /proc/diskstats under the root directory rootDir
// ("" or "/" for the live system; another directory holds a tree laid out
// like / with proc and sys in it).
func OpenDiskstats(rootDir string) (*StatReader, error) {
	root, err := newRoot(rootDir)
	if err != nil {
		return nil, err
	}
	return openStat(root.Proc("diskstats"), "")
}

func newRoot(dir string) (sysfs.Root, error) {
	r, err := sysfs.New(dir)
	if err != nil {
		return sysfs.Root{}, fmt.Errorf("%w: root: %w", ErrInvalidOption, err)
	}
	return r, nil
}

// OpenDeviceStat opens /sys/class/block/NAME/stat under rootDir: the
// counters of one device or partition without scanning every line of
// /proc/diskstats. The device's major:minor come from its dev attribute.
func OpenDeviceStat(rootDir, name string) (*StatReader, error) {
	if name == "" || name == "." || name == ".." || containsSlash(name) {
		return nil, optErr("device name %q", name)
	}
	root, err := newRoot(rootDir)
	if err != nil {
		return nil, err
	}
	return openStat(root.Sys("class", "block", name, "stat"), name)
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func openStat(path, device string) (*StatReader, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &StatReader{path: path, device: device, fd: fd, buf: make([]byte, 16<<10)}, nil
}

// Path is the file this reader reads.
func (r *StatReader) Path() string { return r.path }

// Close releases the descriptor. Read after Close returns ErrClosed.
func (r *StatReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.fd >= 0 {
		err := unix.Close(r.fd)
		r.fd = -1
		if err != nil {
			return os.NewSyscallError("close", err)
		}
	}
	return nil
}

// readAll returns the whole file in r.buf, growing the buffer (the only
// allocation) until the content fits with room to spare, so a short read is
// never mistaken for the end of the file.
func (r *StatReader) readAll() ([]byte, error) {
	if r.closed {
		return nil, ErrClosed
	}
	for {
		n, err := r.readOnce()
		if err != nil {
			return nil, err
		}
		if n < len(r.buf) {
			return r.buf[:n], nil
		}
		if len(r.buf) >= 64<<20 {
			return nil, fmt.Errorf("%w: %s larger than 64 MiB", ErrMalformed, r.path)
		}
		r.buf = make([]byte, 2*len(r.buf))
	}
}

func (r *StatReader) readOnce() (int, error) {
	if !r.reopen {
		n, err := preadFull(r.fd, r.buf)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, unix.ESPIPE) && !errors.Is(err, unix.EINVAL) {
			return 0, &os.PathError{Op: "pread", Path: r.path, Err: err}
		}
		r.reopen = true
		unix.Close(r.fd)
		r.fd = -1
	}
	fd, err := unix.Open(r.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: r.path, Err: err}
	}
	defer unix.Close(fd)
	n := 0
	for n < len(r.buf) {
		m, err := unix.Read(fd, r.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: r.path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// preadFull reads from offset 0 until buf is full or the file ends. procfs
// answers in one call; a regular file (fake trees) may take several.
func preadFull(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// Read takes a sample into dst, reusing dst.Disks. For a device stat file
// dst.Disks has one entry named after the device.
func (r *StatReader) Read(dst *Sample) error {
	data, err := r.readAll()
	if err != nil {
		return err
	}
	dst.Time = time.Now()
	if r.device == "" {
		if !r.reuse {
			dst.Disks, err = ParseDiskstats(data, dst.Disks)
			return err
		}
		if r.lines == nil {
			r.lines = make([]lineSpan, 0, 64)
		}
		prevLines := r.prevLines
		if len(dst.Disks) == 0 || &dst.Disks[0] != r.disks {
			prevLines = nil
		}
		dst.Disks, r.lines, err = parseDiskstats(data, r.prev, prevLines, dst.Disks, r.lines[:0])
		if err != nil {
			r.prevLines, r.disks = nil, nil
			return err
		}
		// The page just parsed is the next call's prev; the next read goes
		// into the other buffer.
		r.prev, r.buf = data[:cap(data)], r.prev[:cap(r.prev)]
		if len(r.buf) < 16<<10 {
			r.buf = make([]byte, len(r.prev))
		}
		r.prevLines, r.lines = r.lines, r.prevLines
		r.disks = nil
		if len(dst.Disks) > 0 {
			r.disks = &dst.Disks[0]
		}
		return nil
	}
	if cap(dst.Disks) == 0 {
		dst.Disks = make([]DiskStat, 1)
	}
	dst.Disks = dst.Disks[:1]
	d := &dst.Disks[0]
	if d.Name != r.device {
		*d = DiskStat{Name: r.device}
		d.Major, d.Minor = r.devNumber()
	}
	return ParseDeviceStat(data, d)
}

// devNumber reads the device's dev attribute ("MAJ:MIN"); zeros when absent.
func (r *StatReader) devNumber() (uint32, uint32) {
	dir := r.path[:len(r.path)-len("stat")]
	s, err := sysfs.ReadAttr(dir + "dev")
	if err != nil {
		return 0, 0
	}
	majS, minS, found := strings.Cut(s, ":")
	maj, err1 := strconv.ParseUint(majS, 10, 32)
	min, err2 := strconv.ParseUint(minS, 10, 32)
	if !found || err1 != nil || err2 != nil {
		return 0, 0
	}
	return uint32(maj), uint32(min)
}
