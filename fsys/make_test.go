package fsys

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const testUUID = "6b1c7d4e-2f0a-4c1e-9d3b-5a7e8f901234"

func TestMkfsCmd(t *testing.T) {
	cases := []struct {
		t    Type
		o    MakeOptions
		want string
	}{
		{Ext4, MakeOptions{}, "mke2fs -t ext4 /dev/x"},
		{Ext4, MakeOptions{Force: true, BlockSize: 1024, Label: "data", UUID: testUUID,
			Features: []string{"^has_journal", "bigalloc"}, NoDiscard: true, ExtUndoFile: "/var/u.e2undo"},
			"mke2fs -t ext4 -F -b 1024 -L data -U " + testUUID + " -O ^has_journal,bigalloc -E nodiscard -z /var/u.e2undo /dev/x"},
		{Ext2, MakeOptions{}, "mke2fs -t ext2 /dev/x"},
		{XFS, MakeOptions{}, "mkfs.xfs /dev/x"},
		{XFS, MakeOptions{Force: true, NoDiscard: true, BlockSize: 4096, SectorSize: 4096, Label: "x",
			UUID: strings.ToUpper(testUUID), Features: []string{"reflink=0", "bigtime", "sparse", "^ftype"}},
			"mkfs.xfs -f -K -b size=4096 -s size=4096 -L x -m uuid=" + testUUID + ",reflink=0,bigtime=1 -i sparse=1 -n ftype=0 /dev/x"},
		{Btrfs, MakeOptions{}, "mkfs.btrfs /dev/x"},
		{Btrfs, MakeOptions{Force: true, NoDiscard: true, Label: "b", UUID: testUUID, SectorSize: 4096, BlockSize: 16384,
			Features: []string{"^no-holes", "block-group-tree"}},
			"mkfs.btrfs -f -K -L b -U " + testUUID + " -s 4096 -n 16384 -O ^no-holes,block-group-tree /dev/x"},
		{VFAT, MakeOptions{}, "mkfs.fat /dev/x"},
		{VFAT, MakeOptions{Force: true, Features: []string{"fat32"}, SectorSize: 4096, BlockSize: 8192, Label: "EFI", UUID: "1A2B-3C4D"},
			"mkfs.fat -I -F 32 -S 4096 -s 2 -n EFI -i 1a2b3c4d /dev/x"},
		{VFAT, MakeOptions{BlockSize: 4096}, "mkfs.fat -s 8 /dev/x"},
	}
	for _, c := range cases {
		if err := c.o.Validate(c.t); err != nil {
			t.Errorf("%s %+v: %v", c.t, c.o, err)
			continue
		}
		cmd, err := mkfsCmd("/dev/x", c.t, c.o)
		if err != nil {
			t.Errorf("%s: %v", c.t, err)
			continue
		}
		if got := cmd.String(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.t, got, c.want)
		}
	}
	if _, err := mkfsCmd("/dev/x", Swap, MakeOptions{}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("swap by a tool: %v", err)
	}
}

func TestMkfsRefusesBeforeRunning(t *testing.T) {
	r, _ := command.NewReplayer() // any run would be ErrUnexpectedCommand
	m, _ := New(WithRunner(r))
	err := m.mkfs(context.Background(), "/dev/x", XFS, MakeOptions{Label: "thirteen-char"}, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("long xfs label: %v", err)
	}
}

func TestMkfsToolMissing(t *testing.T) {
	r, _ := command.NewReplayer(command.Fixture{Tool: "mkfs.btrfs", Args: []string{"/dev/x"}, Missing: true, Package: "btrfs-progs"})
	m, _ := New(WithRunner(r))
	err := m.mkfs(context.Background(), "/dev/x", Btrfs, MakeOptions{}, nil)
	var ns *NotSupportedError
	if !errors.As(err, &ns) || !strings.Contains(ns.Missing, "btrfs-progs") || !errors.Is(err, command.ErrToolMissing) {
		t.Errorf("missing mkfs.btrfs: %v", err)
	}
}

func TestCleanProgress(t *testing.T) {
	if got := cleanProgress("Writing inode tables: 3/8\b\b\b"); got != "Writing inode tables: 3/8" {
		t.Errorf("%q", got)
	}
}

