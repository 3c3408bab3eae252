package probe

import (
	"encoding/binary"
	"testing"
)

// synthGFS is a GFS or GFS2 superblock at 64 KiB with the given format
// numbers, lock table and UUID.
func synthGFS(size int64, fs, multi uint32, locktable string, uuid []byte) *oddfsImage {
	img := newOddfsImage(size)
	b := img.at(64<<10, 512)
	be := binary.BigEndian
	be.PutUint32(b[0:], gfsMagic)
	be.PutUint32(b[4:], 1)    // meta type: superblock
	be.PutUint32(b[16:], 100) // meta format
	be.PutUint32(b[24:], fs)
	be.PutUint32(b[28:], multi)
	be.PutUint32(b[36:], 4096)
	be.PutUint32(b[40:], 12)
	copy(b[96:], "lock_dlm")
	copy(b[160:224], locktable)
	copy(b[256:272], uuid)
	return img
}

func TestGFS(t *testing.T) {
	const size = 40 << 20
	gfs := func(l, u string) *Result { return &Result{Type: "gfs", Usage: UsageFilesystem, Label: l, UUID: u} }
	gfs2 := func(l, u string) *Result {
		return &Result{Type: "gfs2", Usage: UsageFilesystem, Version: "1", Label: l, UUID: u}
	}
	oddfsCheck(t, []oddfsCase{
		{"gfs", synthGFS(size, 1309, 1401, "cluster:fs", testUUID), gfs("cluster:fs", testUUIDString)},
		{"gfs no uuid", synthGFS(size, 1309, 1401, "c:f", nil), gfs("c:f", "")},
		{"gfs2", synthGFS(size, 1801, 1900, "mycluster:mygfs2", testUUID), gfs2("mycluster:mygfs2", testUUIDString)},
		{"gfs2 range ends", synthGFS(size, 1899, 1999, "a:b  ", nil), gfs2("a:b", "")},
		{"gfs2 no lock table", synthGFS(size, 1800, 1900, "", testUUID), gfs2("", testUUIDString)},
		{"gfs wrong multihost", synthGFS(size, 1309, 1400, "c:f", testUUID), nil},
		{"gfs2 format 1900", synthGFS(size, 1900, 1900, "c:f", testUUID), nil},
		{"gfs2 multihost 2000", synthGFS(size, 1801, 2000, "c:f", testUUID), nil},
		{"under 32 MiB", synthGFS(32<<20-512, 1801, 1900, "c:f", testUUID), nil},
	})
	oddfsNone(t, "magic", oddfsPatched(synthGFS(size, 1801, 1900, "c:f", nil), 64<<10, "\x70"), probeGFS2)
}

func FuzzGFS(f *testing.F) {
	fuzzProbers(f, 64<<10, [][]byte{
		synthGFS(1<<20, 1309, 1401, "c:f", testUUID).bytes()[64<<10 : 64<<10+272],
		synthGFS(1<<20, 1801, 1900, "c:f", testUUID).bytes()[64<<10 : 64<<10+272],
	}, probeGFS, probeGFS2)
}
