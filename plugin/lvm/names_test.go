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