// TestMkfsReal makes every type with a label and UUID on a loop device and
// reads them back with blkid -p.
func TestMkfsReal(t *testing.T) {
	cases := []struct {
		t     Type
		tool  string
		size  int64
		o     MakeOptions
		uuid  string // as blkid prints it
		extra map[string]string
	}{
		{Ext4, "mke2fs", 64 << 20, MakeOptions{Label: "e4", UUID: testUUID, BlockSize: 1024, Features: []string{"^has_journal"}, NoDiscard: true}, testUUID, map[string]string{"BLOCK_SIZE": "1024"}},
		{Ext2, "mke2fs", 32 << 20, MakeOptions{Label: "e2", UUID: testUUID}, testUUID, map[string]string{"TYPE": "ext2"}},
		{XFS, "mkfs.xfs", 300 << 20, MakeOptions{Label: "x", UUID: testUUID, SectorSize: 4096, Features: []string{"reflink=0"}, NoDiscard: true}, testUUID, map[string]string{"BLOCK_SIZE": "4096"}},
		{Btrfs, "mkfs.btrfs", 300 << 20, MakeOptions{Label: "b", UUID: testUUID, BlockSize: 65536, Features: []string{"^no-holes"}, NoDiscard: true}, testUUID, nil},
		{VFAT, "mkfs.fat", 64 << 20, MakeOptions{Label: "EOS", UUID: "1A2B-3C4D", Features: []string{"fat32"}}, "1A2B-3C4D", map[string]string{"VERSION": "FAT32"}},
		{Swap, "", 16 << 20, MakeOptions{Label: "sw", UUID: testUUID}, testUUID, nil},
	}
	for _, c := range cases {
		t.Run(string(c.t), func(t *testing.T) {
			if c.tool != "" {
				testenv.RequireTool(t, c.tool)
			}
			testenv.RequireTool(t, "blkid")
			dev := testenv.Loop(t, c.size)
			m := realManager(t, "", dev)
			var lines []string
			if err := m.mkfs(context.Background(), dev, c.t, c.o, func(l string) { lines = append(lines, l) }); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"TYPE": string(c.t), "LABEL": c.o.Label, "UUID": c.uuid}
			for k, v := range c.extra {
				want[k] = v
			}
			for k, v := range want {
				if got := blkidTag(t, dev, k); got != v {
					t.Errorf("blkid %s=%q, want %q", k, got, v)
				}
			}
			if c.t != Swap && len(lines) == 0 && c.t != Btrfs && c.t != VFAT {
				t.Errorf("no progress lines from %s", c.tool)
			}
		})
	}
}

// TestMkfsUndoReal: an override mkfs.ext4 over an xfs keeps mke2fs's undo
// file, and e2undo brings the xfs back exactly.
func TestMkfsUndoReal(t *testing.T) {
	testenv.RequireTool(t, "mke2fs", "e2undo", "mkfs.xfs", "blkid")
	dev := testenv.Loop(t, 300<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-m", "uuid="+testUUID, dev)
	before := testenv.Run(t, "blkid", "-p", "-o", "export", dev)
	m := realManager(t, "", dev)
	undo := filepath.Join(t.TempDir(), "mkfs.e2undo")
	ctx := context.Background()
	if err := m.mkfs(ctx, dev, Ext4, MakeOptions{Force: true, ExtUndoFile: undo}, nil); err != nil {
		t.Fatal(err)
	}
	if got := blkidTag(t, dev, "TYPE"); got != "ext4" {
		t.Fatalf("after mkfs TYPE=%q", got)
	}
	if err := m.e2undo(ctx, undo, dev); err != nil {
		t.Fatal(err)
	}
	after := testenv.Run(t, "blkid", "-p", "-o", "export", dev)
	if string(after) != string(before) {
		t.Errorf("after e2undo blkid says\n%s\nwant\n%s", after, before)
	}
	testenv.Run(t, "xfs_repair", "-n", dev)
}

// TestMkfsWithoutForceReal records what the tools do over an existing
// filesystem when Force is off and standard input is /dev/null: mkfs.xfs
// and mkfs.btrfs refuse (exit 1, nothing written), but mke2fs and mkfs.fat
// overwrite without asking. That is why blankness is preflight's proof and
// never left to the tools.
func TestMkfsWithoutForceReal(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.fat", "blkid")
	dev := testenv.Loop(t, 300<<20)
	m := realManager(t, "", dev)
	ctx := context.Background()
	for _, typ := range []Type{XFS, Btrfs} {
		testenv.Run(t, "mkfs.ext4", "-q", "-F", "-E", "nodiscard", dev)
		err := m.mkfs(ctx, dev, typ, MakeOptions{NoDiscard: true}, nil)
		var xe *command.ExitError
		if !errors.As(err, &xe) || xe.Code != 1 {
			t.Errorf("mkfs %s over ext4 without Force: %v, want exit 1", typ, err)
		}
		if got := blkidTag(t, dev, "TYPE"); got != "ext4" {
			t.Errorf("after refused mkfs %s: TYPE=%q", typ, got)
		}
	}
	for _, typ := range []Type{Ext4, VFAT} {
		testenv.Run(t, "mkfs.xfs", "-q", "-f", "-K", dev)
		if err := m.mkfs(ctx, dev, typ, MakeOptions{NoDiscard: true}, nil); err != nil {
			t.Errorf("mkfs %s over xfs without Force: %v", typ, err)
		}
		if got := blkidTag(t, dev, "TYPE"); got != string(typ) {
			t.Errorf("mkfs %s over xfs without Force: TYPE=%q (the tool no longer overwrites silently?)", typ, got)
		}
	}
}
