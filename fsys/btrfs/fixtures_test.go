package btrfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// encodeItems lays items out as BTRFS_IOC_TREE_SEARCH returns them.
func encodeItems(items []Item) []byte {
	var b []byte
	for _, it := range items {
		h := make([]byte, fsioctl.SizeofBtrfsSearchHeader)
		binary.NativeEndian.PutUint64(h[0:], it.Transid)
		binary.NativeEndian.PutUint64(h[8:], it.ObjectID)
		binary.NativeEndian.PutUint64(h[16:], it.Offset)
		binary.NativeEndian.PutUint32(h[24:], it.Type)
		binary.NativeEndian.PutUint32(h[28:], uint32(len(it.Data)))
		b = append(append(b, h...), it.Data...)
	}
	return b
}

// TestRecordFixtures rewrites testdata/*.items from a real filesystem
// (EOS_BTRFS_RECORD=1, as root): the root tree's subvolume items and the
// quota tree's qgroup items of a small tree of subvolumes, a snapshot and
// one limit. The Example and the fuzz seeds read them.
func TestRecordFixtures(t *testing.T) {
	if os.Getenv("EOS_BTRFS_RECORD") != "1" {
		t.Skip("set EOS_BTRFS_RECORD=1 to re-record testdata")
	}
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	for _, p := range []string{"home", "home/alice", "srv"} {
		if err := f.CreateSubvolume(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tf.mnt, "home/alice/notes"), make([]byte, 100<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.EnableQuota(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Snapshot(ctx, "home/alice", "alice-monday", true); err != nil {
		t.Fatal(err)
	}
	id, _ := f.SubvolumeID(ctx, "home/alice")
	if err := f.SetQgroupLimit(ctx, NewQgroupID(0, id), 10<<20, -1); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	record := func(name string, key fsioctl.BtrfsSearchKey, keep func(uint32) bool) {
		var items []Item
		err := f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
			if keep(h.Type) {
				items = append(items, Item{ObjectID: h.ObjectID, Type: h.Type, Offset: h.Offset, Transid: h.Transid, Data: append([]byte(nil), item...)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name), encodeItems(items), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Println("recorded", name, len(items), "items")
	}
	rk := fsioctl.BtrfsSearchRange(fsioctl.BtrfsRootTreeObjectID)
	rk.MinObjectID, rk.MaxObjectID = fsioctl.BtrfsFirstFreeObjectID, fsioctl.BtrfsLastFreeObjectID
	rk.MinType, rk.MaxType = fsioctl.BtrfsRootItemKey, fsioctl.BtrfsRootBackrefKey
	record("roottree.items", rk, func(t uint32) bool { return t == fsioctl.BtrfsRootItemKey || t == fsioctl.BtrfsRootBackrefKey })
	record("quotatree.items", fsioctl.BtrfsSearchRange(fsioctl.BtrfsQuotaTreeObjectID), func(uint32) bool { return true })
	dk := fsioctl.BtrfsSearchRange(fsioctl.BtrfsDevTreeObjectID)
	dk.MinObjectID, dk.MaxObjectID = 1, 1
	record("devtree.items", dk, func(t uint32) bool { return t == fsioctl.BtrfsDevExtentKey })
	record("chunktree.items", fsioctl.BtrfsSearchRange(fsioctl.BtrfsChunkTreeObjectID), func(t uint32) bool { return t == fsioctl.BtrfsChunkItemKey })
}
