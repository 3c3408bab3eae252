package lvm

import "fmt"

// LVAttr is lv_attr decoded: ten characters, each a field (lvs(8), "The
// lv_attr bits are"). Raw keeps the string; 'X' in a field means lvm could
// not tell (no device-mapper), kept as Unknown values.
type LVAttr struct {
	Raw string
	// Type is the volume type character: '-' plain, 'C' cache, 'm'
	// mirrored, 'M' mirrored without initial sync, 'o' origin, 'O' origin
	// with merging snapshot, 'r' raid, 'R' raid without initial sync, 's'
	// snapshot, 'S' merging snapshot, 'p' pvmove, 'v' virtual, 'i' mirror
	// or raid image, 'I' image out of sync, 'l' mirror log, 'c' under
	// conversion, 'V' thin volume, 't' thin pool, 'T' thin pool data, 'd'
	// VDO pool, 'D' VDO pool data, 'e' raid or pool metadata (or spare).
	Type byte
	// Permissions: 'w' writeable, 'r' read-only, 'R' read-only activation
	// of a writeable volume.
	Permissions byte
	// Allocation policy: 'a'nywhere, 'c'ontiguous, 'i'nherited,
	// c'l'ing, 'n'ormal; upper case when locked against changes.
	Allocation byte
	FixedMinor bool
	// State: 'a' active, 'h' historical, 's' suspended, 'I' invalid
	// snapshot, 'S' invalid suspended snapshot, 'm' merge failed, 'M'
	// suspended merge failed, 'd' mapped device without tables, 'i' mapped
	// device with inactive table, 'c' thin-pool check needed, 'C'
	// suspended check needed, 'X' unknown, '-' inactive.
	State byte
	// Open: 'o' open, 'X' unknown, '-' not open.
	Open byte
	// Target: 'C'ache, 'm'irror, 'r'aid, 's'napshot, 't'hin, 'u'nknown,
	// 'v'irtual, 'V'DO, '-' linear/striped.
	Target byte
	// Zero: newly allocated blocks are zeroed first (thin pools).
	Zero bool
	// Health: 'p' partial, 'r' refresh needed, 'm' mismatches, 'w'
	// writemostly, 'X' unknown, 'D' dead, 'F' failed, 'M' metadata read
	// only, 'E' dm-writecache error, '-' ok.
	Health byte
	// SkipActivation: the LV is skipped on normal activation.
	SkipActivation bool
}

// ParseLVAttr decodes an lv_attr string. lvm always prints ten characters;
// anything else is malformed.
func ParseLVAttr(s string) (LVAttr, error) {
	if len(s) != 10 {
		return LVAttr{Raw: s}, malformed("lv_attr", 0, "%q is %d characters, want 10", s, len(s))
	}
	return LVAttr{
		Raw: s, Type: s[0], Permissions: s[1], Allocation: s[2], FixedMinor: s[3] == 'm',
		State: s[4], Open: s[5], Target: s[6], Zero: s[7] == 'z', Health: s[8], SkipActivation: s[9] == 'k',
	}, nil
}

// String rebuilds the ten characters.
func (a LVAttr) String() string {
	flag := func(b bool, c byte) byte {
		if b {
			return c
		}
		return '-'
	}
	return fmt.Sprintf("%c%c%c%c%c%c%c%c%c%c", a.Type, a.Permissions, a.Allocation, flag(a.FixedMinor, 'm'),
		a.State, a.Open, a.Target, flag(a.Zero, 'z'), a.Health, flag(a.SkipActivation, 'k'))
}

// Active reports the LV is active; false also when unknown (StateKnown).
func (a LVAttr) Active() bool     { return a.State == 'a' }
func (a LVAttr) StateKnown() bool { return a.State != 'X' }
func (a LVAttr) IsOpen() bool     { return a.Open == 'o' }
func (a LVAttr) Writeable() bool  { return a.Permissions == 'w' }
func (a LVAttr) ThinPool() bool   { return a.Type == 't' }
func (a LVAttr) Thin() bool       { return a.Type == 'V' }
func (a LVAttr) Snapshot() bool   { return a.Type == 's' || a.Type == 'S' }

// RAID reports a raid LV ('r', or 'R' created without initial sync).
func (a LVAttr) RAID() bool { return a.Type == 'r' || a.Type == 'R' }

// Cached reports an LV with a cache attached ('C').
func (a LVAttr) Cached() bool { return a.Type == 'C' }
