package fsys

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestLabelCmd(t *testing.T) {
	cases := []struct {
		t     Type
		label string
		want  string
	}{
		{Ext4, "data", "tune2fs -L data /dev/x"},
		{Ext2, "", `tune2fs -L "" /dev/x`},
		{XFS, "x", "xfs_admin -L x /dev/x"},
		{XFS, "", "xfs_admin -L -- /dev/x"},
		{Btrfs, "b", "btrfs filesystem label /dev/x b"},
		{VFAT, "EFI", "fatlabel /dev/x EFI"},
		{VFAT, "", "fatlabel -r /dev/x"},
		{Swap, "sw", "swaplabel -L sw /dev/x"},
	}
	for _, c := range cases {
		cmd, err := labelCmd("/dev/x", c.t, c.label)
		if err != nil || cmd.String() != c.want {
			t.Errorf("labelCmd(%s, %q) = %q, %v; want %q", c.t, c.label, cmd.String(), err, c.want)
		}
	}
	if _, err := labelCmd("/dev/x", XFS, "thirteen-char"); !errors.Is(err, ErrInvalid) {
		t.Errorf("long xfs label: %v", err)
	}
}

func TestUUIDCmd(t *testing.T) {
	up := strings.ToUpper(testUUID)
	cases := []struct {
		t    Type
		uuid string
		want string
	}{
		{Ext4, up, "tune2fs -U " + testUUID + " /dev/x"},
		{XFS, testUUID, "xfs_admin -U " + testUUID + " /dev/x"},
		{Btrfs, testUUID, "btrfstune -f -U " + testUUID + " /dev/x"},
		{VFAT, "1A2B-3C4D", "fatlabel -i /dev/x 1a2b3c4d"},
		{Swap, testUUID, "swaplabel -U " + testUUID + " /dev/x"},
	}
	for _, c := range cases {
		cmd, err := uuidCmd("/dev/x", c.t, c.uuid)
		if err != nil || cmd.String() != c.want {
			t.Errorf("uuidCmd(%s, %q) = %q, %v; want %q", c.t, c.uuid, cmd.String(), err, c.want)
		}
	}
	for _, c := range []struct {
		t Type
		u string
	}{{Ext4, "1A2B-3C4D"}, {VFAT, testUUID}, {XFS, ""}} {
		if _, err := uuidCmd("/dev/x", c.t, c.u); !errors.Is(err, ErrInvalid) {
			t.Errorf("uuidCmd(%s, %q): %v", c.t, c.u, err)
		}
	}
}

