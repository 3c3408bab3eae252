package blockdev

import (
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// MountInfo is one line of /proc/<pid>/mountinfo (proc(5)).
type MountInfo struct {
	ID, ParentID int
	MajMin       MajMin
	Root         string
	MountPoint   string
	Options      string
	Optional     []string // shared:N, master:N, propagate_from:N, unbindable
	FSType       string
	Source       string
	SuperOptions string
}

// ParseMountInfoLine parses one mountinfo line. Paths are unescaped (\040 is
// a space, \011 a tab, \012 a newline, \134 a backslash). Errors match
// ErrSyntax.
func ParseMountInfoLine(line string) (MountInfo, error) {
	e, err := mountinfo.ParseLine(line)
	if err != nil {
		return MountInfo{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return MountInfo{
		ID: e.ID, ParentID: e.ParentID, MajMin: MajMin{Major: e.Major, Minor: e.Minor},
		Root: e.Root, MountPoint: e.MountPoint, Options: e.Options, Optional: e.Optional,
		FSType: e.FSType, Source: e.Source, SuperOptions: e.SuperOptions,
	}, nil
}

// mounts attaches mountinfo entries to devices by major:minor. Filesystems
// that report an anonymous device number (btrfs: 0:N) are matched by their
// source node instead, as lsblk does.
func (x *discovery) mounts() {
	path := x.root.Proc("self", "mountinfo")
	data, err := x.procFile(path, false)
	x.opens++
	if err != nil {
		// Missing or unreadable alike: without the table no device is
		// known to be unmounted, so the graph says so (principle 4).
		x.cfg.log.Debug("mountinfo unreadable", "path", path, "err", err)
		x.g.addErr(ErrMounts, fmt.Errorf("%w: %w", ErrMounts, err))
		return
	}
	// The file is in memory already: a line iterator costs nothing, where a
	// bufio.Scanner allocated a 64 KiB buffer per Discover (40% of all
	// Discover allocated) and stopped at the first line longer than its limit.
	for line := range strings.Lines(string(data)) {
		if line == "\n" {
			continue
		}
		// Most mounts are of no block device (proc, sysfs, tmpfs, cgroup):
		// those are ruled out without the full parse, by the same test as
		// below (mountinfo.Peek accepts only lines that parse).
		if major, minor, source, ok := mountinfo.Peek(line); ok && !strings.HasPrefix(source, "/dev/") {
			if _, known := x.g.devs[MajMin{Major: major, Minor: minor}]; major == 0 || !known {
				continue
			}
		}
		mi, err := ParseMountInfoLine(line)
		if err != nil {
			// The line may be the mount of any device: the other lines
			// still count, but the table is not known to be complete.
			x.cfg.log.Debug("skipping mountinfo line", "err", err)
			x.g.addErr(ErrMounts, fmt.Errorf("%w: %s: %w", ErrMounts, path, err))
			continue
		}
		d, ok := x.g.devs[mi.MajMin]
		if !ok || mi.MajMin.Major == 0 {
			if !strings.HasPrefix(mi.Source, "/dev/") {
				continue
			}
			if d, ok = x.g.ByPath(mi.Source); !ok {
				continue
			}
		}
		if !x.isFresh(d) {
			continue
		}
		d.Mounts = append(d.Mounts, Mount{
			MountPoint: mi.MountPoint, Root: mi.Root, FSType: mi.FSType,
			Source: mi.Source, Options: mi.Options, SuperOpts: mi.SuperOptions,
		})
	}
}
