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
	ctx := context.Background()
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
		g, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithProbe(false))
		if err != nil {
			t.Fatal(err)
		}
		s, err := blockdev.NewScanner(blockdev.WithRoot(tr.Dir), blockdev.WithProbe(false))
		if err != nil {
			t.Fatal(err)
		}
		for pass := range 2 {
			sg, err := s.Discover(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for who, g := range map[string]*blockdev.Graph{"Discover": g, "Scanner": sg} {
				d, ok := g.ByName("sda")
				if !ok {
					t.Fatalf("%s: sda not found", who)
				}
				if d.Transport != c.want {
					t.Errorf("%s (pass %d), device entry %q: transport %q, want %q", who, pass, c.entry, d.Transport, c.want)
				}
			}
		}
		s.Close()
	}
}
