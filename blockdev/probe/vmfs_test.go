package probe

import (
	"context"
	"encoding/binary"
	"testing"
)

// testUUID in VMFS's byte order, as blkid prints it.
const vmfsTestUUID = "78563412-f0debc9a-2301-456789abcdef"

func synthVMFSVolume(size int, ver uint32, uuid []byte, lvmUUID string) []byte {
	b := make([]byte, size)
	h := b[vmfsVolumeOff:]
	copy(h, "\x0d\xd0\x01\xc0")
	binary.LittleEndian.PutUint32(h[4:], ver)
	copy(h[130:146], uuid)
	copy(h[512+20:512+55], lvmUUID)
	return b
}

func synthVMFS(size int, ver byte, uuid []byte, lbl string) []byte {
	b := make([]byte, size)
	h := b[vmfsFSOff:]
	copy(h, "\x5e\xf1\xab\x2f")
	binary.LittleEndian.PutUint32(h[4:], 4)
	h[8] = ver
	copy(h[9:25], uuid)
	copy(h[29:157], lbl)
	return b
}

func TestVMFS(t *testing.T) {
	const lvm = "49edf842-dcb35d37-b383-0021280083cf"
	member := func(uuid, sub, v string) *Result {
		return &Result{Type: "VMFS_volume_member", Usage: UsageRaid, Version: v, UUID: uuid, UUIDSub: sub}
	}
	fs := func(uuid, lbl, v string) *Result {
		return &Result{Type: "VMFS", Usage: UsageFilesystem, Version: v, UUID: uuid, Label: lbl}
	}
	long := make([]byte, 40)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	checkImages(t, []imageCase{
		{"volume", synthVMFSVolume(containerSize, 3, testUUID, lvm), member(lvm, vmfsTestUUID, "3")},
		// UUID_SUB is printed even when zero; an empty LVM id is no UUID
		{"volume zero ids", synthVMFSVolume(containerSize, 5, nil, ""), member("", "00000000-00000000-0000-000000000000", "5")},
		// the LVM id is read as 35 bytes of text, trailing spaces trimmed
		{"volume long lvm id", synthVMFSVolume(containerSize, 3, testUUID, string(long)), member(string(long[:35]), vmfsTestUUID, "3")},
		{"volume padded lvm id", synthVMFSVolume(containerSize, 3, testUUID, "abc   "), member("abc", vmfsTestUUID, "3")},
		{"volume magic KiB cut", synthVMFSVolume(2<<20, 1, testUUID, lvm)[:vmfsVolumeOff+1023], nil},

		{"fs", synthVMFS(containerSize, 31, testUUID, "toto"), fs(vmfsTestUUID, "toto", "31")},
		{"fs zero uuid", synthVMFS(containerSize, 255, nil, ""), fs("", "", "255")},
		{"fs smallest device", synthVMFS(vmfsFSOff+1024, 1, testUUID, "x"), fs(vmfsTestUUID, "x", "1")},
		{"fs magic KiB cut", synthVMFS(vmfsFSOff+1023, 1, testUUID, "x"), nil},
	})
	// The smallest device that holds a volume header is floppy-sized, where
	// blkid looks for no RAID-like member (TestContainerBlkidRules); the
	// prober itself finds it.
	if r, _ := probeVMFSVolume(containerSource(t, synthVMFSVolume(vmfsVolumeOff+1024, 1, testUUID, lvm))); r == nil || r.uuid != lvm {
		t.Errorf("volume on the smallest device: %+v", r)
	}
}

// FuzzVMFS puts the same bytes at the volume header (1 MiB) and the
// filesystem superblock (2 MiB).
func FuzzVMFS(f *testing.F) {
	f.Add(region(synthVMFSVolume(vmfsVolumeOff+1024, 3, testUUID, "lvm-id"), vmfsVolumeOff, 1024))
	f.Add(region(synthVMFS(vmfsFSOff+1024, 31, testUUID, "toto"), vmfsFSOff, 160))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			data = data[:4096]
		}
		const size = 4 << 20
		dev := containerSparse{size, map[int64][]byte{vmfsVolumeOff: data, vmfsFSOff: data}}
		s, err := newSource(context.Background(), dev, size)
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		for _, fn := range []func(*source) (*sb, error){probeVMFSVolume, probeVMFS} {
			if _, err := fn(s); err != nil && err != errBudget {
				t.Fatalf("prober error on in-memory data: %v", err)
			}
		}
	})
}
