package lvm

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	lvm2 "github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

func TestNames(t *testing.T) {
	for _, n := range []string{"a", "vol-1", "x.y_z", strings.Repeat("n", maxNameLen)} {
		if err := validName("name", n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
	for _, n := range []string{"", "_a", "-a", ".a", "a+b", "a/b", "a b", "snapshot1", "pvmove0", "x_tmeta", "a_rimage_0",
		strings.Repeat("n", maxNameLen+1)} {
		if err := validName("name", n); !errors.Is(err, plugin.ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", n, err)
		}
	}
	lv := snapLV("vol.a-b", "s_1")
	if vol, snap, ok := parseSnapLV(lv); !ok || vol != "vol.a-b" || snap != "s_1" {
		t.Errorf("parseSnapLV(%q) = %q %q %v", lv, vol, snap, ok)
	}
	if _, _, ok := parseSnapLV("vol"); ok {
		t.Error("a volume's name parsed as a snapshot's")
	}
	if len(snapLV(strings.Repeat("n", maxNameLen), strings.Repeat("s", maxNameLen))) > 127 {
		t.Error("a snapshot's LV name can pass lvm's limit")
	}
}

func TestTags(t *testing.T) {
	for _, s := range []string{"csi.storage.k8s.io/pvc/name=x y", "ünï", "a\x00b", "plain"} {
		tag := encodeTag(tagUser, s)
		for i := 0; i < len(tag); i++ {
			if c := tag[i]; !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+.-/=!:&#", rune(c)) {
				t.Errorf("tag %q has %q, outside lvm's tag characters", tag, c)
			}
		}
		if got, ok := decodeTag(tagUser, tag); !ok || got != s {
			t.Errorf("decode(encode(%q)) = %q %v", s, got, ok)
		}
	}
	if _, ok := decodeTag(tagUser, tagVolume); ok {
		t.Error("the ownership tag decoded as a caller's tag")
	}
}

func TestMapErr(t *testing.T) {
	for _, c := range []struct {
		in   error
		want error
	}{
		{fmt.Errorf("x: %w", lvm2.ErrNotFound), plugin.ErrNotFound},
		{fmt.Errorf("x: %w", lvm2.ErrExists), plugin.ErrExists},
		{fmt.Errorf("x: %w", lvm2.ErrNoSpace), plugin.ErrNoSpace},
		{&lvm2.AdmitError{Code: lvm2.RefusedOverProvisioned}, plugin.ErrNoSpace},
		{fmt.Errorf("x: %w", lvm2.ErrBusy), plugin.ErrInUse},
		{&lvm2.RefusedError{Code: lvm2.CodeOpen}, plugin.ErrInUse},
	} {
		got := mapErr(c.in)
		if !errors.Is(got, c.want) || !errors.Is(got, c.in) && !errors.As(got, new(*lvm2.AdmitError)) {
			t.Errorf("mapErr(%v) = %v, want %v kept with the original", c.in, got, c.want)
		}
	}
	if mapErr(nil) != nil {
		t.Error("mapErr(nil) != nil")
	}
}

func TestSizes(t *testing.T) {
	v := &lvm2.VG{ExtentSize: 32 << 20}
	if got, err := roundSize(v, "size", 16<<20+1); err != nil || got != 32<<20 {
		t.Errorf("16 MiB + 1 on 32 MiB extents: %d %v", got, err)
	}
	v3 := &lvm2.VG{ExtentSize: 3 << 20}
	if got, err := roundSize(v3, "size", 16<<20); err != nil || got != 18<<20 {
		t.Errorf("16 MiB on 3 MiB extents: %d %v (lvm makes 18 MiB)", got, err)
	}
	if _, err := roundSize(v, "size", 0); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("size 0: %v", err)
	}
	// COW space: the origin, 1/128 for exception metadata, a MiB, on extents.
	four := &lvm2.VG{ExtentSize: 4 << 20}
	if c := cowSize(four, 64<<20); c < 64<<20+64<<20/256+8192 || c%(4<<20) != 0 || c > 72<<20 {
		t.Errorf("COW for 64 MiB: %d", c)
	}
	b := &Backend{vg: "eos"}
	if err := b.checkDMName("name", "a"); err != nil {
		t.Error(err)
	}
	dashes := "a" + strings.Repeat("-", 47)
	if err := b.checkDMName("snapshot", snapLV(dashes, "b"+strings.Repeat("-", 47))); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("a snapshot whose dm name doubles 94 dashes: %v", err)
	}
	if err := b.checkDMName("snapshot", snapLV("tmeta1", "s")); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("_tmeta1+s is lvm-reserved: %v", err)
	}
	b.extent.Store(8 << 20)
	if l := b.Limits(); l.Granularity != 8<<20 || l.MinSize != 8<<20 {
		t.Errorf("Limits after an 8 MiB-extent VG was read: %+v", l)
	}
}

func TestMapErrUnmonitored(t *testing.T) {
	err := mapErr(&lvm2.AdmitError{Code: lvm2.RefusedUnmonitored})
	if errors.Is(err, plugin.ErrNoSpace) || !errors.Is(err, plugin.ErrBackend) {
		t.Errorf("an unwatched pool: %v, want ErrBackend, not ErrNoSpace", err)
	}
	if err := mapErr(&lvm2.RefusedError{Code: lvm2.CodeFsUnknown}); !errors.Is(err, plugin.ErrNotSupported) {
		t.Errorf("fs_unknown: %v", err)
	}
	if err := mapErr(&lvm2.RefusedError{Code: lvm2.CodeFsShrink}); !errors.Is(err, plugin.ErrInvalid) {
		t.Errorf("fs_cannot_shrink: %v", err)
	}
}
