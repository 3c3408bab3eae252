package smart

import (
	"encoding/binary"
	"math/big"
)

// Uint128 is an NVMe 128-bit little-endian counter.
type Uint128 struct{ Hi, Lo uint64 }

func le128(b []byte) Uint128 {
	return Uint128{Lo: binary.LittleEndian.Uint64(b), Hi: binary.LittleEndian.Uint64(b[8:])}
}

// Big is the value as a big.Int.
func (u Uint128) Big() *big.Int {
	v := new(big.Int).SetUint64(u.Hi)
	v.Lsh(v, 64)
	return v.Or(v, new(big.Int).SetUint64(u.Lo))
}

// Uint64 is the value and whether it fits in 64 bits.
func (u Uint128) Uint64() (uint64, bool) { return u.Lo, u.Hi == 0 }

// IsZero reports a zero counter.
func (u Uint128) IsZero() bool { return u.Hi == 0 && u.Lo == 0 }

// Cmp compares u with v (-1, 0, +1).
func (u Uint128) Cmp(v Uint128) int {
	switch {
	case u.Hi < v.Hi || u.Hi == v.Hi && u.Lo < v.Lo:
		return -1
	case u == v:
		return 0
	}
	return 1
}

func (u Uint128) String() string { return u.Big().String() }

// MarshalJSON writes the exact decimal number, even past 2^64.
func (u Uint128) MarshalJSON() ([]byte, error) { return []byte(u.String()), nil }
