package blockdev

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// swaps marks active swap devices from /proc/swaps. On the live system the
// node is stat'ed so /dev/mapper names and other aliases match by number;
// in a fake tree the name is matched.
func (x *discovery) swaps() {
	path := x.root.Proc("swaps")
	data, err := x.procFile(path, true)
	x.opens++
	if err != nil {
		// The kernel has no /proc/swaps without CONFIG_SWAP: then there
		// is no swap. Any other failure leaves swap unknown.
		if !errors.Is(err, fs.ErrNotExist) {
			x.cfg.log.Debug("swaps unreadable", "path", path, "err", err)
			x.g.addErr(ErrSwaps, fmt.Errorf("%w: %w", ErrSwaps, err))
		}
		return
	}
	lines := strings.Split(string(data), "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != "partition" {
			continue // swap files are not block devices
		}
		name := mountinfo.Unescape(f[0])
		if x.root.IsLive() {
			var st unix.Stat_t
			if unix.Stat(name, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
				if d, ok := x.g.devs[MajMin{unix.Major(st.Rdev), unix.Minor(st.Rdev)}]; ok {
					d.Swap = d.Swap || x.isFresh(d)
					continue
				}
			}
		}
		if d, ok := x.g.ByPath(name); ok && x.isFresh(d) {
			d.Swap = true
		}
	}
}

// usage fills FSUsage from statfs of each mounted device's first mountpoint.
func (x *discovery) usage() {
	for _, d := range x.g.devs {
		if len(d.Mounts) == 0 || !x.isFresh(d) {
			continue
		}
		var st unix.Statfs_t
		if err := unix.Statfs(d.Mounts[0].MountPoint, &st); err != nil {
			d.addErr("statfs "+d.Mounts[0].MountPoint, os.NewSyscallError("statfs", err))
			continue
		}
		bs := uint64(st.Frsize)
		if bs == 0 {
			bs = uint64(st.Bsize)
		}
		d.FSUsage = &FSUsage{
			Size:  st.Blocks * bs,
			Used:  (st.Blocks - st.Bfree) * bs,
			Avail: st.Bavail * bs,
		}
	}
}
