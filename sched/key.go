package sched

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Key names a resource in the hierarchy that conflicts are computed on.
// A key is a path of segments from the root of its tree, for example
// "disk:8:0/part:1/fs". A key overlaps another when one is an ancestor of, or
// equal to, the other; that is the only relation the lock table needs, so a
// Key is a plain comparable value usable as a map key.
//
// Segment names are escaped so that a name containing '/' (a mountpoint, for
// example) cannot forge a deeper path: Disk("a/part:1") is not the same key
// as Disk("a").Partition(1).
type Key struct {
	path string
}

// Segment kinds used by the constructors. They are exported so that callers
// building keys with Child use the same spelling.
const (
	KindDisk       = "disk"
	KindPartition  = "part"
	KindFilesystem = "fs"
	KindMount      = "mount"
	KindVG         = "vg"
	KindLV         = "lv"
	KindGlobal     = "global"
)

// Disk is the key of a whole block device, by its "major:minor" number.
// Keying by device number rather than name follows the library's rule that
// names are not identities.
func Disk(majMin string) Key { return Root(KindDisk, majMin) }

// VG is the key of an LVM volume group; its logical volumes are below it.
func VG(name string) Key { return Root(KindVG, name) }

// Global is the key of a class of work that must never run concurrently with
// itself, such as "devicemapper" table changes or "udev-settle".
func Global(class string) Key { return Root(KindGlobal, class) }

// KindDir is a path component in the MountPath tree.
const KindDir = "dir"

// MountPath is the key of the directory path in the tree of mountpoints,
// which belongs to no device: one segment per cleaned path component below
// a "mounts" root. So whatever is mounted there, claims on /srv and on
// /srv/data overlap (mounting /srv hides or is needed by /srv/data) while
// /srv and /var do not, and two devices mounted at one path conflict. A
// relative path is taken as given, below its own root component.
func MountPath(path string) Key {
	k := Root(KindMount, "")
	for _, c := range strings.Split(cleanPath(path), "/") {
		if c != "" {
			k = k.Child(KindDir, c)
		}
	}
	return k
}

// cleanPath is path.Clean without importing it for one call.
func cleanPath(p string) string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return strings.Join(out, "/")
}

// Root returns a top-level key of any kind.
func Root(kind, name string) Key {
	return Key{path: segment(kind, name)}
}

// Child returns the key one level below k.
func (k Key) Child(kind, name string) Key {
	if k.path == "" {
		return Root(kind, name)
	}
	return Key{path: k.path + "/" + segment(kind, name)}
}

// Partition is the key of partition number n of the disk k.
func (k Key) Partition(n int) Key { return k.Child(KindPartition, strconv.Itoa(n)) }

// Filesystem is the key of the filesystem on k (a disk, partition or LV).
func (k Key) Filesystem() Key { return k.Child(KindFilesystem, "") }

// Mount is the key of the mountpoint at path of the filesystem k.
func (k Key) Mount(path string) Key { return k.Child(KindMount, path) }

// LV is the key of logical volume name inside the volume group k.
func (k Key) LV(name string) Key { return k.Child(KindLV, name) }

// IsZero reports whether k is the zero Key, which names nothing and is
// rejected by Plan.Validate.
func (k Key) IsZero() bool { return k.path == "" }

// String returns the escaped path form that ParseKey accepts.
func (k Key) String() string { return k.path }

// Parent returns the key one level up, and false at the top of the tree.
func (k Key) Parent() (Key, bool) {
	i := strings.LastIndexByte(k.path, '/')
	if i < 0 {
		return Key{}, false
	}
	return Key{path: k.path[:i]}, true
}

// Contains reports whether other is k itself or lies below k.
func (k Key) Contains(other Key) bool {
	if k.path == "" || other.path == "" {
		return false
	}
	return other.path == k.path ||
		(len(other.path) > len(k.path) && other.path[len(k.path)] == '/' && strings.HasPrefix(other.path, k.path))
}

// Overlaps reports whether one of k and other contains the other: only
// overlapping keys can conflict.
func (k Key) Overlaps(other Key) bool { return k.Contains(other) || other.Contains(k) }

// Shared returns a shared claim on k.
func (k Key) Shared() Resource { return Resource{Key: k, Mode: Shared} }

// Exclusive returns an exclusive claim on k.
func (k Key) Exclusive() Resource { return Resource{Key: k, Mode: Exclusive} }

// ParseKey parses the String form of a key. It is strict: every segment must
// be non-empty and every '%' must start a valid escape, so that
// ParseKey(k.String()) == k and no two spellings name one key.
func ParseKey(s string) (Key, error) {
	if s == "" {
		return Key{}, fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	for seg := range strings.SplitSeq(s, "/") {
		if err := validSegment(seg); err != nil {
			return Key{}, fmt.Errorf("%w: %q: %v", ErrInvalidKey, s, err)
		}
	}
	return Key{path: s}, nil
}

// Mode is how a resource is claimed.
type Mode uint8

const (
	// Shared claims may be held together on overlapping keys.
	Shared Mode = iota + 1
	// Exclusive claims conflict with every claim on an overlapping key.
	Exclusive
)

func (m Mode) String() string {
	switch m {
	case Shared:
		return "shared"
	case Exclusive:
		return "exclusive"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Resource is one claim an operation makes: a key and a mode.
type Resource struct {
	Key  Key
	Mode Mode
}

func (r Resource) String() string { return r.Mode.String() + " " + r.Key.String() }

// Conflicts reports whether r and o may not be held at the same time: their
// keys overlap and at least one of them is exclusive. The rule is symmetric
// on purpose: a shared claim on a disk (reading its table, say) must also
// keep out an exclusive claim on one of its partitions, which changes the
// disk's contents.
func (r Resource) Conflicts(o Resource) bool {
	return (r.Mode == Exclusive || o.Mode == Exclusive) && r.Key.Overlaps(o.Key)
}

// segment escapes '%' and '/' in both halves; kind and name are joined by
// ':' unescaped because only '/' separates levels.
func segment(kind, name string) string {
	if name == "" {
		return escape(kind)
	}
	return escape(kind) + ":" + escape(name)
}

func escape(s string) string {
	if !strings.ContainsAny(s, "%/") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			b.WriteString("%25")
		case '/':
			b.WriteString("%2F")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// validSegment accepts exactly what escape produces: no '/', and '%' only in
// "%25" or "%2F".
func validSegment(seg string) error {
	if seg == "" {
		return errors.New("empty segment")
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] != '%' {
			continue
		}
		if i+3 > len(seg) || (seg[i+1:i+3] != "25" && seg[i+1:i+3] != "2F") {
			return fmt.Errorf("bad escape at byte %d of %q", i, seg)
		}
		i += 2
	}
	return nil
}
