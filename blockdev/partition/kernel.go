package partition

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/blkpg"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// KernelPartition is a partition as the kernel knows it, in 512-byte units
// (the unit of sysfs and BLKPG's byte offsets divided by 512).
type KernelPartition struct {
	Number int
	Name   string // e.g. "loop0p1"
	Path   string // its node under the system root's /dev
	Start  uint64 // 512-byte sectors
	Size   uint64 // 512-byte sectors
}

// KernelChange is one BLKPG call SyncKernel made (or would make).
type KernelChange struct {
	Op        string // "add", "delete", "resize"
	Partition int
	Start     uint64 // 512-byte sectors
	Size      uint64 // 512-byte sectors
}

func (c KernelChange) String() string {
	return fmt.Sprintf("%s partition %d (start %d, %d sectors of 512 bytes)", c.Op, c.Partition, c.Start, c.Size)
}

// sysDir is the sysfs directory of the whole disk, found by device number
// (never by name).
func (d *Disk) sysDir() (string, error) {
	if !d.block || d.file == nil {
		return "", fmt.Errorf("%w: %s is not a block device", ErrNotSupported, d.path)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(d.file.Fd()), &st); err != nil {
		return "", os.NewSyscallError("fstat", err)
	}
	link := d.cfg.root.Sys("dev", "block", fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)))
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		return "", fmt.Errorf("partition: %s: %w", link, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		return "", fmt.Errorf("%w: %s is a partition, not a whole disk", ErrInvalidArgument, d.path)
	}
	return dir, nil
}

// KernelPartitions lists the partitions the kernel currently has for the disk.
func (d *Disk) KernelPartitions(ctx context.Context) ([]KernelPartition, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir, err := d.sysDir()
	if err != nil {
		return nil, err
	}
	kp, err := kernelPartitions(dir)
	for i := range kp {
		kp[i].Path = d.cfg.root.Dev(kp[i].Name)
	}
	return kp, err
}

func kernelPartitions(dir string) ([]KernelPartition, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []KernelPartition
	for _, e := range ents {
		pdir := filepath.Join(dir, e.Name())
		num, err := sysfs.ReadAttr(filepath.Join(pdir, "partition"))
		if err != nil {
			continue // not a partition directory
		}
		kp := KernelPartition{Name: e.Name()}
		var errs [3]error
		var n, start, size uint64
		n, errs[0] = strconv.ParseUint(num, 10, 32)
		start, errs[1] = readUint(filepath.Join(pdir, "start"))
		size, errs[2] = readUint(filepath.Join(pdir, "size"))
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("partition: %s: %w", pdir, err)
		}
		kp.Number, kp.Start, kp.Size = int(n), start, size
		out = append(out, kp)
	}
	slices.SortFunc(out, func(a, b KernelPartition) int { return a.Number - b.Number })
	return out, nil
}

