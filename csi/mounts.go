package csi

import (
	"bufio"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
)

// mountAt returns the mountinfo entry whose mountpoint is target (the last,
// the one visible), if any. The node's published state is read from here,
// never remembered, so a restarted driver sees what the kernel has.
func (d *Driver) mountAt(target string) (*mountinfo.Entry, error) {
	f, err := os.Open(d.root.Proc("self", "mountinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	clean := filepath.Clean(target)
	if r, err := filepath.EvalSymlinks(clean); err == nil {
		clean = r
	}
	var found *mountinfo.Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e, err := mountinfo.ParseLine(sc.Text())
		if err != nil {
			continue
		}
		if e.MountPoint == clean {
			found = &e
		}
	}
	return found, sc.Err()
}

// devNumber returns a block device's major and minor.
func devNumber(dev string) (uint32, uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		return 0, 0, os.NewSyscallError("stat "+dev, err)
	}
	return unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)), nil
}

// isMountOf says whether e mounts dev: its filesystem (same major:minor),
// or the device node itself bind-mounted (a block volume).
func isMountOf(e *mountinfo.Entry, dev string) bool {
	maj, min, err := devNumber(dev)
	if err != nil {
		return false
	}
	if e.Major == maj && e.Minor == min {
		return true
	}
	// A bind of a /dev node: mountinfo shows devtmpfs and the node's path
	// within it.
	return e.FSType == "devtmpfs" && (e.Root == "/"+filepath.Base(dev))
}
