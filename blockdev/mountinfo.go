package blockdev

import (
	"fmt"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
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
// a space, \011 a tab, \012 a newline, \134 a backslash).
func ParseMountInfoLine(line string) (MountInfo, error) {
	var m MountInfo
	f := strings.Fields(line)
	sep := -1
	for i := 6; i < len(f); i++ {
		if f[i] == "-" {
			sep = i
			break
		}
	}
	if len(f) < 7 || sep < 0 || len(f) < sep+3 {
		return m, fmt.Errorf("%w: mountinfo line %q", ErrSyntax, line)
	}
	if _, err := fmt.Sscan(f[0], &m.ID); err != nil {
		return m, fmt.Errorf("%w: mount id in %q", ErrSyntax, line)
	}
	if _, err := fmt.Sscan(f[1], &m.ParentID); err != nil {
		return m, fmt.Errorf("%w: parent id in %q", ErrSyntax, line)
	}
	mm, err := ParseMajMin(f[2])
	if err != nil {
		return m, err
	}
	m.MajMin = mm
	m.Root = unescapeOctal(f[3])
	m.MountPoint = unescapeOctal(f[4])
	m.Options = f[5]
	if sep > 6 {
		m.Optional = f[6:sep]
	}
	m.FSType = unescapeOctal(f[sep+1])
	m.Source = unescapeOctal(f[sep+2])
	if len(f) > sep+3 {
		m.SuperOptions = f[sep+3]
	}
	return m, nil
}

// unescapeOctal decodes the kernel's \ooo escapes of mount paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			if v := int(s[i+1]-'0')<<6 | int(s[i+2]-'0')<<3 | int(s[i+3]-'0'); v < 256 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// mounts attaches mountinfo entries to devices by major:minor. Filesystems
// that report an anonymous device number (btrfs: 0:N) are matched by their
// source node instead, as lsblk does.
func (x *discovery) mounts() {
	path := x.root.Proc("self", "mountinfo")
	data, err := sysfs.ReadFile(path)
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
