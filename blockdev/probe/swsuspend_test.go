package probe

import (
	"encoding/binary"
	"testing"
)

// synthSwsuspend is a swap area of pageSize pages whose signature a
// hibernation image replaced with magic; TuxOnIce's goes at offset 0 and
// leaves the swap signature in place.
func synthSwsuspend(size, pageSize int, magic, lbl string) []byte {
	b := make([]byte, size)
	h := b[1024:]
	binary.LittleEndian.PutUint32(h[0:], 1)
	binary.LittleEndian.PutUint32(h[4:], uint32(size/pageSize-1))
	copy(h[12:28], testUUID)
	copy(h[28:44], lbl)
	if magic == swsuspendTuxOnIce {
		copy(b, magic)
		magic = "SWAPSPACE2"
	}
	copy(b[pageSize-10:], magic)
	return b
}

func TestSwsuspend(t *testing.T) {
	susp := func(v, lbl string) *Result {
		return &Result{Type: "swsuspend", Usage: UsageOther, Version: v, UUID: testUUIDString, Label: lbl}
	}
	dirty := synthSwsuspend(containerSize, 4096, "S1SUSPEND", "lab")
	dirty[1024+44+33*4] = 1 // garbage in the padding: label and UUID untrusted
	amb := synthSwsuspend(containerSize, 4096, "S2SUSPEND", "")
	copy(amb[0x10000-10:], "SWAPSPACE2")
	checkImages(t, []imageCase{
		{"s1suspend", synthSwsuspend(containerSize, 4096, "S1SUSPEND", "lab"), susp("s1suspend", "lab")},
		{"s2suspend 8k pages", synthSwsuspend(containerSize, 8192, "S2SUSPEND", "lab"), susp("s2suspend", "lab")},
		{"ulsuspend 16k pages", synthSwsuspend(containerSize, 16384, "ULSUSPEND", ""), susp("ulsuspend", "")},
		{"linhib0001 64k pages", synthSwsuspend(containerSize, 65536, "LINHIB0001", "hib"), susp("linhib0001", "hib")},
		{"tuxonice", synthSwsuspend(containerSize, 4096, swsuspendTuxOnIce, "toi"), susp("tuxonice", "toi")},
		{"dirty padding", dirty, &Result{Type: "swsuspend", Usage: UsageOther, Version: "s1suspend"}},
		{"smallest device", synthSwsuspend(10*4096, 4096, "S1SUSPEND", "l"), susp("s1suspend", "l")},
		{"below minimum size", synthSwsuspend(10*4096-1, 4096, "S1SUSPEND", "l"), nil},
		// a page size no kernel uses
		{"32-byte shift", synthSwsuspend(containerSize, 4096+32, "S1SUSPEND", "l"), nil},
		{"beside a swap signature", amb, &Result{Ambiguous: []string{"swsuspend", "swap"}}},
	})
}

func FuzzSwsuspend(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{
		region(synthSwsuspend(8192, 4096, "S1SUSPEND", "l"), 0, 4096),
		region(synthSwsuspend(8192, 4096, swsuspendTuxOnIce, "t"), 0, 4096),
	}, probeSwsuspend)
}
