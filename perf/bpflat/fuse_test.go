package bpflat

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// A slow disk for the fio comparison: a one-file FUSE filesystem, served
// by this test process, whose every read and write sleeps a random time
// before it is answered. A loop device on the file is a block device whose
// requests take milliseconds while the CPU idles, so nearly all of what fio
// measures for a request is the time the block layer sees it in flight;
// on a loop device over tmpfs a request's block-layer time is a few
// microseconds and fio's own system calls and wake-ups are most of its
// latency.
//
// Only the protocol the kernel needs to open, stat, read and write one
// file is spoken (FUSE 7.31): INIT, LOOKUP, GETATTR, OPEN (with
// FOPEN_DIRECT_IO, so no page cache stands between the loop device and the
// delay), READ, WRITE, FLUSH, FSYNC, RELEASE, STATFS; anything else is
// ENOSYS.
type slowFS struct {
	fd        int
	dir       string
	size      uint64
	min, span time.Duration
	wg        sync.WaitGroup
}

const (
	fuseLookup      = 1
	fuseForget      = 2
	fuseGetattr     = 3
	fuseOpen        = 14
	fuseRead        = 15
	fuseWrite       = 16
	fuseStatfs      = 17
	fuseRelease     = 18
	fuseFsync       = 20
	fuseFlush       = 25
	fuseInit        = 26
	fuseDestroy     = 38
	fuseBatchForget = 42
	fuseInterrupt   = 36

	fuseRootID = 1
	fuseFileID = 2
	fuseInHdr  = 40
)

// slowDisk mounts the filesystem and returns its one file's path. Reads and
// writes take min plus a uniformly random part of span.
func slowDisk(t testing.TB, size uint64, min, span time.Duration) string {
	t.Helper()
	testenv.RequireRoot(t)
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		testenv.Skip(t, "no FUSE: %v", err)
	}
	dir := t.TempDir()
	opts := "fd=" + strconv.Itoa(fd) + ",rootmode=40000,user_id=0,group_id=0,allow_other,max_read=131072"
	if err := unix.Mount("eos-slowfs", dir, "fuse", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		unix.Close(fd)
		testenv.Skip(t, "cannot mount FUSE: %v", err)
	}
	fs := &slowFS{fd: fd, dir: dir, size: size, min: min, span: span}
	for range 4 {
		fs.wg.Add(1)
		go fs.serve()
	}
	// Registered before the loop device is attached, so it runs after
	// the loop device is detached.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Logf("unmount %s: %v", dir, err)
		}
		unix.Close(fd) // the readers see ENODEV or EBADF
		fs.wg.Wait()
	})
	return filepath.Join(dir, "disk")
}

func (fs *slowFS) serve() {
	defer fs.wg.Done()
	buf := make([]byte, 1<<20+4096)
	for {
		n, err := unix.Read(fs.fd, buf)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOENT) {
				continue
			}
			return // ENODEV after unmount, EBADF after close
		}
		if n < fuseInHdr {
			continue
		}
		req := append([]byte(nil), buf[:n]...)
		fs.wg.Add(1)
		go func() {
			defer fs.wg.Done()
			fs.handle(req)
		}()
	}
}

var ne = binary.NativeEndian

func (fs *slowFS) reply(unique uint64, errno unix.Errno, payload []byte) {
	out := make([]byte, 16+len(payload))
	ne.PutUint32(out[0:], uint32(len(out)))
	ne.PutUint32(out[4:], uint32(-int32(errno)))
	ne.PutUint64(out[8:], unique)
	copy(out[16:], payload)
	unix.Write(fs.fd, out) // an interrupted request's reply may be refused
}

func (fs *slowFS) attr(id uint64) []byte {
	a := make([]byte, 88)
	ne.PutUint64(a[0:], id)
	mode, nlink, size := uint32(unix.S_IFDIR|0o755), uint32(2), uint64(0)
	if id == fuseFileID {
		mode, nlink, size = unix.S_IFREG|0o644, 1, fs.size
	}
	ne.PutUint64(a[8:], size)
	ne.PutUint64(a[16:], size/512)
	ne.PutUint32(a[60:], mode)
	ne.PutUint32(a[64:], nlink)
	ne.PutUint32(a[80:], 4096) // blksize
	return a
}

func (fs *slowFS) delay() {
	d := fs.min
	if fs.span > 0 {
		d += rand.N(fs.span)
	}
	time.Sleep(d)
}

func (fs *slowFS) handle(req []byte) {
	op := ne.Uint32(req[4:])
	unique := ne.Uint64(req[8:])
	node := ne.Uint64(req[16:])
	in := req[fuseInHdr:]
	switch op {
	case fuseInit:
		out := make([]byte, 64)
		ne.PutUint32(out[0:], 7)
		ne.PutUint32(out[4:], 31)
		ne.PutUint32(out[8:], ne.Uint32(in[8:])) // max_readahead as offered
		ne.PutUint32(out[20:], 128<<10)          // max_write
		ne.PutUint16(out[28:], 32)               // max_pages
		fs.reply(unique, 0, out)
	case fuseLookup:
		if node != fuseRootID || string(trimNUL(in)) != "disk" {
			fs.reply(unique, unix.ENOENT, nil)
			return
		}
		out := make([]byte, 40, 128)
		ne.PutUint64(out[0:], fuseFileID)
		ne.PutUint64(out[16:], 3600) // entry_valid
		ne.PutUint64(out[24:], 3600) // attr_valid
		fs.reply(unique, 0, append(out, fs.attr(fuseFileID)...))
	case fuseGetattr:
		out := make([]byte, 16, 104)
		ne.PutUint64(out[0:], 3600)
		fs.reply(unique, 0, append(out, fs.attr(node)...))
	case fuseOpen:
		out := make([]byte, 16)
		ne.PutUint32(out[8:], 1) // FOPEN_DIRECT_IO
		fs.reply(unique, 0, out)
	case fuseRead:
		off, size := ne.Uint64(in[8:]), uint64(ne.Uint32(in[16:]))
		if off >= fs.size {
			size = 0
		} else if off+size > fs.size {
			size = fs.size - off
		}
		fs.delay()
		fs.reply(unique, 0, make([]byte, size))
	case fuseWrite:
		out := make([]byte, 8)
		ne.PutUint32(out[0:], ne.Uint32(in[16:]))
		fs.delay()
		fs.reply(unique, 0, out)
	case fuseStatfs:
		out := make([]byte, 80)
		ne.PutUint64(out[0:], fs.size/4096)
		ne.PutUint32(out[40:], 4096)
		ne.PutUint32(out[44:], 255)
		ne.PutUint32(out[48:], 4096)
		fs.reply(unique, 0, out)
	case fuseFlush, fuseFsync, fuseRelease, fuseDestroy:
		fs.reply(unique, 0, nil)
	case fuseForget, fuseBatchForget, fuseInterrupt:
		// no reply
	default:
		fs.reply(unique, unix.ENOSYS, nil)
	}
}

func trimNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// slowLoop attaches a loop device to a slowDisk and returns its path.
func slowLoop(t testing.TB, size uint64, min, span time.Duration) (string, uint32) {
	t.Helper()
	file := slowDisk(t, size, min, span)
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("slow disk: %v", err)
	}
	dev := testenv.LoopFile(t, file)
	waitIdle(t, dev)
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return dev, unix.Major(st.Rdev)<<20 | unix.Minor(st.Rdev)
}
