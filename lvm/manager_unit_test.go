package lvm

import (
	"errors"
	"testing"
)

// TestTakesReportFormat pins which commands get --reportformat: lvm
// refuses it (exit 3, "unrecognized option" or "unsupported with ...") on
// the others, which the VM tier met one by one.
func TestTakesReportFormat(t *testing.T) {
	for _, c := range []struct {
		sub  string
		args []string
		want bool
	}{
		{"lvcreate", []string{"-L", "1b", "-n", "a", "vg"}, true},
		{"lvcreate", []string{"-s", "-n", "s", "vg/a"}, false},
		{"lvcreate", []string{"--type", "thin-pool"}, false},
		{"lvconvert", nil, false},
		{"vgcfgrestore", nil, false},
		{"vgcfgbackup", nil, true},
		{"lvremove", nil, true},
		{"pvresize", nil, true},
	} {
		if got := takesReportFormat(c.sub, c.args); got != c.want {
			t.Errorf("%s %v: %v, want %v", c.sub, c.args, got, c.want)
		}
	}
}

func TestRefusal(t *testing.T) {
	c := &opConfig{}
	err := c.refuse(CodeOpen, "LV %s is open", "vg/a")
	var re *RefusedError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || re.Code != CodeOpen {
		t.Fatalf("%v", err)
	}
	must(t, WithOverride(CodeOpen, "test", "me")(c))
	if err := c.refuse(CodeOpen, "x"); err != nil {
		t.Fatalf("overridden refusal: %v", err)
	}
	if _, err := NewManager(nil); err == nil {
		t.Fatal("nil tool accepted")
	}
}