// TestLabelOfflineReal relabels and re-UUIDs every type on a loop device
// and reads both back with blkid -p after each change. The ext4 case uses
// metadata_csum without metadata_csum_seed (mke2fs 1.47's default), where
// tune2fs -U rewrites every checksum; e2fsck -fn must be clean after it.
func TestLabelOfflineReal(t *testing.T) {
	const newUUID = "0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"
	cases := []struct {
		t        Type
		mkfs     []string
		tools    []string
		size     int64
		label    string
		uuid     string
		blkUUID  string
		checkCmd []string
	}{
		{Ext4, []string{"mkfs.ext4", "-q", "-F", "-O", "metadata_csum,^metadata_csum_seed"}, []string{"tune2fs", "e2fsck"}, 64 << 20, "relabelled", newUUID, newUUID, []string{"e2fsck", "-f", "-n"}},
		{XFS, []string{"mkfs.xfs", "-q", "-f"}, []string{"xfs_admin", "xfs_db", "xfs_repair"}, 300 << 20, "relabelled", newUUID, newUUID, []string{"xfs_repair", "-n"}},
		{Btrfs, []string{"mkfs.btrfs", "-q", "-f"}, []string{"btrfs", "btrfstune"}, 300 << 20, "relabelled", newUUID, newUUID, []string{"btrfs", "check", "--readonly"}},
		{VFAT, []string{"mkfs.fat"}, []string{"fatlabel", "fsck.fat"}, 64 << 20, "RELABELLED", "DEAD-BEEF", "DEAD-BEEF", []string{"fsck.fat", "-n"}},
		{Swap, []string{"mkswap"}, []string{"swaplabel"}, 16 << 20, "relabelled", newUUID, newUUID, nil},
	}
	for _, c := range cases {
		t.Run(string(c.t), func(t *testing.T) {
			testenv.RequireTool(t, append([]string{c.mkfs[0], "blkid"}, c.tools...)...)
			dev := testenv.Loop(t, c.size)
			testenv.Run(t, c.mkfs[0], append(c.mkfs[1:], dev)...)
			m := realManager(t, "", dev)
			ctx := context.Background()
			if err := m.setLabelOffline(ctx, dev, c.t, c.label); err != nil {
				t.Fatal(err)
			}
			if got := blkidTag(t, dev, "LABEL"); got != c.label {
				t.Errorf("after setLabelOffline: LABEL=%q, want %q", got, c.label)
			}
			if err := m.setUUIDOffline(ctx, dev, c.t, c.uuid); err != nil {
				t.Fatal(err)
			}
			if got := blkidTag(t, dev, "UUID"); got != c.blkUUID {
				t.Errorf("after setUUIDOffline: UUID=%q, want %q", got, c.blkUUID)
			}
			if got := blkidTag(t, dev, "LABEL"); got != c.label {
				t.Errorf("after setUUIDOffline: LABEL=%q, want %q", got, c.label)
			}
			if c.checkCmd != nil {
				testenv.Run(t, c.checkCmd[0], append(c.checkCmd[1:], dev)...)
			}
			if err := m.setLabelOffline(ctx, dev, c.t, ""); err != nil {
				t.Fatal(err)
			}
			if got := blkidTag(t, dev, "LABEL"); got != "" {
				t.Errorf("after clearing: LABEL=%q", got)
			}
			// An empty UUID is a new random one, chosen by SetUUID and
			// verified by its Execute.
			jm, j := newTestManager(t)
			if err := jm.SetUUID(ctx, dev, ""); err != nil {
				t.Fatal(err)
			}
			if es := j.Entries(); len(es) == 0 || !strings.Contains(es[len(es)-1].Intent.Description, blkidTag(t, dev, "UUID")) {
				t.Errorf("the journal's intent does not name the new UUID %q: %+v", blkidTag(t, dev, "UUID"), es)
			}
			got := blkidTag(t, dev, "UUID")
			if got == c.blkUUID || validateUUID(c.t, got) != nil {
				t.Errorf("after SetUUID(\"\"): UUID=%q, want a new random one (was %q)", got, c.blkUUID)
			}
		})
	}
}

// TestSetUUIDOfflineDirtyExtReal: an ext4 with metadata_csum whose journal
// needs recovery. tune2fs -U alone replays the journal and then refuses
// ("This operation requires a freshly checked filesystem", exit 1);
// setUUIDOffline's e2fsck -f -p first makes it work.
func TestSetUUIDOfflineDirtyExtReal(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "tune2fs", "e2fsck", "xfs_io", "blkid")
	const newUUID = "0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"
	dirty := func(dev string) {
		testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
		dir := mountTemp(t, dev)
		writeFiles(t, dir, 50)
		testenv.Run(t, "sync")
		writeFiles(t, dir, 80)
		testenv.Run(t, "xfs_io", "-x", "-c", "shutdown -f", dir) // EXT4_IOC_SHUTDOWN is XFS_IOC_GOINGDOWN
		umount(t, dir)
	}
	dev := testenv.Loop(t, 64<<20)
	dirty(dev)
	if out, err := testenv.RunErr("tune2fs", "-U", newUUID, dev); err == nil {
		t.Errorf("tune2fs -U alone succeeded on a dirty ext4 (%s): the e2fsck before it may no longer be needed", out)
	} else if !strings.Contains(string(out), "freshly checked") {
		t.Logf("tune2fs -U alone: %v: %s", err, out)
	}
	dirty(dev)
	m := realManager(t, "", dev)
	if err := m.setUUIDOffline(context.Background(), dev, Ext4, newUUID); err != nil {
		t.Fatal(err)
	}
	if got := blkidTag(t, dev, "UUID"); got != newUUID {
		t.Errorf("UUID=%q", got)
	}
	testenv.Run(t, "e2fsck", "-f", "-n", dev)
}

// A label getopt would read as an option never reaches btrfs or fatlabel.
func TestLabelCmdRefusesOptionLikeLabels(t *testing.T) {
	for _, typ := range []Type{Btrfs, VFAT} {
		if _, err := labelCmd("/dev/loop9", typ, "-r"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s label -r: %v", typ, err)
		}
	}
	if c, err := labelCmd("/dev/loop9", Ext4, "-r"); err != nil || c.Args[1] != "-r" {
		t.Errorf("ext4 label -r (an option's argument there): %v %v", c, err)
	}
}
