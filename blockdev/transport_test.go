package blockdev_test

import (
	"context"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
)

// TestSCSITransportFromDeviceEntries: a SCSI disk whose device has a
// sas_device entry is on SAS, one with an ieee1394_id on FireWire (sbp),
// as lsblk decides, before the host driver's name is asked; the entries
// are found in the one listing of the device directory, by Discover and by
// a Scanner alike.
func TestSCSITransportFromDeviceEntries(t *testing.T) {
	for _, c := range []struct{ entry, want string }{
		{"sas_device", "sas"},
		{"ieee1394_id", "sbp"},
		{"", "sata"}, // the ahci host driver
	} {
		tr := blockdevtest.New(t.TempDir())
		tr.SATA("sda", 0, 0, 1<<30, "M", "", false)
		if c.entry != "" {
			tr.Set("sda", "device/"+c.entry, "1")
		}
		if err := tr.Err(); err != nil {
			t.Fatal(err)
		}
		for who, g := range discoverBoth(t, tr.Dir) {
			d, ok := g.ByName("sda")
			if !ok {
				t.Fatalf("%s: sda not found", who)
			}
			if d.Transport != c.want {
				t.Errorf("%s, device entry %q: transport %q, want %q", who, c.entry, d.Transport, c.want)
			}
		}
	}
}

// discoverBoth returns, by who made it, the graph Discover makes of the
// fake tree at dir and those of a Scanner's first and second pass (the
// second reads through the files the first kept open, where it keeps any).
func discoverBoth(t *testing.T, dir string) map[string]*blockdev.Graph {
	t.Helper()
	ctx := context.Background()
	g, err := blockdev.Discover(ctx, blockdev.WithRoot(dir), blockdev.WithProbe(false))
	if err != nil {
		t.Fatal(err)
	}
	s, err := blockdev.NewScanner(blockdev.WithRoot(dir), blockdev.WithProbe(false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	graphs := map[string]*blockdev.Graph{"Discover": g}
	for _, pass := range []string{"Scanner pass 1", "Scanner pass 2"} {
		if graphs[pass], err = s.Discover(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return graphs
}
