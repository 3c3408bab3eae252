package probe

import (
	"testing"
)

func synthNetware(size int, major, minor uint16, pool []byte) []byte {
	b := make([]byte, size)
	sb := b[netwareSBOff:]
	copy(sb, "SPB5")
	le.PutUint16(sb[4:], 1)
	le.PutUint16(sb[8:], major)
	le.PutUint16(sb[10:], minor)
	copy(sb[348:364], pool)
	copy(sb[332:348], testUUID[8:]) // volume ID: not reported
	return b
}

func TestNetware(t *testing.T) {
	nss := func(ver, uuid string) *Result {
		return &Result{Type: "nss", Usage: UsageFilesystem, Version: ver, UUID: uuid}
	}
	cases := []imageCase{
		{"pool id", synthNetware(8192, 43, 2, testUUID), nss("43.02", testUUIDString)},
		{"three-digit minor", synthNetware(8192, 5, 100, nil), nss("5.100", "")},
		{"smallest device", synthNetware(5120, 0, 0, testUUID), nss("0.00", testUUIDString)},
		{"magic KiB cut", synthNetware(5119, 0, 0, testUUID), nil},
		{"no magic", synthNetware(8192, 1, 1, testUUID)[1:], nil},
	}
	checkImages(t, cases)
}

func FuzzNetware(f *testing.F) {
	fuzzProbers(f, netwareSBOff, [][]byte{region(synthNetware(8192, 43, 2, testUUID), netwareSBOff, 636)}, probeNetware)
}
