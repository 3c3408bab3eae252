package superblock

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestSwapAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "mkswap", "blkid", "swaplabel")
	for _, c := range []struct {
		name string
		args []string
		ps   int64
		edit func(t *testing.T, img string)
		typ  string
	}{
		{"4k", []string{"-L", "swap4k"}, 4096, nil, "swap"},
		{"16k-uuid", []string{"-p", "16384", "-U", "0b5e1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"}, 16384, nil, "swap"},
		{"64k-label", []string{"-p", "65536", "-L", "a b\xc3\xa9"}, 65536, nil, "swap"},
		{"bigendian", []string{"-L", "be"}, 4096, swapMakeBigEndian, "swap"},
		{"s1suspend", []string{"-L", "hib"}, 4096, func(t *testing.T, img string) {
			testenv.PatchFile(t, img, 4096-10, []byte("S1SUSPEND\x00"))
		}, "swsuspend"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := extImage(t, "swap.img", 8<<20)
			testenv.Run(t, "mkswap", append(append([]string{"-q"}, c.args...), img)...)
			if c.edit != nil {
				c.edit(t, img)
			}
			f, size := extOpen(t, img)
			sw, err := ReadSwap(f, size)
			if err != nil {
				t.Fatal(err)
			}
			s := sw.Super()
			if s.Type != c.typ || sw.PageSize != c.ps || s.BlockSize != c.ps {
				t.Errorf("type %s page %d, want %s %d", s.Type, sw.PageSize, c.typ, c.ps)
			}
			if want := (size/c.ps - 1) + 1; s.SizeBytes != want*c.ps {
				t.Errorf("size %d, want %d (last_page %d)", s.SizeBytes, want*c.ps, sw.LastPage)
			}
			bl := extBlkid(t, img)
			for k, got := range map[string]string{"TYPE": s.Type, "UUID": s.UUID, "LABEL": extCatV(s.Label), "VERSION": s.Version} {
				if bl[k] != got {
					t.Errorf("blkid %s %q, we say %q", k, bl[k], got)
				}
			}
			if c.typ == "swap" && !sw.BigEndian {
				kv := extKeyValues(testenv.Run(t, "swaplabel", img))
				if kv["UUID"] != s.UUID || kv["LABEL"] != s.Label {
					t.Errorf("swaplabel %q, we read UUID %q LABEL %q", kv, s.UUID, s.Label)
				}
			}
		})
	}
}

// swapMakeBigEndian byte-swaps the header's integers, as mkswap on a
// big-endian machine writes them.
func swapMakeBigEndian(t *testing.T, img string) {
	b := testenv.ReadFileAt(t, img, 1024, 12)
	for i := 0; i < 12; i += 4 {
		binary.BigEndian.PutUint32(b[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	testenv.PatchFile(t, img, 1024, b)
}

// TestSwapV0: the old SWAP-SPACE signature (no header) is swap version 0
// to blkid, with no UUID or label.
func TestSwapV0(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	img := extImage(t, "v0.img", 1<<20)
	testenv.PatchFile(t, img, 4096-10, []byte("SWAP-SPACE"))
	f, size := extOpen(t, img)
	sw, err := ReadSwap(f, size)
	if err != nil {
		t.Fatal(err)
	}
	s := sw.Super()
	bl := extBlkid(t, img)
	if bl["TYPE"] != s.Type || bl["VERSION"] != s.Version || s.Version != "0" || s.SizeBytes != size {
		t.Errorf("blkid %q, we say %+v", bl, s)
	}
}

func TestSwapDamaged(t *testing.T) {
	page := func() []byte {
		b := make([]byte, 8192)
		copy(b[4096-10:], "SWAPSPACE2")
		binary.LittleEndian.PutUint32(b[1024:], 1)
		binary.LittleEndian.PutUint32(b[1028:], 1)
		return b
	}
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"ok", func(b []byte) []byte { return b }, nil},
		{"magic", func(b []byte) []byte { b[4096-1] = '3'; return b }, ErrNotFound},
		{"version", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[1024:], 2); return b }, ErrCorrupt},
		{"last_page", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[1028:], 0); return b }, ErrCorrupt},
		{"short", func(b []byte) []byte { return b[:4000] }, ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.edit(page())
			_, err := ReadSwap(extBytes(b), int64(len(b)))
			if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}
