package superblock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The seeds are real primary superblocks (4 KiB each) from mkfs.btrfs 6.2:
// one per checksum type and one with mixed block groups.
var btrfsSeeds = []string{"crc32c.bin", "xxhash.bin", "sha256.bin", "blake2.bin", "mixed.bin"}

// btrfsSeedImage places a seed superblock at 64 KiB of a zeroed image just
// big enough to hold it (no mirror).
func btrfsSeedImage(t testing.TB, name string) []byte {
	t.Helper()
	sb, err := os.ReadFile(filepath.Join("testdata", "btrfs", name))
	if err != nil {
		t.Fatal(err)
	}
	return btrfsImageWith(sb)
}

func btrfsImageWith(sb []byte) []byte {
	img := make([]byte, 64<<10+btrfsSuperSize)
	copy(img[64<<10:], sb)
	return img
}

// TestBtrfsSeeds: every seed verifies with its own checksum type (so our
// xxhash64 and blake2b agree with the kernel's on real data).
func TestBtrfsSeeds(t *testing.T) {
	for _, name := range btrfsSeeds {
		img := btrfsSeedImage(t, name)
		x, err := ReadBtrfs(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(x.Copies) != 1 || x.Copy != 0 || len(x.SysChunks) == 0 || x.Super().State != StateClean {
			t.Errorf("%s: %+v", name, x)
		}
	}
}

// FuzzBtrfs: the fuzzer's bytes are the superblock at 64 KiB; ReadBtrfs
// returns a value or a typed error and never panics. Checksums stop most
// mutations early; the sys_chunk_array parser has its own target below.
func FuzzBtrfs(f *testing.F) {
	for _, name := range btrfsSeeds {
		b, err := os.ReadFile(filepath.Join("testdata", "btrfs", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, sb []byte, fix bool) {
		if len(sb) > btrfsSuperSize {
			sb = sb[:btrfsSuperSize]
		}
		img := btrfsImageWith(sb)
		if fix {
			// Re-checksum (as crc32c) so mutations reach the checks
			// behind the checksum.
			img[64<<10+196], img[64<<10+197] = 0, 0
			btrfsFixCRC(img[64<<10:])
		}
		x, err := ReadBtrfs(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			var ce *CorruptError
			if !errors.Is(err, ErrNotFound) && !errors.As(err, &ce) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		s := x.Super()
		if s.SizeBytes < 0 || s.FreeBytes < 0 || s.FreeBytes > s.SizeBytes || s.BlockSize < 4096 {
			t.Fatalf("impossible sizes %+v", s)
		}
		_ = x.Features()
		for _, c := range x.SysChunks {
			_ = c.TypeName()
		}
	})
}

// TestBtrfsStateFromFlags: the error flag and a log root, set in a real
// seed (re-checksummed), give errors and needs_recovery, most severe first.
func TestBtrfsStateFromFlags(t *testing.T) {
	for _, c := range []struct {
		name        string
		flags, root uint64
		want        State
	}{
		{"clean", 1, 0, StateClean},
		{"log_root", 1, 30 << 20, StateNeedsRecovery},
		{"error", 1 | btrfsFlagError, 0, StateErrors},
		{"error+log_root", 1 | btrfsFlagError, 30 << 20, StateErrors},
	} {
		img := btrfsSeedImage(t, "crc32c.bin")
		sb := img[64<<10:]
		binary.LittleEndian.PutUint64(sb[56:], c.flags)
		binary.LittleEndian.PutUint64(sb[96:], c.root)
		btrfsFixCRC(sb)
		x, err := ReadBtrfs(bytes.NewReader(img), int64(len(img)))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := x.Super().State; got != c.want {
			t.Errorf("%s: State %s, want %s", c.name, got, c.want)
		}
	}
}
