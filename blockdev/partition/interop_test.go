package partition

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// sgdiskClean runs sgdisk -v and fails unless it reports no problems.
func sgdiskClean(t testing.TB, path string) {
	t.Helper()
	testenv.RequireTool(t, "sgdisk")
	out, err := testenv.RunErr("sgdisk", "-v", path)
	if err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v %s: %v\n%s", path, err, out)
	}
}

func fourPartGPT(t testing.TB, tab *Table) {
	t.Helper()
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "16MiB"), Type: "efi", Name: "EFI system", Attrs: AttrRequired | AttrLegacyBIOS | 1<<60 | 1<<63})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "8M"), Type: "swap", Name: "swap"})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "25%"), Type: "lvm", Name: "ünïcode näme"})
	mustAdd(t, tab, AddSpec{Size: Size{Rest: true}, Type: "linux", Name: "root"})
}

func TestOurGPTPassesSgdiskAndSfdisk(t *testing.T) {
	img := image(t, 96<<20)
	d := openT(t, img)
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	fourPartGPT(t, tab)
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	sgdiskClean(t, img)
	back := mustRead(t, d)
	sameAsSfdisk(t, img, back)
	if back.Dump(img).PartitionTable.Partitions[0].Start != 2048 {
		t.Errorf("first partition not at 1 MiB: %+v", back.Partitions[0])
	}
	// Ours read back equals what we wrote.
	if fmt.Sprint(back.Dump(img)) != fmt.Sprint(tab.Dump(img)) {
		t.Errorf("read back differs:\n%v\n%v", back.Dump(img), tab.Dump(img))
	}
}

// 4096-byte logical sectors: sfdisk 2.38 has no --sector-size for images, so
// the disk is a loop device with 4 KiB sectors and the tools ask the kernel.
func TestOurGPTWith4KSectorsReadBySfdiskAndSgdisk(t *testing.T) {
	dev := testenv.LoopSector(t, 256<<20, 4096)
	d := openT(t, dev)
	if d.Geometry().SectorSize != 4096 {
		t.Fatalf("sector size %d", d.Geometry().SectorSize)
	}
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	if tab.FirstUsable != 6 {
		t.Errorf("first usable on 4K sectors = %d, sgdisk uses 6", tab.FirstUsable)
	}
	fourPartGPT(t, tab)
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	back := mustRead(t, d)
	sameAsSfdisk(t, dev, back)
	if p := back.Partitions[0]; p.Start != 256 {
		t.Errorf("first partition at %d, want 256 (1 MiB of 4 KiB sectors)", p.Start)
	}
	sgdiskClean(t, dev)
}

func TestReadSgdiskGPT(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	img := image(t, 64<<20)
	testenv.Run(t, "sgdisk", "-n", "1:2048:+10M", "-t", "1:ef00", "-c", "1:EFI", "-A", "1:set:0", "-A", "1:set:2", "-A", "1:set:60",
		"-n", "5:0:+20M", "-t", "5:8e00", "-c", "5:data lv",
		"-n", "2:0:0", "-t", "2:8200", img)
	tab := mustRead(t, openT(t, img))
	sameAsSfdisk(t, img, tab)
	if p, _ := tab.Partition(5); p.Type != TypeLinuxLVM || p.Name != "data lv" {
		t.Errorf("partition 5 = %+v", p)
	}
}

// sgdisk can write tables with more or bigger entries; the spec allows any
// 128*2^n entry size. sgdisk -S sets the entry count.
func TestReadSgdiskGPTWithManyEntries(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	img := image(t, 64<<20)
	testenv.Run(t, "sgdisk", "-S", "256", "-n", "200:0:+4M", "-n", "1:0:+4M", img)
	tab := mustRead(t, openT(t, img))
	if tab.EntryCount != 256 || tab.FirstUsable != 66 {
		t.Errorf("entries %d first usable %d, want 256 and 66", tab.EntryCount, tab.FirstUsable)
	}
	sameAsSfdisk(t, img, tab)
}

func TestReadPartedTables(t *testing.T) {
	testenv.RequireTool(t, "parted")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"gpt", []string{"mklabel", "gpt", "mkpart", "boot", "fat32", "1MiB", "9MiB", "set", "1", "esp", "on",
			"mkpart", "root", "ext4", "9MiB", "40MiB", "mkpart", "swap", "linux-swap", "40MiB", "100%"}},
		{"msdos-logical", []string{"mklabel", "msdos", "mkpart", "primary", "ext4", "1MiB", "9MiB", "set", "1", "boot", "on",
			"mkpart", "extended", "9MiB", "60MiB", "mkpart", "logical", "ext4", "10MiB", "20MiB",
			"mkpart", "logical", "linux-swap", "21MiB", "30MiB", "mkpart", "logical", "ext4", "31MiB", "60MiB"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := image(t, 64<<20)
			testenv.Run(t, "parted", append([]string{"-s", img}, c.args...)...)
			tab := mustRead(t, openT(t, img))
			sameAsSfdisk(t, img, tab)
			if c.name != "gpt" && len(tab.Partitions) != 5 {
				t.Errorf("want 2 primaries and 3 logicals, got %+v", tab.Partitions)
			}
		})
	}
}

