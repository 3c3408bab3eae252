package loopfile

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

const (
	copyReflink = "reflink"
	copySparse  = "sparse"
)

// copyImage makes dst (which must not exist) a copy of src: a reflink
// (FICLONE) where the filesystem shares extents, else a sparse copy that
// reads only the data extents (SEEK_DATA/SEEK_HOLE) and leaves holes as
// holes. It returns which it did. On error dst is removed.
func copyImage(src, dst string) (how string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) == nil {
		return copyReflink, out.Sync()
	}
	st, err := in.Stat()
	if err != nil {
		return "", err
	}
	size := st.Size()
	if err := out.Truncate(size); err != nil {
		return "", err
	}
	buf := make([]byte, 1<<20)
	var off int64
	for off < size {
		data, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return "", os.NewSyscallError("lseek SEEK_DATA", err)
		}
		hole, err := unix.Seek(int(in.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			return "", os.NewSyscallError("lseek SEEK_HOLE", err)
		}
		if _, err := io.CopyBuffer(io.NewOffsetWriter(out, data), io.NewSectionReader(in, data, hole-data), buf); err != nil {
			return "", err
		}
		off = hole
	}
	return copySparse, out.Sync()
}
