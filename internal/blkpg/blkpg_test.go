package blkpg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// The layout of include/uapi/linux/blkpg.h on a 64-bit kernel (LP64):
// blkpg_ioctl_arg: op@0 flags@4 datalen@8 data@16, size 24;
// blkpg_partition: start@0 length@8 pno@16 devname@20 volname@84, size 152
// (148 bytes of fields, padded to the 8-byte alignment of long long).
func TestLayoutMatchesKernelHeader(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("layout constants below are for LP64 kernels")
	}
	var a IoctlArg
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(blkpg_ioctl_arg)", unsafe.Sizeof(a), 24},
		{"op", unsafe.Offsetof(a.Op), 0},
		{"flags", unsafe.Offsetof(a.Flags), 4},
		{"datalen", unsafe.Offsetof(a.Datalen), 8},
		{"data", unsafe.Offsetof(a.Data), 16},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, kernel header says %d", c.name, c.got, c.want)
		}
	}
	var p Partition
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(blkpg_partition)", unsafe.Sizeof(p), 152},
		{"start", unsafe.Offsetof(p.Start), 0},
		{"length", unsafe.Offsetof(p.Length), 8},
		{"pno", unsafe.Offsetof(p.Pno), 16},
		{"devname", unsafe.Offsetof(p.Devname), 20},
		{"volname", unsafe.Offsetof(p.Volname), 84},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, kernel header says %d", c.name, c.got, c.want)
		}
	}
	// x/sys/unix is generated from the same headers: a second witness.
	if unsafe.Sizeof(p) != unsafe.Sizeof(unix.BlkpgPartition{}) {
		t.Errorf("size %d differs from unix.BlkpgPartition %d", unsafe.Sizeof(p), unsafe.Sizeof(unix.BlkpgPartition{}))
	}
	if unsafe.Sizeof(a) != unsafe.Sizeof(unix.BlkpgIoctlArg{}) {
		t.Errorf("size %d differs from unix.BlkpgIoctlArg %d", unsafe.Sizeof(a), unsafe.Sizeof(unix.BlkpgIoctlArg{}))
	}
}

func TestNumbersMatchUnix(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"BLKPG", BLKPG, unix.BLKPG},
		{"BLKRRPART", BLKRRPART, unix.BLKRRPART},
		{"BLKSSZGET", BLKSSZGET, unix.BLKSSZGET},
		{"BLKPBSZGET", BLKPBSZGET, unix.BLKPBSZGET},
		{"BLKIOMIN", BLKIOMIN, unix.BLKIOMIN},
		{"BLKIOOPT", BLKIOOPT, unix.BLKIOOPT},
		{"BLKGETSIZE64", BLKGETSIZE64, unix.BLKGETSIZE64},
		{"OpAdd", OpAdd, unix.BLKPG_ADD_PARTITION},
		{"OpDelete", OpDelete, unix.BLKPG_DEL_PARTITION},
		{"OpResize", OpResize, unix.BLKPG_RESIZE_PARTITION},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, unix says %#x", c.name, c.got, c.want)
		}
	}
}

func TestBadArgumentsNeverReachTheKernel(t *testing.T) {
	for _, err := range []error{Add(^uintptr(0), 0, 0, 1), Delete(^uintptr(0), -1), Resize(^uintptr(0), 1, -1, 5)} {
		if !errors.Is(err, ErrBadArgument) {
			t.Errorf("got %v, want ErrBadArgument", err)
		}
	}
}

// On a real loop device: geometry ioctls agree with sysfs, and a partition
// added with BLKPG appears in sysfs, resizes, and goes away again.
func TestLoopDeviceRoundTrip(t *testing.T) {
	dev := testenv.Loop(t, 64<<20)
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := f.Fd()
	size, err := Size64(fd)
	if err != nil || size != 64<<20 {
		t.Fatalf("Size64 = %d, %v", size, err)
	}
	lss, err := LogicalSectorSize(fd)
	if err != nil || lss != 512 {
		t.Fatalf("LogicalSectorSize = %d, %v", lss, err)
	}
	if pss, err := PhysicalSectorSize(fd); err != nil || pss < lss {
		t.Fatalf("PhysicalSectorSize = %d, %v", pss, err)
	}
	if _, err := OptimalIO(fd); err != nil {
		t.Fatal(err)
	}
	if _, err := MinimumIO(fd); err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(dev)
	if err := Add(fd, 1, 1<<20, 8<<20); err != nil {
		t.Fatal(err)
	}
	sysStart := filepath.Join("/sys/block", base, base+"p1", "start")
	sysSize := filepath.Join("/sys/block", base, base+"p1", "size")
	if got := readTrim(t, sysStart); got != "2048" {
		t.Errorf("p1 start = %s sectors, want 2048", got)
	}
	if err := Resize(fd, 1, 1<<20, 16<<20); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, sysSize); got != "32768" {
		t.Errorf("p1 size after resize = %s sectors, want 32768", got)
	}
	// Overlapping a second partition with the first is refused by the kernel.
	if err := Add(fd, 2, 2<<20, 1<<20); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("overlapping add: got %v, want EBUSY", err)
	}
	if err := Delete(fd, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sysStart); !os.IsNotExist(err) {
		t.Errorf("p1 still in sysfs after delete: %v", err)
	}
	// A loop device attached without partition scanning (no losetup -P)
	// answers BLKRRPART with EINVAL; with nothing in use it must not be EBUSY.
	if err := RereadPartitions(fd); err != nil && !errors.Is(err, syscall.EINVAL) {
		t.Errorf("BLKRRPART with nothing in use: %v", err)
	}
}

func readTrim(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
