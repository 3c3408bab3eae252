package csi

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// maxStackDepth bounds the walk from a volume down to its drives: a real
// stack (LV on a dm-crypt on an md on partitions, a loop file on that) is a
// handful deep; a broken or hostile tree must not make it endless.
const maxStackDepth = 16

// driveWalker finds the whole disks a volume's data lives on, from sysfs
// alone: a partition's disk (the parent directory of an entry with a
// "partition" attribute), a stacked device's slaves/ (device-mapper LVs,
// md, dm-crypt), a loop device's backing file's filesystem (its st_dev, or
// for a filesystem with an anonymous device number such as btrfs, the
// block device mountinfo names for that number). A file on a filesystem
// with no block device (tmpfs, zfs datasets, overlay) has no drive: that
// is a note, not an error.
type driveWalker struct {
	root sysfs.Root
	// statDev returns the device number of the filesystem holding path
	// (stat's st_dev); tests replace it, the fake tree's files being on
	// whatever filesystem the test runs on.
	statDev func(path string) (major, minor uint32, err error)
}

// drivesFound is the walk's answer: whole disks by /dev path, sorted, and
// why parts of the stack end without one.
type drivesFound struct {
	drives []string
	notes  []string
}

func (f *drivesFound) addDrive(dev string) {
	if !slices.Contains(f.drives, dev) {
		f.drives = append(f.drives, dev)
	}
}

func (f *drivesFound) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(f.notes, n) {
		f.notes = append(f.notes, n)
	}
}

func fileStatDev(path string) (uint32, uint32, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, os.NewSyscallError("stat "+path, err)
	}
	return unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), nil
}

func (w *driveWalker) stat(path string) (uint32, uint32, error) {
	if w.statDev != nil {
		return w.statDev(path)
	}
	return fileStatDev(path)
}

// underDevice walks from a block device path (/dev/loop3, /dev/vg/lv).
func (w *driveWalker) underDevice(dev string) drivesFound {
	var f drivesFound
	dir, err := w.sysDirOf(dev)
	if err != nil {
		f.note("%s: %v", dev, err)
		return f
	}
	w.walk(&f, dir, 0)
	slices.Sort(f.drives)
	return f
}

// underPath walks from a file or directory (a directory volume's path).
func (w *driveWalker) underPath(path string) drivesFound {
	var f drivesFound
	w.file(&f, path, 0)
	slices.Sort(f.drives)
	return f
}

// sysDirOf resolves dev's /sys/class/block entry: by major:minor when the
// node is a block device, else by the name the node (or its link) has.
func (w *driveWalker) sysDirOf(dev string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(w.root.Path(dev), &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		p := w.root.Sys("dev", "block", fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))))
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r, nil
		}
	}
	name := filepath.Base(dev)
	if r, err := filepath.EvalSymlinks(w.root.Path(dev)); err == nil {
		name = filepath.Base(r)
	}
	r, err := filepath.EvalSymlinks(w.root.Sys("class", "block", name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("no block device %s in sysfs", name)
		}
		return "", err
	}
	return r, nil
}

func (w *driveWalker) walk(f *drivesFound, dir string, depth int) {
	name := filepath.Base(dir)
	if depth > maxStackDepth {
		f.note("%s: device stack deeper than %d", name, maxStackDepth)
		return
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		w.walk(f, filepath.Dir(dir), depth+1)
		return
	}
	if d, err := sysfs.OpenDir(filepath.Join(dir, "slaves")); err == nil {
		names, err := d.Names()
		d.Close()
		if err != nil {
			f.note("%s: slaves: %v", name, err)
			return
		}
		if len(names) > 0 {
			slices.Sort(names)
			for _, n := range names {
				r, err := filepath.EvalSymlinks(w.root.Sys("class", "block", n))
				if err != nil {
					f.note("%s: slave %s: %v", name, n, err)
					continue
				}
				w.walk(f, r, depth+1)
			}
			return
		}
	}
	if bf, err := sysfs.ReadAttr(filepath.Join(dir, "loop", "backing_file")); err == nil && bf != "" {
		w.file(f, strings.TrimSuffix(bf, " (deleted)"), depth+1)
		return
	}
	// A whole disk with nothing below it: the drive (SMART says whether it
	// has any health to report: loop, zram, virtio-blk do not).
	f.addDrive("/dev/" + name)
}

// file walks from the filesystem holding path to its block device.
func (w *driveWalker) file(f *drivesFound, path string, depth int) {
	maj, min, err := w.stat(w.root.Path(path))
	if err != nil {
		f.note("%s: %v", path, err)
		return
	}
	if r, err := filepath.EvalSymlinks(w.root.Sys("dev", "block", fmt.Sprintf("%d:%d", maj, min))); err == nil {
		w.walk(f, r, depth+1)
		return
	}
	// An anonymous device number (btrfs, and filesystems with no device):
	// mountinfo names the source mounted with that number.
	e, err := w.mountWithDev(maj, min)
	if err != nil {
		f.note("%s: mountinfo: %v", path, err)
		return
	}
	if e == nil {
		f.note("%s is on device %d:%d, which is no block device", path, maj, min)
		return
	}
	if !strings.HasPrefix(e.Source, "/dev/") {
		on := e.FSType
		if e.Source != "" && e.Source != e.FSType {
			on += " " + e.Source
		}
		f.note("%s is on %s, which has no block device", path, on)
		return
	}
	dir, err := w.sysDirOf(e.Source)
	if err != nil {
		f.note("%s is on %s: %v", path, e.Source, err)
		return
	}
	w.walk(f, dir, depth+1)
}

func (w *driveWalker) mountWithDev(maj, min uint32) (*mountinfo.Entry, error) {
	var found *mountinfo.Entry
	err := scanMountinfo(w.root, func(e *mountinfo.Entry) {
		if found == nil && e.Major == maj && e.Minor == min {
			c := *e
			found = &c
		}
	})
	return found, err
}

// scanMountinfo calls fn for each parsable line of /proc/self/mountinfo
// under root.
func scanMountinfo(root sysfs.Root, fn func(*mountinfo.Entry)) error {
	fh, err := os.Open(root.Proc("self", "mountinfo"))
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		e, err := mountinfo.ParseLine(sc.Text())
		if err != nil {
			continue
		}
		fn(&e)
	}
	return sc.Err()
}
