package safety

import (
	"errors"
	"io/fs"
	"sync"
)

var errInjected = errors.New("injected fault")

// faultFS is the real file system with one injected failure: the failAt-th
// write, sync or directory sync (counting from 1 once armed) fails; a
// failing write first writes half its bytes, as a torn write would.
type faultFS struct {
	OSFS
	mu     sync.Mutex
	armed  bool
	failAt int
	count  int
	faults int
}

func (f *faultFS) hit() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return false
	}
	f.count++
	if f.count == f.failAt {
		f.faults++
		return true
	}
	return false
}

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	fl, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: fl, fs: f}, nil
}

func (f *faultFS) SyncDir(dir string) error {
	if f.hit() {
		return errInjected
	}
	return f.OSFS.SyncDir(dir)
}

type faultFile struct {
	File
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.hit() {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, errInjected
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if f.fs.hit() {
		return errInjected
	}
	return f.File.Sync()
}
