package blockdevtest

// Sizes used by Sample.
const (
	MiB = 1 << 20
	GiB = 1 << 30
)

// Sample builds in dir a machine with one of everything discovery must
// understand, laid out as the kernel does:
//
//	sda     SATA disk, rotational      sda1 /boot/efi (vfat), sda2 -> md0
//	sdb     SATA SSD                   sdb1 -> md0, sdb2 -> vg1-data
//	md0     raid1 on sda2 + sdb1       vg0-root (lvm, "/"), vg0-swap (lvm, swap)
//	nvme0n1 NVMe, 259:x partitions     nvme0n1p1 -> vg1-data, nvme0n1p2 -> luks (crypt, "/home")
//	vg1-data LVM volume on sdb2 + nvme0n1p1, mounted at "/srv/my data"
//	vda     virtio disk
//	sdc     USB stick, removable       sdc1 mounted at /media/usb
//	sr0     SATA DVD drive (rom)
//	loop0   backed by /var/lib/images/disk.img, loop200 detached
//
// The detached loop device is loop200 because lsblk --sysroot asks the live
// system (/sys/dev/block/7:N) whether a zero-size loop device is in use: a
// number no host has attached keeps lsblk's answer independent of the host.
//
// Users' tests can start from it and change attributes with Set and Remove.
func Sample(dir string) *Tree {
	t := New(dir)
	t.SATA("sda", 0, 0, 64*GiB, "WDC WD640", "WD-0001", true)
	t.AddPartition("sda", "sda1", 8, 1, 1, 1*MiB, 512*MiB)
	t.AddPartition("sda", "sda2", 8, 2, 2, 513*MiB, 32*GiB)
	t.SATA("sdb", 1, 16, 32*GiB, "Samsung SSD 870", "S5SSNF0001", false)
	t.AddPartition("sdb", "sdb1", 8, 17, 1, 1*MiB, 16*GiB)
	t.AddPartition("sdb", "sdb2", 8, 18, 2, 16*GiB+1*MiB, 8*GiB)
	t.NVMe(0, 0, 128*GiB, "Samsung SSD 980", "S64DNF0001")
	t.AddPartition("nvme0n1", "nvme0n1p1", 259, 1, 1, 1*MiB, 8*GiB)
	t.AddPartition("nvme0n1", "nvme0n1p2", 259, 2, 2, 8*GiB+1*MiB, 64*GiB)
	t.Virtio("vda", 0, 0, 16*GiB)
	t.USB("sdc", 6, 32, 8*GiB, "SanDisk", "Cruzer Blade")
	t.AddPartition("sdc", "sdc1", 8, 33, 1, 1*MiB, 8*GiB-1*MiB)
	t.CDROM("sr0", 2, 0, 700*MiB)
	t.Loop(0, 256*MiB, "/var/lib/images/disk.img")
	t.Loop(200, 0, "")
	t.MD(0, "raid1", 16*GiB, "sda2", "sdb1")
	t.DM(0, "vg0-root", "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 12*GiB, "md0")
	t.DM(1, "vg0-swap", "LVM-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaacccccccccccccccccccccccccccccccc", 2*GiB, "md0")
	t.DM(2, "luks-home", "CRYPT-LUKS2-0123456789abcdef0123456789abcdef-luks-home", 64*GiB-16*MiB, "nvme0n1p2")
	t.DM(3, "vg1-data", "LVM-dddddddddddddddddddddddddddddddddeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 12*GiB, "sdb2", "nvme0n1p1")
	t.Mount("sda1", "/boot/efi", "vfat")
	t.Mount("dm-0", "/", "ext4")
	t.Mount("dm-2", "/home", "xfs")
	t.Mount("dm-3", "/srv/my data", "ext4")
	t.Mount("sdc1", "/media/usb", "vfat")
	t.Swap("dm-1")
	return t
}
