package partition_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
)

// Create a GPT on an image file, add partitions by size, and read it back.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "partition-example")
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "disk.img")
	f, _ := os.Create(img)
	f.Truncate(64 << 20)
	f.Close()

	d, err := partition.Open(ctx, img)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	t, _ := partition.NewGPT(d.Geometry())
	efi, _ := partition.ParseSize("16MiB", 512)
	t.Add(partition.AddSpec{Size: efi, Type: "efi", Name: "ESP"})
	t.Add(partition.AddSpec{Size: partition.Size{Rest: true}, Type: "linux", Name: "root"})
	if err := d.Write(ctx, t); err != nil {
		fmt.Println(err)
		return
	}
	back, _ := d.Read(ctx)
	for _, p := range back.Partitions {
		fmt.Println(p.Number, p.Start, p.Size, partition.TypeName(p.Type), p.Name)
	}
	// Output:
	// 1 2048 32768 EFI System ESP
	// 2 34816 96223 Linux filesystem root
}

// Verify types every problem; a damaged primary is read from the backup and
// Repair rewrites it.
func ExampleDisk_Verify() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "partition-example")
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "disk.img")
	f, _ := os.Create(img)
	f.Truncate(16 << 20)
	f.Close()
	d, _ := partition.Open(ctx, img)
	defer d.Close()
	t, _ := partition.NewGPT(d.Geometry())
	t.Add(partition.AddSpec{Size: partition.Bytes(4 << 20)})
	d.Write(ctx, t)

	f, _ = os.OpenFile(img, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, 512+60) // corrupt the primary header
	f.Close()

	r, _ := d.Verify(ctx)
	fmt.Println("read from:", r.Source)
	for _, p := range r.Problems {
		fmt.Println(p.Kind)
	}
	d.Repair(ctx)
	r, _ = d.Verify(ctx)
	fmt.Println("after repair ok:", r.OK())
	// Output:
	// read from: backup
	// primary GPT header CRC wrong
	// after repair ok: true
}

func ExampleParseSize() {
	for _, s := range []string{"512MiB", "2G", "25%", "rest"} {
		v, _ := partition.ParseSize(s, 512)
		fmt.Println(s, "=", v)
	}
	// Output:
	// 512MiB = 536870912
	// 2G = 2147483648
	// 25% = 25%
	// rest = rest
}
