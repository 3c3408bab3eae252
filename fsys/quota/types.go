package quota

import (
	"fmt"
	"time"
)

// Kind is what a quota is kept for. User, Group and Project are the
// kernel's USRQUOTA, GRPQUOTA and PRJQUOTA (ext4, xfs); Subvolume is a
// btrfs level-0 qgroup (0/<subvolume id>).
type Kind int

const (
	User Kind = iota
	Group
	Project
	Subvolume
)

// String is "user", "group", "project" or "subvolume".
func (k Kind) String() string {
	switch k {
	case User:
		return "user"
	case Group:
		return "group"
	case Project:
		return "project"
	case Subvolume:
		return "subvolume"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText makes Kind print as its name in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a Kind's name (JSON).
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// ParseKind reads a Kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range []Kind{User, Group, Project, Subvolume} {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: quota kind %q (want user, group, project or subvolume)", ErrInvalid, s)
}

func (k Kind) valid() bool { return k >= User && k <= Subvolume }

// Limits are one id's limits; 0 is "no limit". Block limits are bytes:
// ext4 and xfs keep them in 1 KiB units, so SetLimits rounds a limit that
// is not a multiple of 1 KiB up to the next KiB.
type Limits struct {
	BlockSoft uint64 `json:"block_soft"`
	BlockHard uint64 `json:"block_hard"`
	InodeSoft uint64 `json:"inode_soft"`
	InodeHard uint64 `json:"inode_hard"`
}

// Usage is one id's usage and limits. Over* compare usage with the limits
// as the kernel does: over soft is usage above the soft limit, over hard is
// usage at or above the hard limit (the next allocation fails with EDQUOT).
type Usage struct {
	Kind   Kind   `json:"kind"`
	ID     uint64 `json:"id"`
	Bytes  uint64 `json:"bytes"`
	Inodes uint64 `json:"inodes"`
	Limits Limits `json:"limits"`
	// BlockGraceExpires and InodeGraceExpires are when the soft-limit
	// grace runs out (zero when not over the soft limit).
	BlockGraceExpires time.Time `json:"block_grace_expires"`
	InodeGraceExpires time.Time `json:"inode_grace_expires"`
	OverSoftBlocks    bool      `json:"over_soft_blocks"`
	OverHardBlocks    bool      `json:"over_hard_blocks"`
	OverSoftInodes    bool      `json:"over_soft_inodes"`
	OverHardInodes    bool      `json:"over_hard_inodes"`
}

// Grace is the time an id may stay over its soft limits before the soft
// limit is enforced as a hard one.
type Grace struct {
	Block time.Duration `json:"block"`
	Inode time.Duration `json:"inode"`
}

// zero tells whether the id has neither usage nor limits (the kernel and
// repquota leave such ids out).
func (u Usage) zero() bool { return u.Bytes == 0 && u.Inodes == 0 && u.Limits == Limits{} }

func (u *Usage) judge() {
	l := u.Limits
	u.OverSoftBlocks = l.BlockSoft > 0 && u.Bytes > l.BlockSoft
	u.OverHardBlocks = l.BlockHard > 0 && u.Bytes >= l.BlockHard
	u.OverSoftInodes = l.InodeSoft > 0 && u.Inodes > l.InodeSoft
	u.OverHardInodes = l.InodeHard > 0 && u.Inodes >= l.InodeHard
}
