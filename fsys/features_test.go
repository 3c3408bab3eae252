package fsys

import (
	"context"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// libblockdevRow is one row of libblockdev 3.x's fs_features table
// (src/plugins/fs/generic.c), transcribed as facts: which resize modes,
// whether check and repair, whether label and UUID can be set.
type libblockdevRow struct {
	resize               []Capability
	check, repair        bool
	label, uuid, minSize bool
}

var libblockdev = map[Type]libblockdevRow{
	Ext2:  {resize: []Capability{CapOnlineGrow, CapOfflineGrow, CapOfflineShrink}, check: true, repair: true, label: true, uuid: true, minSize: true},
	Ext3:  {resize: []Capability{CapOnlineGrow, CapOfflineGrow, CapOfflineShrink}, check: true, repair: true, label: true, uuid: true, minSize: true},
	Ext4:  {resize: []Capability{CapOnlineGrow, CapOfflineGrow, CapOfflineShrink}, check: true, repair: true, label: true, uuid: true, minSize: true},
	XFS:   {resize: []Capability{CapOnlineGrow, CapOfflineGrow}, check: true, repair: true, label: true, uuid: true},
	VFAT:  {resize: []Capability{CapOfflineGrow, CapOfflineShrink}, check: true, repair: true, label: true, uuid: true},
	Btrfs: {resize: []Capability{CapOnlineGrow, CapOnlineShrink}, check: true, repair: true, label: true, uuid: true},
}

// whyDifferent is every place our matrix differs from libblockdev's, and why.
var whyDifferent = map[Type]map[Capability]string{
	VFAT: {
		CapOfflineGrow:   "libblockdev resizes FAT with libparted's resizer (its vfat-resize); no FAT resizer ships in Debian and libstorage-ng refuses FAT resize for its bugs",
		CapOfflineShrink: "as offline grow",
	},
	Btrfs: {
		CapOfflineGrow:   "we resize an unmounted btrfs through a private temporary mount; libblockdev asks the caller to mount it",
		CapOfflineShrink: "as offline grow",
		CapMinSize:       "we compute btrfs's minimum device size from its dev extents by ioctl; libblockdev has no btrfs minimum",
	},
}

func TestFeaturesAgainstLibblockdev(t *testing.T) {
	m, err := New(WithRunner(mustReplayer(t)))
	if err != nil {
		t.Fatal(err)
	}
	resizeCaps := []Capability{CapOnlineGrow, CapOnlineShrink, CapOfflineGrow, CapOfflineShrink}
	for typ, row := range libblockdev {
		f, err := m.Features(context.Background(), typ)
		if err != nil {
			t.Fatal(err)
		}
		theirs := map[Capability]bool{CapCheck: row.check, CapRepair: row.repair, CapMinSize: row.minSize,
			CapLabelOffline: row.label, CapUUIDOffline: row.uuid}
		for _, c := range resizeCaps {
			theirs[c] = false
		}
		for _, c := range row.resize {
			theirs[c] = true
		}
		for c, want := range theirs {
			got := f.Has(c)
			if c == CapLabelOffline || c == CapUUIDOffline {
				// libblockdev does not say online or offline: either counts.
				on := CapLabelOnline
				if c == CapUUIDOffline {
					on = CapUUIDOnline
				}
				got = got || f.Has(on)
			}
			why, explained := whyDifferent[typ][c]
			switch {
			case got == want && explained:
				t.Errorf("%s %s: agrees with libblockdev but is listed as different (%s)", typ, c, why)
			case got != want && !explained:
				t.Errorf("%s %s: ours %v, libblockdev %v, and no reason is written down", typ, c, got, want)
			}
		}
	}
}

func TestFeaturesEveryCapabilityExplained(t *testing.T) {
	m, err := New(WithRunner(mustReplayer(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range Types {
		f, err := m.Features(context.Background(), typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range Capabilities {
			s, ok := f.Caps[c]
			if !ok {
				t.Errorf("%s: %s missing from the matrix", typ, c)
			}
			if !s.Supported && s.Note == "" {
				t.Errorf("%s: %s unsupported without a reason", typ, c)
			}
			if s.Supported != (f.Available(c) == nil) {
				t.Errorf("%s: %s supported %v but Available says %v", typ, c, s.Supported, f.Available(c))
			}
		}
		if f.SmallestBytes <= 0 || f.LabelMax <= 0 {
			t.Errorf("%s: smallest %d, label max %d", typ, f.SmallestBytes, f.LabelMax)
		}
	}
	if _, err := m.Features(context.Background(), "ntfs"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("ntfs: %v, want ErrNotSupported", err)
	}
}

// A tool missing makes its capabilities unavailable, naming the program
// and its Debian package; the package still loads and the rest works.
func TestFeaturesMissingTool(t *testing.T) {
	x, err := command.New(command.WithSearchPath(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(WithRunner(pathOnly{x}))
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Features(context.Background(), XFS)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Available(CapCheck)
	var ns *NotSupportedError
	if !errors.As(err, &ns) || ns.Missing != "xfs_repair (Debian package xfsprogs)" {
		t.Fatalf("check without xfs_repair: %v", err)
	}
	if err := f.Available(CapOnlineGrow); err != nil {
		t.Errorf("online grow needs no tool: %v", err)
	}
}

// pathOnly is an Exec whose search path is only the given directories (no
// $PATH), for the missing-tool test.
type pathOnly struct{ *command.Exec }

func mustReplayer(t *testing.T) *command.Replayer {
	t.Helper()
	r, err := command.NewReplayer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The tool Features names for making a filesystem is the one make runs, so
// that "available" means the command will be found.
func TestFeaturesNameTheMakeTool(t *testing.T) {
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []Type{Ext2, Ext3, Ext4, XFS, Btrfs, VFAT} {
		f, err := m.Features(context.Background(), typ)
		if err != nil {
			t.Fatal(err)
		}
		c, err := mkfsCmd("/dev/loop0", typ, MakeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tools := f.Caps[CapMake].Tools; len(tools) != 1 || tools[0] != c.Tool {
			t.Errorf("%s: Features names %v for make, make runs %s", typ, tools, c.Tool)
		}
	}
}