func readUint(p string) (uint64, error) {
	s, err := sysfs.ReadAttr(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(s, 10, 64)
}

// wanted is t's partitions in the kernel's 512-byte units. A dos extended
// partition is registered the way the kernel's own msdos parser does: its
// first sector(s) only, so nothing can open the logical space through it.
func wanted(t *Table) map[int]KernelPartition {
	ss := uint64(t.SectorSize)
	out := map[int]KernelPartition{}
	for _, p := range t.Partitions {
		kp := KernelPartition{Number: p.Number, Start: p.Start * ss / 512, Size: p.Size * ss / 512}
		if t.Label == LabelDOS && isExtended(p.MBRType) && !p.Logical() {
			kp.Size = min(kp.Size, max(ss/512, 2))
		}
		out[p.Number] = kp
	}
	return out
}

// KernelPlan returns the BLKPG calls that bring the kernel in line with t:
// deletions first, then shrinks, then grows, then additions, so space is
// freed before it is taken. Unchanged partitions do not appear.
func (d *Disk) KernelPlan(ctx context.Context, t *Table) ([]KernelChange, error) {
	have, err := d.KernelPartitions(ctx)
	if err != nil {
		return nil, err
	}
	return kernelPlan(have, wanted(t)), nil
}

func kernelPlan(have []KernelPartition, want map[int]KernelPartition) []KernelChange {
	var del, shrink, grow, add []KernelChange
	seen := map[int]bool{}
	for _, h := range have {
		seen[h.Number] = true
		w, ok := want[h.Number]
		switch {
		case !ok:
			del = append(del, KernelChange{"delete", h.Number, h.Start, h.Size})
		case w.Start != h.Start:
			del = append(del, KernelChange{"delete", h.Number, h.Start, h.Size})
			add = append(add, KernelChange{"add", w.Number, w.Start, w.Size})
		case w.Size < h.Size:
			shrink = append(shrink, KernelChange{"resize", w.Number, w.Start, w.Size})
		case w.Size > h.Size:
			grow = append(grow, KernelChange{"resize", w.Number, w.Start, w.Size})
		}
	}
	for n, w := range want {
		if !seen[n] {
			add = append(add, KernelChange{"add", n, w.Start, w.Size})
		}
	}
	slices.SortFunc(add, func(a, b KernelChange) int { return a.Partition - b.Partition })
	out := append(del, shrink...)
	out = append(out, grow...)
	return append(out, add...)
}

// partitionInUse reports whether the kernel has the partition open for a
// mount, swap, a holder (dm, md) or another exclusive opener: an O_EXCL open
// of a block device fails with EBUSY exactly then.
func (d *Disk) partitionInUse(name string) (bool, error) {
	f, err := os.OpenFile(d.cfg.root.Dev(name), os.O_RDONLY|unix.O_EXCL|unix.O_CLOEXEC, 0)
	if err == nil {
		f.Close()
		return false, nil
	}
	if errors.Is(err, unix.EBUSY) {
		return true, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		// No node (no devtmpfs entry yet): fall back to sysfs holders.
		dir, derr := d.sysDir()
		if derr != nil {
			return false, derr
		}
		ents, _ := os.ReadDir(filepath.Join(dir, name, "holders"))
		return len(ents) > 0, nil
	}
	return false, err
}

// SyncKernel tells the kernel about t with one BLKPG call per changed
// partition; partitions that did not change are not touched, so a mounted
// partition stays mounted while its neighbours change. Before any call it
// checks that no partition it must delete, move or resize is in use, and
// fails with a KernelError (ErrKernelNotUpdated and ErrBusy) if one is.
func (d *Disk) SyncKernel(ctx context.Context, t *Table) ([]KernelChange, error) {
	dir, err := d.sysDir()
	if err != nil {
		return nil, err
	}
	have, err := kernelPartitions(dir)
	if err != nil {
		return nil, err
	}
	// The kernel refuses an overlapping or impossible add only when it
	// gets there, after the deletes before it: check the whole table first.
	if probs := kernelLayoutProblems(t, d.geo.Sectors()); len(probs) > 0 {
		return nil, &LayoutError{Problems: probs}
	}
	plan := kernelPlan(have, wanted(t))
	names := map[int]string{}
	for _, h := range have {
		names[h.Number] = h.Name
	}
	for _, c := range plan {
		if c.Op == "add" {
			continue
		}
		busy, err := d.partitionInUse(names[c.Partition])
		if err != nil {
			return nil, err
		}
		if busy {
			return nil, &KernelError{Op: c.Op, Partition: c.Partition, Err: ErrBusy,
				Advice: fmt.Sprintf("%s is in use (mounted, swap or held); unmount or release it, then run `partx -u %s`, or reboot", names[c.Partition], d.path)}
		}
	}
	fd := d.file.Fd()
	var done []KernelChange
	for _, c := range plan {
		if err := ctx.Err(); err != nil {
			return done, &KernelError{Op: c.Op, Partition: c.Partition, Err: err, Advice: fmt.Sprintf("run `partx -u %s` to finish", d.path)}
		}
		start, size := int64(c.Start)*512, int64(c.Size)*512
		switch c.Op {
		case "delete":
			err = blkpg.Delete(fd, c.Partition)
		case "resize":
			err = blkpg.Resize(fd, c.Partition, start, size)
		case "add":
			err = blkpg.Add(fd, c.Partition, start, size)
		}
		if err != nil {
			advice := fmt.Sprintf("the table on disk is written; run `partx -u %s` or reboot to load it", d.path)
			if errors.Is(err, unix.EBUSY) {
				advice = "the partition is in use or overlaps one in use; release it, then " + advice
				err = errors.Join(ErrBusy, err)
			}
			return done, &KernelError{Op: c.Op, Partition: c.Partition, Err: err, Advice: advice}
		}
		d.cfg.log.Info("kernel partition updated", "path", d.path, "change", c.String())
		done = append(done, c)
	}
	return done, nil
}

// Reread asks the kernel to re-read the whole table (BLKRRPART), but only
// when no partition of the disk is in use; otherwise ErrBusy. Kernels built
// without table parsers answer BLKRRPART by dropping every partition, so
// Reread then checks the kernel's view against t and adds what is missing
// with BLKPG.
func (d *Disk) Reread(ctx context.Context, t *Table) error {
	dir, err := d.sysDir()
	if err != nil {
		return err
	}
	have, err := kernelPartitions(dir)
	if err != nil {
		return err
	}
	var busy []string
	for _, h := range have {
		in, err := d.partitionInUse(h.Name)
		if err != nil {
			return err
		}
		if in {
			busy = append(busy, h.Name)
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("%w: %s in use, not re-reading the whole table (SyncKernel changes only what changed)", ErrBusy, strings.Join(busy, ", "))
	}
	if err := blkpg.RereadPartitions(d.file.Fd()); err != nil && !errors.Is(err, unix.EINVAL) {
		// EINVAL: a device that does not scan partitions (a loop device
		// without partscan); BLKPG below still works on it.
		return &KernelError{Op: "reread", Err: err, Advice: fmt.Sprintf("run `partx -u %s` or reboot", d.path)}
	}
	_, err = d.SyncKernel(ctx, t)
	return err
}

// kernelLayoutProblems is what would make a BLKPG call of SyncKernel fail
// half way: partitions that overlap, have no sectors or end past the disk.
func kernelLayoutProblems(t *Table, sectors uint64) []Problem {
	probs := overlaps(t)
	for _, p := range t.Partitions {
		if p.Size == 0 || p.Start+p.Size < p.Start || p.End() >= sectors {
			probs = append(probs, Problem{Kind: ErrOutsideUsable, Partitions: []int{p.Number},
				Detail: fmt.Sprintf("partition %d (start %d, %d sectors) is empty or outside the disk of %d sectors", p.Number, p.Start, p.Size, sectors)})
		}
	}
	return probs
}
