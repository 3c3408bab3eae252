package partition

import (
	"context"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// Deleting a partition a hybrid MBR mirrors clears its dos entry, as sgdisk
// -d does (byte for byte); deleting every mirrored partition leaves a
// protective MBR, as sgdisk does; resizing one updates its entry. A stale
// entry would let BIOS firmware or another OS use space the GPT no longer
// gives that partition.
func TestEditUpdatesHybridMBRMirrors(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	ctx := context.Background()
	hybrid := func(t *testing.T) string {
		img := image(t, 64<<20)
		testenv.Run(t, "sgdisk", "-n", "1:2048:+8M", "-n", "2:0:+8M", "-n", "3:0:+8M", img)
		testenv.Run(t, "sgdisk", "-h", "1:2", img)
		return img
	}
	edit := func(t *testing.T, img string, f func(tab *Table)) {
		d := openT(t, img)
		tab := mustRead(t, d)
		f(tab)
		if err := d.Write(ctx, tab); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("delete one", func(t *testing.T) {
		ours, theirs := hybrid(t), hybrid(t)
		testenv.Run(t, "sgdisk", "-d", "2", theirs)
		edit(t, ours, func(tab *Table) {
			if err := tab.Delete(2); err != nil {
				t.Fatal(err)
			}
		})
		if a, b := testenv.ReadFileAt(t, ours, 0, 512), testenv.ReadFileAt(t, theirs, 0, 512); string(a) != string(b) {
			t.Errorf("sector 0 differs from sgdisk -d 2:\nours   %x\nsgdisk %x", a[446:], b[446:])
		}
		sgdiskClean(t, ours)
	})
	t.Run("delete all mirrored", func(t *testing.T) {
		ours, theirs := hybrid(t), hybrid(t)
		testenv.Run(t, "sgdisk", "-d", "1", "-d", "2", theirs)
		edit(t, ours, func(tab *Table) {
			for _, n := range []int{1, 2} {
				if err := tab.Delete(n); err != nil {
					t.Fatal(err)
				}
			}
		})
		// sgdisk writes other CHS bytes; the entries must agree.
		if a, b := mbrEntries(testenv.ReadFileAt(t, ours, 0, 512)), mbrEntries(testenv.ReadFileAt(t, theirs, 0, 512)); a != b {
			t.Errorf("entries differ from sgdisk's:\nours   %+v\nsgdisk %+v", a, b)
		}
		if k := classifyMBR(testenv.ReadFileAt(t, ours, 0, 512)); k != mbrProtective {
			t.Errorf("sector 0 is %v, want protective", k)
		}
		sgdiskClean(t, ours)
	})
	t.Run("resize one", func(t *testing.T) {
		ours := hybrid(t)
		edit(t, ours, func(tab *Table) {
			if _, err := tab.Resize(2, Bytes(4<<20)); err != nil {
				t.Fatal(err)
			}
		})
		e := mbrEntries(testenv.ReadFileAt(t, ours, 0, 512))[2]
		p2, _ := mustRead(t, openT(t, ours)).Partition(2)
		if uint64(e.Start) != p2.Start || uint64(e.Size) != p2.Size {
			t.Errorf("hybrid entry %+v, partition 2 is %d+%d", e, p2.Start, p2.Size)
		}
		sgdiskClean(t, ours)
	})
}
