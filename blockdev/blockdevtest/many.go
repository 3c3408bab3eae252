package blockdevtest

import "fmt"

// Many builds a tree of n block devices for scale tests and benchmarks: SATA
// disks with four partitions each (five devices per disk), numbered like the
// kernel's sd driver (sda..sdz, sdaa...), all on major 8 with 16 minors per
// disk.
func Many(dir string, n int) *Tree {
	t := New(dir)
	for i := 0; i < (n+4)/5; i++ {
		name := "sd" + letters(i)
		minor := uint32(i * 16)
		t.SATA(name, i, minor, 64*GiB, fmt.Sprintf("DISK %d", i), "", i%2 == 0)
		for p := 1; p <= 4 && i*5+p < n; p++ {
			t.AddPartition(name, fmt.Sprintf("%s%d", name, p), 8, minor+uint32(p), p, uint64(p)*GiB, GiB)
		}
	}
	return t
}

// letters is the sd driver's disk suffix: 0 a, 25 z, 26 aa, 701 zz, 702 aaa.
func letters(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('a'+(i-1)%26)) + s
	}
	return s
}