func TestReadSfdiskDOSWithLogicals(t *testing.T) {
	testenv.RequireTool(t, "sfdisk")
	img := image(t, 128<<20)
	script := "label: dos\nstart=2048, size=20480, type=83, bootable\nstart=22528, size=122880, type=5\n" +
		"start=24576, size=20480, type=83\nstart=47104, size=20480, type=82\nstart=69632, size=40960, type=8e\nstart=145408, size=8192, type=fd\n"
	if _, err := runStdin("sfdisk", script, "-q", img); err != nil {
		t.Fatal(err)
	}
	tab := mustRead(t, openT(t, img))
	sameAsSfdisk(t, img, tab)
	if n := len(tab.Partitions); n != 6 {
		t.Errorf("got %d partitions, want 6", n)
	}
}

func TestOurDOSWithLogicalsReadBySfdiskAndParted(t *testing.T) {
	img := image(t, 128<<20)
	d := openT(t, img)
	tab, err := NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "10MiB"), Bootable: true})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "80MiB"), Type: "extended"})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "10MiB"), Logical: true})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "20MiB"), Logical: true, Type: "swap"})
	mustAdd(t, tab, AddSpec{Size: Size{Rest: true}, Logical: true, Type: "lvm"})
	mustAdd(t, tab, AddSpec{Size: mustSize(t, "5MiB"), Type: "raid"})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	back := mustRead(t, d)
	sameAsSfdisk(t, img, back)
	if len(back.Partitions) != 6 {
		t.Fatalf("read back %d partitions: %+v", len(back.Partitions), back.Partitions)
	}
	testenv.RequireTool(t, "parted")
	out := testenv.Run(t, "parted", "-s", "-m", img, "unit", "s", "print")
	for _, want := range []string{"5:", "6:", "7:"} {
		if !strings.Contains(string(out), "\n"+want) {
			t.Errorf("parted does not list logical partition %s\n%s", want, out)
		}
	}
}

// On a real loop device: sfdisk writes a dos table with logical partitions,
// we read it as sfdisk does, and the kernel learns exactly what partx reads.
func TestLoopSfdiskDOSReadAndSynced(t *testing.T) {
	testenv.RequireTool(t, "sfdisk", "partx")
	dev := testenv.Loop(t, 64<<20)
	script := "label: dos\nstart=2048, size=8192, type=83\nstart=10240, size=40960, type=5\nstart=12288, size=8192, type=83\nstart=22528, size=8192, type=82\n"
	if _, err := runStdin("sfdisk", script, "-q", dev); err != nil {
		t.Fatal(err)
	}
	d := openT(t, dev)
	tab := mustRead(t, d)
	sameAsSfdisk(t, dev, tab)
	if _, err := d.SyncKernel(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if diff := cmpDiff(partxView(t, dev), kernelView(t, d)); diff != "" {
		t.Errorf("kernel view differs from partx (-partx +kernel):\n%s", diff)
	}
}

// A header larger than 92 bytes (the spec allows up to the sector size) is
// read, kept byte for byte through an edit, and accepted by sfdisk and sgdisk.
func TestLargeHeaderRoundTrip(t *testing.T) {
	img := image(t, 32<<20)
	d := openT(t, img)
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	tab.HeaderSize = 512
	tab.headerExtra = make([]byte, 512-92)
	mustAdd(t, tab, AddSpec{Size: Bytes(4 << 20), Name: "x"})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	back := mustRead(t, d)
	if back.HeaderSize != 512 {
		t.Errorf("header size read back %d", back.HeaderSize)
	}
	mustAdd(t, back, AddSpec{Size: Bytes(4 << 20)})
	if err := d.Write(context.Background(), back); err != nil {
		t.Fatal(err)
	}
	if again := mustRead(t, d); again.HeaderSize != 512 || len(again.Partitions) != 2 {
		t.Errorf("after an edit: header %d, %d partitions", again.HeaderSize, len(again.Partitions))
	}
	sameAsSfdisk(t, img, mustRead(t, d))
	sgdiskClean(t, img)
}

// Editing a GPT with a hybrid MBR keeps the hybrid MBR byte for byte.
func TestEditKeepsHybridMBR(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	img := image(t, 64<<20)
	testenv.Run(t, "sgdisk", "-n", "1:2048:+8M", "-n", "2:0:+8M", img)
	testenv.Run(t, "sgdisk", "-h", "1", img)
	before := testenv.ReadFileAt(t, img, 0, 512)
	d := openT(t, img)
	tab := mustRead(t, d)
	mustAdd(t, tab, AddSpec{Size: Bytes(4 << 20)})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if after := testenv.ReadFileAt(t, img, 0, 512); string(after) != string(before) {
		t.Error("the hybrid MBR was rewritten")
	}
	sgdiskClean(t, img)
}
