package sched

import (
	"errors"
	"testing"
)

func TestKeyConstructors(t *testing.T) {
	for _, tc := range []struct {
		k    Key
		want string
	}{
		{Disk("8:0"), "disk:8:0"},
		{Disk("8:0").Partition(1), "disk:8:0/part:1"},
		{Disk("8:0").Partition(1).Filesystem(), "disk:8:0/part:1/fs"},
		{Disk("8:0").Partition(1).Filesystem().Mount("/srv/a b"), "disk:8:0/part:1/fs/mount:%2Fsrv%2Fa b"},
		{VG("vg0").LV("lv0"), "vg:vg0/lv:lv0"},
		{Global("devicemapper"), "global:devicemapper"},
		{Disk("50%/x"), "disk:50%25%2Fx"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
		back, err := ParseKey(tc.want)
		if err != nil || back != tc.k {
			t.Errorf("ParseKey(%q) = %v, %v", tc.want, back, err)
		}
	}
	if Disk("a/part:1") == Disk("a").Partition(1) {
		t.Error("a '/' in a name forged a deeper key")
	}
	if p, ok := Disk("8:0").Partition(1).Parent(); !ok || p != Disk("8:0") {
		t.Errorf("parent %v %v", p, ok)
	}
	if _, ok := Disk("8:0").Parent(); ok {
		t.Error("top key has a parent")
	}
}

func TestConflicts(t *testing.T) {
	d := Disk("8:0")
	p1, p2 := d.Partition(1), d.Partition(2)
	for _, tc := range []struct {
		a, b Resource
		want bool
	}{
		{d.Exclusive(), p1.Shared(), true},
		{d.Exclusive(), p1.Filesystem().Exclusive(), true},
		{d.Shared(), p1.Shared(), false},
		{d.Shared(), p1.Exclusive(), true},
		{p1.Exclusive(), p2.Exclusive(), false},
		{p1.Exclusive(), p1.Exclusive(), true},
		{p1.Shared(), p1.Shared(), false},
		{Disk("8:1").Exclusive(), Disk("8:16").Exclusive(), false}, // prefix of the string, not of the path
		{Disk("8:1").Exclusive(), Disk("8:1").Partition(3).Shared(), true},
		{VG("vg0").Exclusive(), VG("vg0").LV("x").Shared(), true},
		{Global("dm").Exclusive(), Global("dm").Exclusive(), true},
		{Global("dm").Exclusive(), d.Exclusive(), false},
	} {
		if got := tc.a.Conflicts(tc.b); got != tc.want {
			t.Errorf("%v vs %v: %v", tc.a, tc.b, got)
		}
		if got := tc.b.Conflicts(tc.a); got != tc.want {
			t.Errorf("%v vs %v (swapped): %v", tc.b, tc.a, got)
		}
		lt := newLockTable()
		lt.acquire([]Resource{tc.a})
		if got := !lt.canGrant([]Resource{tc.b}); got != tc.want {
			t.Errorf("lock table %v then %v: conflict %v", tc.a, tc.b, got)
		}
		lt.release([]Resource{tc.a})
		if !lt.empty() {
			t.Errorf("lock table not empty after release: %v", lt.nodes)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	for _, s := range []string{"", "/", "a/", "/a", "a//b", "a%", "a%2", "a%2f", "a%41", "a%%25"} {
		if _, err := ParseKey(s); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseKey(%q) = %v", s, err)
		}
	}
}

// FuzzParseKey checks that ParseKey accepts exactly the canonical spellings:
// whatever it accepts prints back unchanged, and overlap agrees with the
// lock table.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"disk:8:0", "disk:8:0/part:1/fs", "vg:vg0/lv:lv0", "a%25b/c%2Fd", "a%zz", "x//y", ""} {
		f.Add(s, "disk:8:0/part:1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ka, err := ParseKey(a)
		if err != nil {
			return
		}
		if ka.String() != a {
			t.Fatalf("round trip %q -> %q", a, ka)
		}
		kb, err := ParseKey(b)
		if err != nil {
			return
		}
		lt := newLockTable()
		lt.acquire([]Resource{ka.Exclusive()})
		if lt.canGrant([]Resource{kb.Shared()}) == ka.Overlaps(kb) {
			t.Fatalf("lock table and Overlaps disagree on %q %q", a, b)
		}
		lt.release([]Resource{ka.Exclusive()})
		if !lt.empty() {
			t.Fatal("leak in lock table")
		}
	})
}

func TestMountPath(t *testing.T) {
	for _, c := range []struct {
		a, b    string
		overlap bool
	}{
		{"/srv", "/srv/data", true},
		{"/srv/data", "/srv", true},
		{"/srv", "/srv/", true},
		{"/srv/./data/..", "/srv", true},
		{"/srv", "/var", false},
		{"/srv/a", "/srv/b", false},
		{"/srv/ab", "/srv/a", false},
		{"/", "/anything", true},
		{"/srv/a/b", "/srv/a%2fb", false},
	} {
		if got := MountPath(c.a).Overlaps(MountPath(c.b)); got != c.overlap {
			t.Errorf("MountPath(%q) overlaps MountPath(%q) = %v, want %v (%s, %s)", c.a, c.b, got, c.overlap, MountPath(c.a), MountPath(c.b))
		}
	}
	// No device's key overlaps a mountpoint's.
	if Disk("8:0").Overlaps(MountPath("/srv")) {
		t.Error("a disk key overlaps a mount path")
	}
	if _, err := ParseKey(MountPath("/srv/my data").String()); err != nil {
		t.Errorf("ParseKey(MountPath): %v", err)
	}
}
