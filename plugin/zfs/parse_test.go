package zfs

import (
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/google/go-cmp/cmp"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in    string
		n     int64
		exact bool
	}{
		{"10485760", 10485760, true}, // -p
		{"0", 0, true},
		{"-", 0, true},
		{"none", 0, true},
		{"512B", 512, true},
		// zfs-fuse's zpool list (no -p) for a 256 MiB file vdev: 250M
		// size, 556K allocated, 249M free.
		{"250M", 250 << 20, false},
		{"556K", 556 << 10, false},
		{"9.89M", 10370417, false}, // 9.89 * 2^20 rounded; zfs get -p printed 10371072 for it
		{"1.50G", 3 << 29, false},
		{"2T", 2 << 40, false},
	} {
		n, exact, err := ParseSize(c.in)
		if err != nil || n != c.n || exact != c.exact {
			t.Errorf("%q: %d %v %v, want %d %v", c.in, n, exact, err, c.n, c.exact)
		}
	}
	for _, bad := range []string{"", "M", "1.2.3K", "-1", "1X", "99999999999999999999", "8E", ".5K", "1e3K", " 1"} {
		if _, _, err := ParseSize(bad); !errors.Is(err, ErrMalformed) || !errors.Is(err, plugin.ErrBackend) {
			t.Errorf("%q: %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParsePoolList(t *testing.T) {
	// zfs-fuse, zpool list -H -o name,size,allocated,free,health
	got, err := ParsePoolList([]byte("pctank\t250M\t556K\t249M\tONLINE\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []PoolRow{{Name: "pctank", Size: 250 << 20, Allocated: 556 << 10, Free: 249 << 20, Health: "ONLINE"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Error(d)
	}
	// OpenZFS, with -p (hand-written from zpool-list(8): exact bytes).
	got, err = ParsePoolList([]byte("tank\t1069547520\t2117632\t1067429888\tONLINE\n"))
	if err != nil || len(got) != 1 || !got[0].Exact || got[0].Free != 1067429888 {
		t.Errorf("%+v %v", got, err)
	}
	for _, bad := range []string{"a\tb\n", "p\t1\t2\t3\n", "\t1\t2\t3\tONLINE\n", "p\tx\t2\t3\tONLINE"} {
		if _, err := ParsePoolList([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseProps(t *testing.T) {
	// zfs-fuse, zfs get -H -p -o name,property,value (recorded by hand
	// from zfs-fuse 0.7: -p prints bytes in zfs get, unlike zfs list).
	out := "pctank/v1\tused\t114688\npctank/v1\tavailable\t10371072\npctank/v1\trefquota\t10485760\npctank/v1\tmountpoint\t/dev/shm/pc/mnt/v1\npctank/v1@s1\tcreation\t1796643755\n"
	p, err := ParseProps([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"pctank/v1", "pctank/v1@s1"}, p.Names); d != "" {
		t.Error(d)
	}
	if n, err := p.size("pctank/v1", "refquota"); n != 10485760 || err != nil {
		t.Errorf("refquota %d %v", n, err)
	}
	if _, err := p.size("pctank/v1", "volsize"); !errors.Is(err, ErrMalformed) {
		t.Errorf("absent property: %v", err)
	}
	// Human units where bytes were asked for are refused, not rounded.
	h, _ := ParseProps([]byte("p/v\trefquota\t10M\n"))
	if _, err := h.size("p/v", "refquota"); !errors.Is(err, ErrMalformed) {
		t.Errorf("human refquota: %v", err)
	}
	for _, bad := range []string{"a\tb\n", "a\t\tc\n", "a\tb\tc\na\tb\td\n", "a\tb\tc\td\n"} {
		if _, err := ParseProps([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestParseNames(t *testing.T) {
	got, err := ParseNames([]byte("p/v@a\np/v@b\n"))
	if err != nil || len(got) != 2 || got[1] != "p/v@b" {
		t.Errorf("%v %v", got, err)
	}
	if _, err := ParseNames([]byte("a\tb\n")); !errors.Is(err, ErrMalformed) {
		t.Error(err)
	}
}
