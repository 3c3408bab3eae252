package smart

import (
	"encoding/binary"
	"testing"
)

// Words 117-118 count 16-bit words, so the byte size is twice a 32-bit
// number; a hostile or broken page could make that wrap to 0 (and a caller
// dividing by the sector size panic) or make the physical size wrap.
func TestIdentifySectorSizeOverflow(t *testing.T) {
	for _, c := range []struct {
		name          string
		words         uint32
		exp           uint16
		logical, phys uint32
	}{
		{"4Kn", 2048, 0, 4096, 4096},
		{"512e", 0, 3, 512, 4096},
		{"wraps to 0", 0x80000000, 0, 512, 512},
		{"physical wraps", 0x40000000, 2, 0x80000000, 0x80000000},
	} {
		p := make([]byte, 512)
		w106 := uint16(0x4000) | c.exp
		if c.exp != 0 {
			w106 |= 1 << 13
		}
		if c.words != 0 {
			w106 |= 1 << 12
			binary.LittleEndian.PutUint16(p[2*117:], uint16(c.words))
			binary.LittleEndian.PutUint16(p[2*118:], uint16(c.words>>16))
		}
		binary.LittleEndian.PutUint16(p[2*106:], w106)
		id, err := ParseIdentify(p)
		if err != nil {
			t.Fatal(err)
		}
		if id.LogicalSectorSize != c.logical || id.PhysicalSectorSize != c.phys {
			t.Errorf("%s: logical %d physical %d, want %d %d", c.name, id.LogicalSectorSize, id.PhysicalSectorSize, c.logical, c.phys)
		}
	}
}
