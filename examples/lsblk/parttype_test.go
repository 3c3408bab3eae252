package main

import (
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestPartTypeNames reads util-linux's tables from the installed sfdisk, as
// lsblk's built-in copy of them names types.
func TestPartTypeNames(t *testing.T) {
	testenv.RequireTool(t, "sfdisk")
	p := &partTypeNames{}
	for _, c := range []struct{ scheme, typ, want string }{
		{"gpt", "0fc63daf-8483-4772-8e79-3d69d8477de4", "Linux filesystem"},
		{"gpt", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System"},
		{"gpt", "00000000-0000-0000-0000-000000000001", ""},
		{"dos", "0x83", "Linux"},
		{"dos", "0xc", "W95 FAT32 (LBA)"},
		{"mbr", "5", "Extended"},
		{"dos", "0x8e", "Linux LVM"},
		{"dos", "0x00", "Empty"},
		{"dos", "0x183", ""},
		{"dos", "0x", ""},
		{"dos", "zz", ""},
		{"bsd", "0x83", ""},
	} {
		if got := p.name(c.scheme, c.typ); got != c.want {
			t.Errorf("name(%q, %q) = %q, want %q", c.scheme, c.typ, got, c.want)
		}
	}
}
