package btrfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func uuidOrDash(u uuid.UUID) string {
	if u == uuid.Nil {
		return "-"
	}
	return u.String()
}

// listLine is one line of `btrfs subvolume list -puqR -g -c -t`-free form:
// we ask `-puqR` and build the same line from the ioctl listing.
func listLine(s Subvolume) string {
	return fmt.Sprintf("ID %d gen %d parent %d top level %d parent_uuid %s received_uuid %s uuid %s path %s",
		s.ID, s.Generation, s.ParentID, s.ParentID, uuidOrDash(s.ParentUUID), uuidOrDash(s.ReceivedUUID), uuidOrDash(s.UUID), s.Path)
}

// TestSubvolumesDifferential builds a tree of subvolumes and snapshots
// (nested, in plain directories, read-only and writable, a snapshot of a
// snapshot, several in one directory, the same directory inode numbers in
// two subvolumes) and compares the ioctl listing with `btrfs subvolume list
// -puqR` line by line, and read-only flags with `btrfs property get ro`.
func TestSubvolumesDifferential(t *testing.T) {
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.CreateSubvolume(ctx, "a"))
	must(os.MkdirAll(filepath.Join(tf.mnt, "a/dir/deeper"), 0o755))
	must(f.CreateSubvolume(ctx, "a/dir/deeper/b"))
	must(f.CreateSubvolume(ctx, filepath.Join(tf.mnt, "c")))
	must(os.WriteFile(filepath.Join(tf.mnt, "a/file"), []byte("x"), 0o644))
	must(f.Snapshot(ctx, "a", "snap-ro", true))
	must(f.Snapshot(ctx, "a/dir/deeper/b", "a/snap-b", false))
	must(f.Snapshot(ctx, "snap-ro", "snap-of-snap", false))
	// Two more in the same plain directory (one INO_LOOKUP shared), and one
	// in c at a directory with the same inode numbers as a's (inode numbers
	// are per subvolume: the lookups are kept per tree and directory).
	must(f.CreateSubvolume(ctx, "a/dir/deeper/b2"))
	must(f.CreateSubvolume(ctx, "a/dir/deeper/b3"))
	must(os.MkdirAll(filepath.Join(tf.mnt, "c/other/place"), 0o755))
	must(f.CreateSubvolume(ctx, "c/other/place/x"))
	must(f.CreateSubvolume(ctx, "gone"))
	id, err := f.SubvolumeID(ctx, "gone")
	must(err)
	must(f.DeleteSubvolumeID(ctx, id))

	got, err := f.Subvolumes(ctx)
	must(err)
	var mine []string
	for _, s := range got {
		mine = append(mine, listLine(s))
	}
	theirs := strings.Split(strings.TrimSpace(btrfsOut(t, "subvolume", "list", "-puqR", tf.mnt)), "\n")
	mismatches := 0
	for i := 0; i < max(len(mine), len(theirs)); i++ {
		var a, b string
		if i < len(mine) {
			a = mine[i]
		}
		if i < len(theirs) {
			b = strings.Join(strings.Fields(theirs[i]), " ")
		}
		if a != b {
			mismatches++
			t.Errorf("line %d:\n ioctl: %s\n btrfs: %s", i, a, b)
		}
	}
	t.Logf("subvolume list: %d subvolumes, %d mismatches against btrfs subvolume list -puqR", len(got), mismatches)
	if len(got) != 9 {
		t.Errorf("%d subvolumes, want 9", len(got))
	}
	snaps := 0
	for _, s := range got {
		if s.Snapshot {
			snaps++
		}
		ro, err := f.ReadOnly(ctx, s.Path)
		must(err)
		prop := strings.TrimSpace(btrfsOut(t, "property", "get", "-ts", filepath.Join(tf.mnt, s.Path), "ro"))
		if ro != s.ReadOnly || prop != fmt.Sprintf("ro=%v", ro) {
			t.Errorf("%s: listing ro=%v, getflags %v, btrfs property %q", s.Path, s.ReadOnly, ro, prop)
		}
		if s.Otime.IsZero() {
			t.Errorf("%s: no otime", s.Path)
		}
	}
	if snaps != 3 {
		t.Errorf("%d snapshots, want 3", snaps)
	}
	// Snapshot only lists (-s) agree too.
	sOnly := strings.Count(strings.TrimSpace(btrfsOut(t, "subvolume", "list", "-s", tf.mnt)), "\n") + 1
	if sOnly != snaps {
		t.Errorf("btrfs subvolume list -s: %d, ioctl: %d", sOnly, snaps)
	}

	// Read-only flag set and cleared.
	must(f.SetReadOnly(ctx, "c", true))
	if err := os.WriteFile(filepath.Join(tf.mnt, "c/x"), nil, 0o644); err == nil {
		t.Error("wrote into a read-only subvolume")
	}
	must(f.SetReadOnly(ctx, "c", false))
	must(os.WriteFile(filepath.Join(tf.mnt, "c/x"), nil, 0o644))

	// The subvolume id of a plain directory is its subvolume's.
	aid, _ := f.SubvolumeID(ctx, "a")
	did, err := f.SubvolumeID(ctx, "a/dir")
	must(err)
	if did != aid {
		t.Errorf("a/dir in subvolume %d, a is %d", did, aid)
	}
}

