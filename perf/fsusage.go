package perf

import (
	"bufio"
	"bytes"
	"context"
	"os"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// FSUsage is the space and inode usage of one mounted block-device
// filesystem, from statfs(2).
type FSUsage struct {
	Source       string // mount source, e.g. /dev/vda1
	MountPoint   string // as the system sees it (not prefixed by the root)
	FSType       string
	Major, Minor uint32
	BlockSize    uint64
	SizeBytes    uint64
	FreeBytes    uint64 // free, including blocks reserved for root
	AvailBytes   uint64 // free to unprivileged users
	Files        uint64
	FilesFree    uint64
}

// UsedBytes is SizeBytes - FreeBytes.
func (u *FSUsage) UsedBytes() uint64 { return u.SizeBytes - u.FreeBytes }

// FilesystemCollector is a Collector that reports statfs of every mounted
// filesystem backed by a block device (major number != 0), once per device
// even when it is mounted several times (bind mounts). Pseudo and network
// filesystems are skipped: they have no block device to join with diskstats
// and a network statfs can hang.
type FilesystemCollector struct {
	root sysfs.Root
}

// NewFilesystemCollector returns a collector reading mountinfo under
// rootDir ("" for the live system).
func NewFilesystemCollector(rootDir string) (*FilesystemCollector, error) {
	root, err := newRoot(rootDir)
	if err != nil {
		return nil, err
	}
	return &FilesystemCollector{root: root}, nil
}

// Name implements Collector.
func (c *FilesystemCollector) Name() string { return "filesystem" }

// Collect implements Collector.
func (c *FilesystemCollector) Collect(ctx context.Context, s *Snapshot) error {
	data, err := os.ReadFile(c.root.Proc("self", "mountinfo"))
	if err != nil {
		return err
	}
	seen := map[[2]uint32]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		u, ok := parseMountinfo(sc.Text())
		if !ok || u.Major == 0 || seen[[2]uint32{u.Major, u.Minor}] {
			continue
		}
		var st unix.Statfs_t
		if err := unix.Statfs(c.root.Path(u.MountPoint), &st); err != nil {
			continue // unmounted meanwhile, or not visible under this root
		}
		seen[[2]uint32{u.Major, u.Minor}] = true
		bs := uint64(st.Bsize)
		if st.Frsize > 0 {
			bs = uint64(st.Frsize)
		}
		u.BlockSize = bs
		u.SizeBytes = st.Blocks * bs
		u.FreeBytes = st.Bfree * bs
		u.AvailBytes = st.Bavail * bs
		u.Files, u.FilesFree = st.Files, st.Ffree
		s.Filesystems = append(s.Filesystems, u)
	}
	return sc.Err()
}

// parseMountinfo reads the fields filesystem usage needs from one
// /proc/self/mountinfo line; false for a line that does not parse.
func parseMountinfo(line string) (FSUsage, bool) {
	e, err := mountinfo.ParseLine(line)
	if err != nil {
		return FSUsage{}, false
	}
	return FSUsage{Major: e.Major, Minor: e.Minor, MountPoint: e.MountPoint, FSType: e.FSType, Source: e.Source}, true
}
