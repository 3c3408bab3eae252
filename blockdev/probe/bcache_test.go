package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
)

// containerSize is above blkid's floppy size (where it skips RAID-like
// members) and holds VMFS's superblock at 2 MiB.
const containerSize = 3 << 20

// containerSource wraps an image for calling one prober directly, outside
// the registry's size limits.
func containerSource(t testing.TB, img []byte) *source {
	t.Helper()
	s, err := newSource(context.Background(), bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.release)
	return s
}

// containerNone checks that fn finds nothing on img and fails no read.
func containerNone(t *testing.T, name string, img []byte, fn func(*source) (*sb, error)) {
	t.Helper()
	got, err := fn(containerSource(t, img))
	if got != nil || err != nil {
		t.Errorf("%s: got %+v, %v; want nothing", name, got, err)
	}
}

func synthBcache(size int, uuid []byte, sbOffset uint64) []byte {
	b := make([]byte, size)
	sb := b[4096:]
	binary.LittleEndian.PutUint64(sb[8:], sbOffset)
	binary.LittleEndian.PutUint64(sb[16:], 1) // a backing device
	copy(sb[24:], bcacheMagic)
	copy(sb[40:], uuid)
	return b
}

func TestBcache(t *testing.T) {
	wrongMagic := synthBcache(containerSize, testUUID, 8)
	wrongMagic[4096+24+15] ^= 1
	checkImages(t, []imageCase{
		{"uuid", synthBcache(containerSize, testUUID, 8), &Result{Type: "bcache", Usage: UsageOther, UUID: testUUIDString}},
		{"zero uuid", synthBcache(containerSize, make([]byte, 16), 8), &Result{Type: "bcache", Usage: UsageOther}},
		{"smallest device", synthBcache(8192, testUUID, 8), &Result{Type: "bcache", Usage: UsageOther, UUID: testUUIDString}},
		{"below minimum size", synthBcache(8191, testUUID, 8), nil},
		{"offset not sector 8", synthBcache(containerSize, testUUID, 0), nil},
		{"wrong magic", wrongMagic, nil},
	})
	// The magic's KiB must lie inside the device, as blkid reads it whole.
	containerNone(t, "magic KiB cut", synthBcache(4096+1023, testUUID, 8), probeBcache)
}

func FuzzBcache(f *testing.F) {
	fuzzProbers(f, 4096, [][]byte{region(synthBcache(8192, testUUID, 8), 4096, 1024)}, probeBcache)
}

// TestContainerBlkidRules pins blkid's answers that depend on the prober
// registry and the probe loop rather than on a prober's own code: the
// datalog's usage, and blkid's rule that a floppy-sized device (1440 KiB or
// less) has no RAID-like member, which covers drbd, ubi and VMFS volumes.
func TestContainerBlkidRules(t *testing.T) {
	const floppy = 1440 << 10
	checkImages(t, []imageCase{
		{"proxy datalog", synthDRBDProxy(containerSize, 3, testUUID), &Result{Type: "drbdproxy_datalog", Usage: UsageFilesystem, Version: "v3", UUID: testUUIDString}},
		{"proxy datalog zero uuid", synthDRBDProxy(containerSize, 1<<40, nil), &Result{Type: "drbdproxy_datalog", Usage: UsageFilesystem, Version: "v1099511627776"}},
		{"drbd on a floppy", synthDRBD(floppy, drbdMagic08, 1), nil},
		{"drbd just above", synthDRBD(floppy+1, drbdMagic08, 1), &Result{Type: "drbd", Usage: UsageRaid, Version: "v08", UUID: "1"}},
		{"ubi on a floppy", synthUBI(floppy, 1, 1), nil},
		{"vmfs volume on a floppy", synthVMFSVolume(floppy, 1, testUUID, "id"), nil},
	})
}
