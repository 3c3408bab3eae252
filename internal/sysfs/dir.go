package sysfs

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dir is an open directory whose attributes are read relative to it with
// openat(2). Reading many attributes of one device this way spares the
// kernel a walk of the whole /sys/devices/... path (and the /sys/block
// symlink) for every file, and spares Go's os.File the fstat and poller set-up
// that sysfs files do not need: one open, one read and one close per attribute.
//
// A Dir is not safe for concurrent use with Close.
type Dir struct {
	fd     int
	path   string
	listed bool // Names has read the directory: rewind before the next listing
}

// OpenDir opens path for reading attributes and listing entries.
func OpenDir(path string) (*Dir, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return &Dir{fd: fd, path: path}, nil
	}
}

// Sub opens the directory at name, relative to d.
func (d *Dir) Sub(name string) (*Dir, error) {
	for {
		fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: filepath.Join(d.path, name), Err: err}
		}
		return &Dir{fd: fd, path: filepath.Join(d.path, name)}, nil
	}
}

// Path is the directory's path as given to OpenDir.
func (d *Dir) Path() string { return d.path }

// Close releases the directory.
func (d *Dir) Close() error {
	if d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: d.path, Err: err}
	}
	return nil
}

// ReadAttr reads the attribute at name (relative, may contain '/') like the
// package-level ReadAttr: one bounded read, white space trimmed, and
// ErrAttrTooLarge for more than MaxAttrSize bytes.
func (d *Dir) ReadAttr(name string) (string, error) {
	var buf [MaxAttrSize + 1]byte
	n, err := d.read(name, buf[:])
	if err != nil {
		return "", err
	}
	if n > MaxAttrSize {
		return "", &os.PathError{Op: "read", Path: filepath.Join(d.path, name), Err: ErrAttrTooLarge}
	}
	return trimSpace(buf[:n]), nil
}

// ReadAttrRaw reads the attribute at name like ReadAttr, but keeps its
// white space: only the one newline that ends a sysfs value is dropped.
// Identity strings are fixed-width fields padded with spaces (SCSI INQUIRY
// vendor, model and revision; NVMe Identify model and serial), and a program
// that must print them as the kernel shows them (lsblk without udev does)
// needs the padding.
func (d *Dir) ReadAttrRaw(name string) (string, error) {
	var buf [MaxAttrSize + 1]byte
	n, err := d.read(name, buf[:])
	if err != nil {
		return "", err
	}
	if n > MaxAttrSize {
		return "", &os.PathError{Op: "read", Path: filepath.Join(d.path, name), Err: ErrAttrTooLarge}
	}
	return trimNewline(buf[:n]), nil
}

func (d *Dir) read(name string, buf []byte) (int, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: filepath.Join(d.path, name), Err: err}
	}
	defer unix.Close(fd)
	// sysfs hands over a whole attribute in one read; a regular file in a
	// fake tree may need more, so read until full or end of file.
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: filepath.Join(d.path, name), Err: err}
		}
		if m <= 0 {
			break
		}
		n += m
		if n < len(buf) && n < MaxAttrSize && isShortAttrRead(m) {
			break
		}
	}
	return n, nil
}

// isShortAttrRead: a read that returned less than a page ended the file
// (sysfs and small regular files alike), so no second read is spent on EOF.
func isShortAttrRead(m int) bool { return m < MaxAttrSize }

// Names lists the directory's entries (without "." and "..").
func (d *Dir) Names() ([]string, error) {
	// A directory just opened is at its start; only a second listing needs
	// the rewind (a syscall per listing otherwise, two listings per device).
	if d.listed {
		if _, err := unix.Seek(d.fd, 0, 0); err != nil {
			return nil, &os.PathError{Op: "seek", Path: d.path, Err: err}
		}
	}
	d.listed = true
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.ReadDirent(d.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, &os.PathError{Op: "readdirent", Path: d.path, Err: err}
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// Readlink reads the symbolic link at name, relative to the directory.
func (d *Dir) Readlink(name string) (string, error) {
	buf := make([]byte, 512)
	for {
		n, err := unix.Readlinkat(d.fd, name, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", &os.PathError{Op: "readlink", Path: filepath.Join(d.path, name), Err: err}
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Fstatat stats name relative to d without following a final symlink;
// the error is a *os.PathError (errors.Is(err, fs.ErrNotExist) for absence).
func (d *Dir) Fstatat(name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(d.fd, name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "fstatat", Path: filepath.Join(d.path, name), Err: err}
		}
		return nil
	}
}

// Exists reports whether name exists in the directory (without following a
// final symlink).
func (d *Dir) Exists(name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

func trimSpace(b []byte) string {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return string(b[i:j])
}

// trimNewline drops the newline that ends a sysfs value, as util-linux's
// ul_path_read_string does, and nothing else.
func trimNewline(b []byte) string {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return string(b)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// ReadFile reads a whole file such as /proc/self/mountinfo with plain
// open, read and close. os.ReadFile also fstats the file and registers it
// with the runtime's poller, three more syscalls that proc files do not
// need (and on a busy machine each one costs microseconds).
func ReadFile(path string) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// Attr is an attribute file kept open to be read again: on sysfs every read
// from offset 0 asks the kernel for the current value, at a fraction of the
// cost of opening the file anew. A read of an attribute whose device is gone
// fails with ENODEV (even when a device of the same name has appeared since).
// Keep Attrs only for sysfs: a regular file of a fake tree that is replaced
// would go on showing its old content.
type Attr struct {
	fd   int
	path string
}

// OpenAttr opens the attribute at name (relative, may contain '/') for
// repeated reads.
func (d *Dir) OpenAttr(name string) (*Attr, error) {
	for {
		fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: filepath.Join(d.path, name), Err: err}
		}
		return &Attr{fd: fd, path: filepath.Join(d.path, name)}, nil
	}
}

// Read reads the attribute's current value like ReadAttr: one bounded read
// from offset 0, white space trimmed, ErrAttrTooLarge beyond MaxAttrSize.
func (a *Attr) Read() (string, error) {
	var buf [MaxAttrSize + 1]byte
	n, err := a.read(buf[:])
	if err != nil {
		return "", err
	}
	return trimSpace(buf[:n]), nil
}

// ReadRaw is Read keeping the value's white space, like Dir.ReadAttrRaw.
func (a *Attr) ReadRaw() (string, error) {
	var buf [MaxAttrSize + 1]byte
	n, err := a.read(buf[:])
	if err != nil {
		return "", err
	}
	return trimNewline(buf[:n]), nil
}

// read fills buf (MaxAttrSize+1 bytes) from offset 0 and returns how many
// bytes it holds.
func (a *Attr) read(buf []byte) (int, error) {
	if a.fd < 0 {
		return 0, &os.PathError{Op: "read", Path: a.path, Err: os.ErrClosed}
	}
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(a.fd, buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: a.path, Err: err}
		}
		if m <= 0 {
			break
		}
		n += m
		if n < MaxAttrSize && isShortAttrRead(m) {
			break
		}
	}
	if n > MaxAttrSize {
		return 0, &os.PathError{Op: "read", Path: a.path, Err: ErrAttrTooLarge}
	}
	return n, nil
}

// Close releases the file.
func (a *Attr) Close() error {
	if a.fd < 0 {
		return nil
	}
	err := unix.Close(a.fd)
	a.fd = -1
	if err != nil {
		return &os.PathError{Op: "close", Path: a.path, Err: err}
	}
	return nil
}
