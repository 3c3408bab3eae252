package blockdev_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// TestDiskQueueReadsEachDiskOnce: the disk queue has one item more than
// there are disks (the /proc tables, at position min(workers, disks)), and
// the index of every item after it is shifted by one. With none to a few
// disks and one to more workers than disks, every disk is read exactly
// once, the files opened are those of the serial read, and every mount and
// swap is found.
func TestDiskQueueReadsEachDiskOnce(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx := context.Background()
	for disks := range 7 {
		tr := blockdevtest.New(t.TempDir())
		for i := range disks {
			name := fmt.Sprintf("vd%c", 'a'+i)
			tr.Virtio(name, i, uint32(16*i), 1<<30)
			if i%2 == 0 {
				tr.Mount(name, "/mnt/"+name, "ext4")
			} else {
				tr.Swap(name)
			}
		}
		if err := tr.Err(); err != nil {
			t.Fatal(err)
		}
		serial, serialOpens, err := blockdev.DiscoverOpens(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDiskWorkers(1))
		if err != nil {
			t.Fatal(err)
		}
		want := render(serial)
		if n, s := strings.Count(want, "/mnt/"), strings.Count(want, " true\n"); n != (disks+1)/2 || s != disks/2 {
			t.Fatalf("%d disks: %d mounts and %d swaps in the serial read; the test tree is wrong:\n%s", disks, n, s, want)
		}
		for workers := 1; workers <= disks+2; workers++ {
			for range 5 {
				var mu sync.Mutex
				reads := map[string]int{}
				count := func(d *sysfs.Dir) ([]string, error) {
					mu.Lock()
					reads[filepath.Base(d.Path())]++
					mu.Unlock()
					return d.Names()
				}
				g, opens, err := blockdev.DiscoverOpens(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDiskWorkers(workers), blockdev.WithListFunc(count))
				if err != nil {
					t.Fatal(err)
				}
				if len(reads) != disks {
					t.Errorf("%d disks, %d workers: %d disks read: %v", disks, workers, len(reads), reads)
				}
				for name, n := range reads {
					if n != 1 {
						t.Errorf("%d disks, %d workers: %s read %d times", disks, workers, name, n)
					}
				}
				if opens != serialOpens {
					t.Errorf("%d disks, %d workers: %d files opened, the serial read opens %d", disks, workers, opens, serialOpens)
				}
				if got := render(g); got != want {
					t.Fatalf("%d disks, %d workers:\n%s\nwant (serial):\n%s", disks, workers, got, want)
				}
			}
		}
	}
}

// TestDiskQueueCancelledAtEachDisk: ctx cancelled while any one disk is
// being read, by any number of workers, fails Discover with the context's
// error and leaves no worker behind (the first helper, started before
// /sys/block was listed, included).
func TestDiskQueueCancelledAtEachDisk(t *testing.T) {
	defer goleak.VerifyNone(t)
	const disks = 5
	tr := blockdevtest.New(t.TempDir())
	for i := range disks {
		tr.Virtio(fmt.Sprintf("vd%c", 'a'+i), i, uint32(16*i), 1<<30)
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	for at := range disks {
		for workers := 1; workers <= 4; workers++ {
			ctx, cancel := context.WithCancel(context.Background())
			var listed atomic.Int32
			cancelling := func(d *sysfs.Dir) ([]string, error) {
				if int(listed.Add(1)) == at+1 {
					cancel()
				}
				return d.Names()
			}
			_, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDiskWorkers(workers), blockdev.WithListFunc(cancelling))
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled at disk %d, %d workers: err = %v, want context.Canceled", at, workers, err)
			}
		}
	}
}
