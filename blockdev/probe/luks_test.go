package probe

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// luksSecondary writes a LUKS2 secondary header at off.
func luksSecondary(b []byte, off int, lbl string) {
	h := b[off:]
	copy(h, luks2Magic)
	binary.BigEndian.PutUint16(h[6:], 2)
	copy(h[168:], testUUIDString)
	copy(h[24:72], lbl)
	binary.BigEndian.PutUint64(h[256:], uint64(off))
}

func luksProbe(t *testing.T, b []byte) *sb {
	t.Helper()
	r, err := probeLUKS(fuzzSourceExact(t, b))
	if err != nil {
		t.Fatalf("probeLUKS: %v", err)
	}
	return r
}

func TestLUKSVersions(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		version uint16
		want    sb
	}{
		{1, sb{version: "1", uuid: testUUIDString}},
		{2, sb{version: "2", uuid: testUUIDString, label: "lab"}},
		// Any other version is still LUKS to blkid 2.38, with no UUID.
		{3, sb{version: "3"}},
		{0, sb{version: "0"}},
		{0xffff, sb{version: "65535"}},
	} {
		r := luksProbe(t, synthLUKS(2*mib, tc.version, "lab"))
		if r == nil || *r != tc.want {
			t.Errorf("version %d: got %+v, want %+v", tc.version, r, tc.want)
		}
	}
	// A LUKS2 primary that records another offset for itself is still
	// reported: 2.38 does not check the field.
	b := synthLUKS(2*mib, 2, "")
	binary.BigEndian.PutUint64(b[256:], 0x4000)
	if r := luksProbe(t, b); r == nil || r.version != "2" {
		t.Errorf("odd hdr_offset: got %+v", r)
	}
	// The UUID is text: cut at NUL, trailing blanks trimmed; empty is none.
	b = synthLUKS(2*mib, 1, "")
	copy(b[168:208], "abc  \x00def")
	if r := luksProbe(t, b); r == nil || r.uuid != "abc" {
		t.Errorf("uuid text: got %+v", r)
	}
	copy(b[168:208], make([]byte, 40))
	if r := luksProbe(t, b); r == nil || r.uuid != "" || r.version != "1" {
		t.Errorf("no uuid: got %+v", r)
	}
}

func TestLUKSSecondary(t *testing.T) {
	const mib = 1 << 20
	for _, off := range luks2SecondaryOffs {
		b := make([]byte, 8*mib)
		luksSecondary(b, int(off), "sec")
		r := luksProbe(t, b)
		if r == nil || r.version != "2" || r.uuid != testUUIDString || r.label != "sec" {
			t.Errorf("secondary at %#x: got %+v", off, r)
		}
		// The old-style magic is not looked for at the secondary offsets.
		copy(b[off:], luksMagic)
		if r := luksProbe(t, b); r != nil {
			t.Errorf("primary magic at %#x: got %+v", off, r)
		}
	}
	// Not at any other offset.
	b := make([]byte, 8*mib)
	luksSecondary(b, 0x3000, "x")
	if r := luksProbe(t, b); r != nil {
		t.Errorf("secondary at 0x3000: got %+v", r)
	}
	// A device that ends before a secondary header's 512 bytes.
	b = make([]byte, 0x400000+511)
	copy(b[0x400000:], luks2Magic)
	if r := luksProbe(t, b); r != nil {
		t.Errorf("cut secondary: got %+v", r)
	}
	// A primary header wins over a secondary one.
	b = synthLUKS(2*mib, 1, "")
	luksSecondary(b, 0x4000, "sec")
	if r := luksProbe(t, b); r == nil || r.version != "1" || r.label != "" {
		t.Errorf("primary and secondary: got %+v", r)
	}
}

