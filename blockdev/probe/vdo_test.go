package probe

import "testing"

func synthVDO(size int, uuid []byte) []byte {
	b := make([]byte, size)
	copy(b, "dmvdo001")
	b[8] = 5
	copy(b[40:], uuid)
	return b
}

func TestVDO(t *testing.T) {
	checkImages(t, []imageCase{
		{"uuid", synthVDO(containerSize, testUUID), &Result{Type: "vdo", Usage: UsageOther, UUID: testUUIDString}},
		{"zero uuid", synthVDO(containerSize, make([]byte, 16)), &Result{Type: "vdo", Usage: UsageOther}},
		{"tiny device", synthVDO(1536, testUUID), &Result{Type: "vdo", Usage: UsageOther, UUID: testUUIDString}},
		{"wrong magic", synthVDO(containerSize, testUUID)[1:], nil},
	})
	containerNone(t, "magic KiB cut", synthVDO(1023, testUUID), probeVDO)
}

func FuzzVDO(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthVDO(1024, testUUID), 0, 64)}, probeVDO)
}
