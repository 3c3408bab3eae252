package safety

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

func TestScanBackupsFindsEach(t *testing.T) {
	ctx := context.Background()
	const size = 80 << 20
	img := make([]byte, size)
	copy(img[size-512:], "EFI PART")
	binary.LittleEndian.PutUint32(img[4096:], mdMagic)
	binary.LittleEndian.PutUint32(img[(size&^0xffff)-0x10000:], mdMagic)
	// ext superblock copy with 4 KiB blocks would be at 128 MiB: out of
	// range here; a 1 KiB-block copy at 8 MiB + 1 KiB is in range.
	binary.LittleEndian.PutUint16(img[8<<20+1024+0x38:], 0xEF53)
	binary.LittleEndian.PutUint32(img[8<<20+1024+0x18:], 0)
	copy(img[64<<20+0x40:], "_BHRfS_M")
	copy(img[0x8000:], "SKUL\xba\xbe")
	sigs, err := scanBackups(ctx, bytes.NewReader(img), size)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"gpt": 1, "linux_raid_member": 2, "ext4": 1, "btrfs": 1, "crypto_LUKS": 1}
	got := map[string]int{}
	for _, s := range sigs {
		got[s.Type]++
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (%v)", k, got[k], v, sigs)
		}
	}
	if s, err := scanBackups(ctx, bytes.NewReader(make([]byte, size)), size); err != nil || len(s) != 0 {
		t.Fatalf("zeroed: %v %v", s, err)
	}
}

func TestReadPTUUID(t *testing.T) {
	p := filepath.Join(t.TempDir(), "img")
	b := make([]byte, 8192)
	b[510], b[511] = 0x55, 0xAA
	binary.LittleEndian.PutUint32(b[440:], 0xdeadbeef)
	os.WriteFile(p, b, 0o600)
	f, _ := os.Open(p)
	if got := readPTUUID(f); got != "deadbeef" {
		t.Fatalf("dos %q", got)
	}
	f.Close()
	copy(b[512:], "EFI PART")
	copy(b[512+56:], []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})
	os.WriteFile(p, b, 0o600)
	f, _ = os.Open(p)
	defer f.Close()
	if got := readPTUUID(f); got != "00112233-4455-6677-8899-aabbccddeeff" {
		t.Fatalf("gpt %q", got)
	}
}

func FuzzScanBackups(f *testing.F) {
	f.Add(make([]byte, 0), int64(0))
	seed := make([]byte, 1<<17)
	copy(seed[len(seed)-512:], "EFI PART")
	binary.LittleEndian.PutUint32(seed[4096:], mdMagic)
	copy(seed[0x8000:], "SKUL\xba\xbe")
	f.Add(seed, int64(len(seed)))
	f.Add(seed[:1000], int64(1<<40)) // claims more than it holds
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		if size < 0 || size > 1<<42 {
			return
		}
		sigs, _ := scanBackups(context.Background(), bytes.NewReader(b), size)
		for _, s := range sigs {
			if s.Offset < 0 || s.Offset >= size {
				t.Fatalf("signature outside the device: %+v", s)
			}
		}
	})
}

func FuzzReadPTUUID(f *testing.F) {
	b := make([]byte, 8192)
	b[510], b[511] = 0x55, 0xAA
	f.Add(b)
	g := append([]byte(nil), b...)
	copy(g[512:], "EFI PART")
	f.Add(g)
	f.Add([]byte("EFI PART"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u := readPTUUID(bytes.NewReader(data))
		if u != "" && len(u) != 8 && len(u) != 36 {
			t.Fatalf("PTUUID %q", u)
		}
	})
}
