package probe

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// Partition entries need a partition device for blkid to describe, so these
// tests attach the image to a loop device and add its partitions with
// partx -a (the host kernel parses no tables itself); testenv's cleanup
// deletes them and detaches.

func sysAttr(t *testing.T, dev, attr string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/class/block", filepath.Base(dev), attr))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func sysUint(t *testing.T, dev, attr string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(sysAttr(t, dev, attr), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkPartitions compares, for every partition of loop, our answer with
// blkid's: once through Path on the partition node and once through
// ReaderAt on the same byte range of the image file, both told the parent.
func checkPartitions(t *testing.T, img, loop string, parts []int, imgOpts ...Option) map[int]*Result {
	t.Helper()
	testenv.Run(t, "partx", "-a", loop)
	diskMM := sysAttr(t, loop, "dev")
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The table read once, for WithParentTable.
	tab, err := TablePath(context.Background(), loop)
	if err != nil || tab == nil {
		t.Fatalf("TablePath(%s): %+v %v", loop, tab, err)
	}
	out := map[int]*Result{}
	for _, n := range parts {
		node := fmt.Sprintf("%sp%d", loop, n)
		start, size := sysUint(t, node, "start"), sysUint(t, node, "size")
		got := compareWithBlkid(t, node, WithParent(loop, diskMM, start, size))
		if !got.HasPartEntry || got.PartEntryNumber != n {
			t.Errorf("%s: no or wrong partition entry: %+v", node, got)
		}
		// The same bytes from the image file, parent named by its path.
		sec := io.NewSectionReader(f, int64(start)*512, int64(size)*512)
		viaImg, err := ReaderAt(context.Background(), sec, int64(size)*512, append(imgOpts, WithParent(img, diskMM, start, size))...)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, viaImg); diff != "" {
			t.Errorf("%s: Path vs ReaderAt on the image (-path +image)\n%s", node, diff)
		}
		viaTable, err := Path(context.Background(), node, WithParentTable(tab, diskMM, start, size))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, viaTable); diff != "" {
			t.Errorf("%s: WithParent vs WithParentTable (-parent +table)\n%s", node, diff)
		}
		out[n] = got
	}
	return out
}

func TestDifferentialGPTPartitionsOnLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sgdisk", "partx", "mkfs.ext4", "mkswap", "blkid")
	img := sparseImage(t, "gpt.img", 64<<20)
	testenv.Run(t, "sgdisk",
		"-n1:2048:+16M", "-c1:root fs", "-t1:8300",
		"-n2:0:+8M", "-c2:swap", "-t2:8200", "-A2:set:0",
		"-n4:0:+4M", "-c4:Ünïcode \"q\"", "-t4:ef00", "-A4:set:60",
		img)
	// Filesystems go into the image at the partitions' offsets before the
	// loop device exists, so nothing writes through a partition node.
	mkfsAt(t, img, 2048, 16<<20, "mkfs.ext4", "-q", "-F", "-L", "inpart")
	loop := testenv.LoopFile(t, img)
	res := checkPartitions(t, img, loop, []int{1, 2, 4})
	if res[1].Type != "ext4" || res[1].PartEntryName != "root fs" || res[4].PartEntryFlags == 0 {
		t.Errorf("unexpected: p1 %+v p4 %+v", res[1], res[4])
	}
	compareWithBlkid(t, loop)
}

func TestDifferentialDOSPartitionsOnLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sfdisk", "partx", "mkfs.vfat", "blkid")
	img := sparseImage(t, "dos.img", 64<<20)
	table := "label: dos\nlabel-id: 0x1234abcd\n" +
		"start=2048,size=20480,type=c,bootable\n" +
		"start=22528,size=40000,type=5\n" +
		"start=24576,size=10000,type=82\n" +
		"start=36864,size=10000,type=83\n"
	runStdin(t, table, "sfdisk", "-q", img)
	mkfsAt(t, img, 2048, 20480*512, "mkfs.vfat", "-F", "16", "-n", "DOSPART")
	loop := testenv.LoopFile(t, img)
	res := checkPartitions(t, img, loop, []int{1, 2, 5, 6})
	if res[1].Type != "vfat" || res[1].PartEntryFlags != 0x80 || res[5].PartEntryUUID != "1234abcd-05" {
		t.Errorf("unexpected: p1 %+v p5 %+v", res[1], res[5])
	}
	compareWithBlkid(t, loop)
}

// TestDifferential4KSectorGPTOnLoop puts a GPT on a loop device with 4096-byte
// logical sectors: the header is at byte 4096, and blkid still reports
// PART_ENTRY_OFFSET and SIZE in 512-byte units. Path learns the sector size
// from the kernel; an image file needs WithSectorSize.
func TestDifferential4KSectorGPTOnLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sgdisk", "partx", "losetup", "blkid")
	img := sparseImage(t, "gpt4k.img", 64<<20)
	loop := testenv.LoopFile(t, img)
	testenv.Run(t, "losetup", "--sector-size", "4096", loop)
	if ssz := sysAttr(t, loop, "queue/logical_block_size"); ssz != "4096" {
		testenv.Skip(t, "loop device kept %s-byte sectors", ssz)
	}
	testenv.Run(t, "sgdisk", "-n1:0:+8M", "-c1:four k", "-n2:0:+8M", loop)
	compareWithBlkid(t, loop)
	res := checkPartitions(t, img, loop, []int{1, 2}, WithSectorSize(4096))
	if res[1].PartEntryName != "four k" {
		t.Errorf("p1 %+v", res[1])
	}
	// Read as 512-byte sectors, the image holds no GPT where one is looked for.
	if r, err := Path(context.Background(), img); err != nil || r.PTType == "gpt" {
		t.Errorf("image as 512-byte sectors: %+v %v", r, err)
	}
	if r, err := Path(context.Background(), img, WithSectorSize(4096)); err != nil || r.PTType != "gpt" {
		t.Errorf("image as 4096-byte sectors: %+v %v", r, err)
	}
}

func TestDifferentialLVMOnLoop(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "pvcreate", "pvremove", "blkid")
	loop := testenv.Loop(t, 16<<20)
	testenv.Run(t, "pvcreate", "-q", "-ff", "-y", "--devicesfile", "", loop)
	t.Cleanup(func() { _, _ = testenv.RunErr("pvremove", "-q", "-ff", "-y", "--devicesfile", "", loop) })
	if r := compareWithBlkid(t, loop); r.Type != "LVM2_member" {
		t.Errorf("got %+v", r)
	}
}

// mkfsAt builds a filesystem in a scratch file of size bytes and copies it
// into img at sector start.
func mkfsAt(t *testing.T, img string, start uint64, size int64, tool string, args ...string) {
	t.Helper()
	part := sparseImage(t, "part.img", size)
	testenv.Run(t, tool, append(args, part)...)
	src, err := os.Open(part)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(img, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(io.NewOffsetWriter(dst, int64(start)*512), src); err != nil {
		t.Fatal(err)
	}
}

func runStdin(t *testing.T, stdin, name string, args ...string) {
	t.Helper()
	p := testenv.RequireTool(t, name)[0]
	cmd := execCommand(p, args...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
}
