package plugin

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	l := Limits{MaxNameLen: 8, NameChars: "_-."}
	for _, ok := range []string{"a", "vol-1", "a.b_c", strings.Repeat("x", 8), "x-"} {
		if err := CheckName(l, "name", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "-a", "a/b", "a\x00b", "a b", "a@b", strings.Repeat("x", 9), "é"} {
		err := CheckName(l, "name", bad)
		var ie *InvalidError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ie) || ie.Field != "name" {
			t.Errorf("%q: %v, want an *InvalidError", bad, err)
		}
	}
	// '/' and NUL are refused even if a backend lists them.
	if err := CheckName(Limits{NameChars: "/\x00"}, "name", "a/b"); err == nil {
		t.Error("a/b accepted")
	}
}

func TestRoundSize(t *testing.T) {
	l := Limits{Granularity: 4096, MinSize: 8192}
	for _, c := range []struct{ in, want int64 }{{1, 8192}, {8192, 8192}, {8193, 12288}, {1 << 40, 1 << 40}} {
		got, err := RoundSize(l, "size", c.in)
		if err != nil || got != c.want {
			t.Errorf("%d: %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []int64{0, -1, 1<<63 - 1} {
		if _, err := RoundSize(l, "size", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%d: %v", bad, err)
		}
	}
	if got, _ := RoundSize(Limits{}, "size", 7); got != 7 {
		t.Errorf("no granularity: %d", got)
	}
}
