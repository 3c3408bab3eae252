package safety

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is what the journal needs of an open state file. *os.File satisfies it.
type File interface {
	io.Reader
	io.Writer
	io.Closer
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
}

// FS is every file-system operation the journal makes in its state
// directory. It is an interface so tests can fail any single write or sync
// (WithFS); the default is the real file system.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// SyncDir fsyncs a directory so a created or renamed entry survives a crash.
	SyncDir(dir string) error
	MkdirAll(dir string, perm fs.FileMode) error
	Rename(from, to string) error
	RemoveAll(path string) error
	ReadDir(dir string) ([]fs.DirEntry, error)
}

// OSFS is the real file system.
type OSFS struct{}

func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (OSFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (OSFS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }
func (OSFS) Rename(from, to string) error                { return os.Rename(from, to) }
func (OSFS) RemoveAll(path string) error                 { return os.RemoveAll(path) }
func (OSFS) ReadDir(dir string) ([]fs.DirEntry, error)   { return os.ReadDir(dir) }

// Device is what before-images and recovery need of a target: a disk node or
// a file. *os.File satisfies it.
type Device interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	Sync() error
}

// DeviceOpener opens a target for reading (flag os.O_RDONLY) or writing
// (os.O_RDWR). The default is os.OpenFile.
type DeviceOpener func(path string, flag int) (Device, error)

func openDevice(path string, flag int) (Device, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// mkdirDurable creates dir and its missing parents and fsyncs the directory
// holding each one it created: a journal record that survives a crash must
// not name a directory whose entry did not.
func mkdirDurable(fsys FS, dir string, perm fs.FileMode) error {
	var missing []string
	for p := filepath.Clean(dir); p != filepath.Dir(p); p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		}
		missing = append(missing, p)
	}
	if err := fsys.MkdirAll(dir, perm); err != nil {
		return err
	}
	for _, p := range missing {
		if err := fsys.SyncDir(filepath.Dir(p)); err != nil {
			return err
		}
	}
	return nil
}