func TestDefaultAndDeleteRefusals(t *testing.T) {
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	if id, err := f.DefaultSubvolume(ctx); err != nil || id != TopLevelID {
		t.Fatalf("fresh default %d %v", id, err)
	}
	for _, p := range []string{"p", "p/child", "def", "mnt"} {
		if err := f.CreateSubvolume(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	defID, _ := f.SubvolumeID(ctx, "def")
	if err := f.SetDefaultSubvolume(ctx, defID); err != nil {
		t.Fatal(err)
	}
	got, err := f.DefaultSubvolume(ctx)
	if err != nil || got != defID {
		t.Fatalf("default %d %v, want %d", got, err, defID)
	}
	tool := strings.Fields(btrfsOut(t, "subvolume", "get-default", tf.mnt))
	if len(tool) < 2 || tool[1] != fmt.Sprint(defID) {
		t.Errorf("btrfs subvolume get-default: %v, ioctl %d", tool, defID)
	}
	mntID, _ := f.SubvolumeID(ctx, "mnt")
	other := t.TempDir()
	testenv.Run(t, "mount", "-o", fmt.Sprintf("subvolid=%d", mntID), tf.devs[0], other)
	t.Cleanup(func() { testenv.RunErr("umount", other) })

	cases := []struct {
		path, code string
	}{{"p", RefuseHasChildren}, {"def", RefuseDefault}, {"mnt", RefuseMountedElsewhere}}
	for _, c := range cases {
		err := f.DeleteSubvolume(ctx, c.path)
		var re *RefusedError
		if !errors.As(err, &re) || re.Code != c.code || !errors.Is(err, ErrRefused) {
			t.Errorf("delete %s: %v, want refusal %s", c.path, err, c.code)
		}
		if _, err := os.Stat(filepath.Join(tf.mnt, c.path)); err != nil {
			t.Errorf("%s gone after a refusal: %v", c.path, err)
		}
	}
	if err := f.DeleteSubvolumeID(ctx, TopLevelID); !errors.Is(err, ErrRefused) {
		t.Errorf("delete top level: %v", err)
	}
	if err := WithOverride(RefuseTopLevel)(&options{overrides: map[string]bool{}}); err == nil {
		t.Error("top_level accepted as an override")
	}
	// Overridden: the kernel itself still refuses deleting the default
	// subvolume (EPERM); a mounted one it deletes.
	testenv.Run(t, "umount", other)
	if err := f.DeleteSubvolume(ctx, "p/child"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteSubvolume(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteSubvolume(ctx, "mnt"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDefaultSubvolume(ctx, TopLevelID); err != nil {
		t.Fatal(err)
	}
	if err := f.DeleteSubvolume(ctx, "def"); err != nil {
		t.Fatal(err)
	}
	left, err := f.Subvolumes(ctx)
	if err != nil || len(left) != 0 {
		t.Errorf("left %v %v", left, err)
	}
}
