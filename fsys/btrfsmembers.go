package fsys

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
)

// btrfsMembers finds the other block devices of dev's multi-device btrfs
// by their superblocks: each member carries the filesystem's fsid and the
// count of devices. The kernel learns of a member only from a scan (udev
// runs `btrfs device scan` for each new device; without udev nothing does),
// so a mount of one member of an unscanned filesystem fails with ENOENT
// unless the others are named with device= options, which is what the
// answer is for. Devices that cannot be opened or hold no btrfs are passed
// over; the answer is sorted and never includes dev.
func (m *Manager) btrfsMembers(dev string) ([]string, error) {
	f, size, err := openDev(m.root.Path(dev))
	if err != nil {
		return nil, err
	}
	sb, err := superblock.ReadBtrfs(f, size)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("fsys: %s: %w", dev, err)
	}
	if sb.NumDevices <= 1 {
		return nil, nil
	}
	ents, err := os.ReadDir(m.root.Sys("class", "block"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("fsys: listing block devices: %w", err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		path := "/dev/" + name
		if path == dev || strings.ContainsAny(name, "/") {
			continue
		}
		g, gsize, err := openDev(m.root.Path(path))
		if err != nil {
			continue // no node, no permission, a drive with no medium
		}
		x, err := superblock.ReadBtrfs(g, gsize)
		g.Close()
		if err != nil || x.FSID != sb.FSID {
			continue
		}
		out = append(out, path)
	}
	sort.Strings(out)
	return out, nil
}

// btrfsDeviceOptions is the mount data naming each other member.
func btrfsDeviceOptions(members []string) string {
	opts := make([]string, len(members))
	for i, d := range members {
		opts[i] = "device=" + d
	}
	return strings.Join(opts, ",")
}
