package probe

import "testing"

func synthBluestore(size int) []byte {
	b := make([]byte, size)
	copy(b, "bluestore block device\n"+testUUIDString+"\n")
	return b
}

func TestBluestore(t *testing.T) {
	cut := synthBluestore(containerSize)
	cut[21] = 'X' // the 22nd byte is the last one blkid compares
	checkImages(t, []imageCase{
		{"label", synthBluestore(containerSize), &Result{Type: "ceph_bluestore", Usage: UsageOther}},
		{"small", synthBluestore(2048), &Result{Type: "ceph_bluestore", Usage: UsageOther}},
		{"wrong magic", cut, nil},
	})
	containerNone(t, "magic KiB cut", synthBluestore(1000), probeBluestore)
}

func FuzzBluestore(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthBluestore(1024), 0, 64)}, probeBluestore)
}
