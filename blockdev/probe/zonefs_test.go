package probe

import "testing"

func synthZonefs(size int, lbl string, uuid []byte) []byte {
	b := make([]byte, size)
	copy(b, "SFOZ")
	copy(b[8:40], lbl)
	copy(b[40:], uuid)
	return b
}

func TestZonefs(t *testing.T) {
	checkImages(t, []imageCase{
		{"label and uuid", synthZonefs(containerSize, "zoned  ", testUUID), &Result{Type: "zonefs", Usage: UsageFilesystem, UUID: testUUIDString, Label: "zoned"}},
		{"full-width label", synthZonefs(containerSize, "0123456789abcdef0123456789abcdef", nil), &Result{Type: "zonefs", Usage: UsageFilesystem, Label: "0123456789abcdef0123456789abcdef"}},
		{"nothing set", synthZonefs(containerSize, "", nil), &Result{Type: "zonefs", Usage: UsageFilesystem}},
		{"wrong magic", synthZonefs(containerSize, "z", testUUID)[1:], nil},
	})
	containerNone(t, "magic KiB cut", synthZonefs(1000, "z", testUUID), probeZonefs)
}

func FuzzZonefs(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthZonefs(1024, "z", testUUID), 0, 96)}, probeZonefs)
}
