package vmtest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// The kernel unpacks an initramfs in the "newc" cpio format (ASCII hex
// headers, 4-byte alignment); see Documentation/driver-api/early-userspace/
// buffer-format.rst. Writing it ourselves keeps /dev/console a real character
// node without mknod privileges and avoids the cpio tool's dependence on the
// host's current directory.

const (
	cpioMagic   = "070701"
	cpioTrailer = "TRAILER!!!"
	sIFMT       = 0o170000
	sIFDIR      = 0o040000
	sIFREG      = 0o100000
	sIFLNK      = 0o120000
	sIFCHR      = 0o020000
)

// errCPIOSize is returned when a file's data does not match its declared size.
var errCPIOSize = errors.New("vmtest: cpio entry data does not match its size")

// cpioWriter writes a newc archive entry by entry.
type cpioWriter struct {
	w   io.Writer
	off int64
	ino uint32
	err error
}

func newCPIOWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w, ino: 1} }

func (c *cpioWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.off += int64(n)
	c.err = err
}

func (c *cpioWriter) pad() {
	if r := c.off % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// header writes one entry header and its name. mode carries the S_IF type.
func (c *cpioWriter) header(name string, mode uint32, size int64, nlink, rmaj, rmin uint32) {
	if size < 0 || size > 0xffffffff {
		c.err = fmt.Errorf("vmtest: cpio entry %s: size %d out of range", name, size)
		return
	}
	ino := c.ino
	c.ino++
	if name == cpioTrailer {
		ino = 0
	}
	h := fmt.Sprintf("%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		cpioMagic, ino, mode, 0, 0, nlink, 0, uint32(size), 0, 0, rmaj, rmin, len(name)+1, 0)
	c.write([]byte(h))
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad()
}

// Dir adds a directory. Parents must already have been added.
func (c *cpioWriter) Dir(name string, perm fs.FileMode) error {
	c.header(name, sIFDIR|uint32(perm.Perm()), 0, 2, 0, 0)
	return c.err
}

// File adds a regular file of size bytes read from r.
func (c *cpioWriter) File(name string, perm fs.FileMode, size int64, r io.Reader) error {
	c.header(name, sIFREG|uint32(perm.Perm()), size, 1, 0, 0)
	if c.err != nil {
		return c.err
	}
	n, err := io.Copy(writerFunc(func(p []byte) (int, error) {
		c.write(p)
		return len(p), c.err
	}), io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("%w: %s: %d of %d bytes", errCPIOSize, name, n, size)
	}
	c.pad()
	return c.err
}

// Symlink adds a symbolic link name pointing at target.
func (c *cpioWriter) Symlink(name, target string) error {
	c.header(name, sIFLNK|0o777, int64(len(target)), 1, 0, 0)
	c.write([]byte(target))
	c.pad()
	return c.err
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) error {
	c.header(name, sIFCHR|uint32(perm.Perm()), 0, 1, major, minor)
	return c.err
}

// Close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	c.header(cpioTrailer, 0, 0, 1, 0, 0)
	return c.err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
