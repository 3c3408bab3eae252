package fsys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func zeroFile(t *testing.T, path string, size int64) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWriteSwapMatchesMkswap writes the same header as mkswap -U -L -p on
// image files of several sizes and page sizes and compares the whole
// images byte for byte. They match exactly: mkswap writes only the first
// page on a blank image, as writeSwap does. (A 16-byte label is where
// they would differ: mkswap stores 15 bytes and a NUL, so Validate allows
// 15.)
func TestWriteSwapMatchesMkswap(t *testing.T) {
	testenv.RequireTool(t, "mkswap")
	dir := t.TempDir()
	const id = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
	compared := 0
	for _, ps := range []int64{4096, 16384, 65536} {
		for _, pages := range []int64{10, 257, 2560} {
			for _, extra := range []int64{0, ps - 1} { // a tail under a page is not counted
				for _, label := range []string{"", "swap", "fifteen-bytes-a"} {
					size := pages*ps + extra
					name := fmt.Sprintf("ps%d-p%d-x%d-l%d", ps, pages, extra, len(label))
					ours := filepath.Join(dir, name+".ours")
					theirs := filepath.Join(dir, name+".mkswap")
					f := zeroFile(t, ours, size)
					if err := writeSwap(f, size, MakeOptions{UUID: id, Label: label, PageSize: ps}); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					zeroFile(t, theirs, size)
					args := []string{"-U", id, "-p", fmt.Sprint(ps)}
					if label != "" {
						args = append(args, "-L", label)
					}
					testenv.Run(t, "mkswap", append(args, theirs)...)
					a, _ := os.ReadFile(ours)
					b, _ := os.ReadFile(theirs)
					if !bytes.Equal(a, b) {
						for i := range a {
							if a[i] != b[i] {
								t.Errorf("%s: first difference at byte %d: ours %#x, mkswap %#x", name, i, a[i], b[i])
								break
							}
						}
					}
					compared++
				}
			}
		}
	}
	t.Logf("%d images identical to mkswap's", compared)
}

// TestWriteSwapReadBack: blkid -p and swaplabel read our header as we wrote
// it, with a random UUID when none is given.
func TestWriteSwapReadBack(t *testing.T) {
	testenv.RequireTool(t, "blkid", "swaplabel")
	img := filepath.Join(t.TempDir(), "swap.img")
	f := zeroFile(t, img, 8<<20)
	if err := writeSwap(f, 8<<20, MakeOptions{Label: "eos-swap"}); err != nil {
		t.Fatal(err)
	}
	if got := blkidTag(t, img, "TYPE"); got != "swap" {
		t.Fatalf("blkid TYPE=%q", got)
	}
	if got := blkidTag(t, img, "LABEL"); got != "eos-swap" {
		t.Errorf("blkid LABEL=%q", got)
	}
	if got := blkidTag(t, img, "VERSION"); got != "1" {
		t.Errorf("blkid VERSION=%q", got)
	}
	u := blkidTag(t, img, "UUID")
	if !canonicalUUID(u) || u[14] != '4' {
		t.Errorf("blkid UUID=%q, want a random (version 4) uuid", u)
	}
	out := string(testenv.Run(t, "swaplabel", img))
	if !strings.Contains(out, "LABEL: eos-swap") || !strings.Contains(out, "UUID:  "+u) {
		t.Errorf("swaplabel says %q", out)
	}
}

func TestWriteSwapRefuses(t *testing.T) {
	f := zeroFile(t, filepath.Join(t.TempDir(), "s"), 1<<20)
	for _, c := range []struct {
		size int64
		o    MakeOptions
	}{
		{9 * 4096, MakeOptions{PageSize: 4096}},
		{1 << 20, MakeOptions{PageSize: 4096, Label: strings.Repeat("x", 16)}},
		{1 << 20, MakeOptions{PageSize: 3000}},
		{1 << 20, MakeOptions{PageSize: 4096, UUID: "zz"}},
	} {
		if err := writeSwap(f, c.size, c.o); !errors.Is(err, ErrInvalid) {
			t.Errorf("writeSwap(%d, %+v) = %v, want ErrInvalid", c.size, c.o, err)
		}
	}
}

// TestMakeSwapDeviceReal makes swap on a loop device through mkfs, reads
// it back with blkid -p, and shows O_EXCL refuses a device in use.
func TestMakeSwapDeviceReal(t *testing.T) {
	dev := testenv.Loop(t, 16<<20)
	m := realManager(t, "", dev)
	ctx := context.Background()
	const id = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	if err := m.mkfs(ctx, dev, Swap, MakeOptions{UUID: id, Label: "sw"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := blkidTag(t, dev, "UUID"); got != id {
		t.Errorf("blkid UUID=%q", got)
	}
	if got := blkidTag(t, dev, "LABEL"); got != "sw" {
		t.Errorf("blkid LABEL=%q", got)
	}
	// Held open exclusively by someone else: EBUSY, typed.
	hold, err := os.OpenFile(dev, os.O_RDONLY|0x80 /* O_EXCL */, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if err := makeSwapDevice(ctx, dev, MakeOptions{}); !errors.Is(err, ErrBusy) {
		t.Errorf("makeSwapDevice on a held device = %v, want ErrBusy", err)
	}
}

// TestWriteSwapOverDataMatchesMkswap: over a device full of old data both
// rewrite the whole first page (bootbits included) and leave the rest as
// it was.
func TestWriteSwapOverDataMatchesMkswap(t *testing.T) {
	testenv.RequireTool(t, "mkswap")
	dir := t.TempDir()
	const id = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
	old := make([]byte, 1<<20)
	for i := range old {
		old[i] = byte(i*7 + i>>8) // deterministic, no known signature in it
	}
	for _, ps := range []int64{4096, 65536} {
		ours, theirs := filepath.Join(dir, fmt.Sprint(ps, ".ours")), filepath.Join(dir, fmt.Sprint(ps, ".mkswap"))
		for _, p := range []string{ours, theirs} {
			if err := os.WriteFile(p, old, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.OpenFile(ours, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = writeSwap(f, int64(len(old)), MakeOptions{UUID: id, Label: "old", PageSize: ps})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		testenv.Run(t, "mkswap", "-U", id, "-L", "old", "-p", fmt.Sprint(ps), theirs)
		a, _ := os.ReadFile(ours)
		b, _ := os.ReadFile(theirs)
		if !bytes.Equal(a, b) {
			t.Errorf("page size %d: images differ", ps)
		}
		if !bytes.Equal(a[ps:], old[ps:]) {
			t.Errorf("page size %d: data past the first page changed", ps)
		}
		if !bytes.Equal(a[:1024], make([]byte, 1024)) {
			t.Errorf("page size %d: bootbits not zeroed", ps)
		}
	}
}