// TestLUKSOverSwap: a LUKS header over an old swap signature is LUKS, the
// container ends the search before swap is looked at.
func TestLUKSOverSwap(t *testing.T) {
	for _, v := range []uint16{1, 2} {
		b := synthSwap(8<<20, "oldswap")
		copy(b, synthLUKS(592, v, "")[:592])
		r := probeBytes(t, b)
		if r.Type != "crypto_LUKS" || r.Usage != UsageCrypto || r.Version != itoa(uint32(v)) || r.Ambiguous != nil {
			t.Errorf("LUKS%d over swap: got %+v", v, r)
		}
	}
	// Swap whose first page was overwritten except the signature, with a
	// LUKS2 secondary header left behind at 16 KiB: blkid reports LUKS.
	b := synthSwap(8<<20, "s")
	luksSecondary(b, 0x4000, "")
	if r := probeBytes(t, b); r.Type != "crypto_LUKS" {
		t.Errorf("LUKS2 secondary beside swap: got %+v", r)
	}
}

// TestLUKSAgainstBlkid compares the synthetic headers with blkid.
func TestLUKSAgainstBlkid(t *testing.T) {
	testenv.RequireTool(t, "blkid")
	const mib = 1 << 20
	imgs := map[string][]byte{
		"v3": synthLUKS(2*mib, 3, "x"),
		"odd-offset": func() []byte {
			b := synthLUKS(2*mib, 2, "l")
			binary.BigEndian.PutUint64(b[256:], 0x8000)
			return b
		}(),
		"over-swap": func() []byte {
			b := synthSwap(8*mib, "oldswap")
			copy(b, synthLUKS(592, 1, "")[:592])
			return b
		}(),
		"secondary-beside-swap": func() []byte {
			b := synthSwap(8*mib, "s")
			luksSecondary(b, 0x4000, "")
			return b
		}(),
	}
	for _, off := range luks2SecondaryOffs {
		b := make([]byte, 8*mib)
		luksSecondary(b, int(off), "sec")
		imgs["secondary-"+itoa(uint32(off))] = b
	}
	for name, b := range imgs {
		t.Run(name, func(t *testing.T) {
			compareWithBlkid(t, writeImage(t, name+".img", b))
		})
	}
}

// TestLUKSCryptsetup formats with cryptsetup: LUKS1 and LUKS2 over a
// mkswap'd image (cryptsetup wipes the swap signature; it is then put
// back, as stale bytes a tool left behind would be), and LUKS2 with 4 MiB
// of metadata whose primary header is then zeroed, so only the secondary
// header at 4 MiB says LUKS.
func TestLUKSCryptsetup(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "cryptsetup", "mkswap", "blkid")
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("pw"), 0o600); err != nil {
		t.Fatal(err)
	}
	format := func(t *testing.T, img string, extra ...string) {
		args := []string{"luksFormat", "-q", "--key-file", key, "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"}
		testenv.Run(t, "cryptsetup", append(append(args, extra...), img)...)
	}
	for _, v := range []string{"luks1", "luks2"} {
		t.Run(v+"-over-swap", func(t *testing.T) {
			img := sparseImage(t, v+".img", 32<<20)
			testenv.Run(t, "mkswap", "-L", "oldswap", img)
			format(t, img, "--type", v)
			testenv.PatchFile(t, img, 0xff6, []byte("SWAPSPACE2"))
			if r := compareWithBlkid(t, img); r.Type != "crypto_LUKS" {
				t.Errorf("got %+v", r)
			}
		})
	}
	t.Run("luks2-4m-metadata-primary-wiped", func(t *testing.T) {
		img := sparseImage(t, "l2.img", 64<<20)
		format(t, img, "--type", "luks2", "--luks2-metadata-size", "4m", "--luks2-keyslots-size", "4m", "--label", "far")
		testenv.PatchFile(t, img, 0, make([]byte, 4096))
		r := compareWithBlkid(t, img)
		if r.Type != "crypto_LUKS" || r.Label != "far" {
			t.Errorf("got %+v", r)
		}
	})
}
