package uevent

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// waitFor reads events until one for devName with the given action comes,
// skipping the traffic of other tests' loop devices.
func waitFor(t *testing.T, c *Conn, devName string, action Action) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		e, err := c.Next(ctx)
		if errors.Is(err, ErrOverrun) {
			continue
		}
		if err != nil {
			t.Fatalf("waiting for %s %s: %v", action, devName, err)
		}
		if e.DevName == devName && e.Action == action {
			return e
		}
	}
}

// TestNetlinkLoopEvents attaches a loop device (the kernel announces it with
// "change"), adds a partition with partx (an "add" for loopNp1) and deletes
// it (a "remove"), and checks each event's typed fields against sysfs.
func TestNetlinkLoopEvents(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "sfdisk", "partx", "losetup")
	c, err := Listen(context.Background(), WithSubsystem("block"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 8<<20); err != nil {
		t.Fatal(err)
	}
	sf := testenv.RequireTool(t, "sfdisk")[0]
	cmd := exec.Command(sf, "-q", img)
	cmd.Stdin = strings.NewReader("label: dos\nstart=2048,size=4096,type=83\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	dev := testenv.LoopFile(t, img)
	name := filepath.Base(dev)

	// Other packages' tests attach and detach loop devices meanwhile, and
	// the kernel may reuse this name for them just before: the change
	// event of this attach is the one with the device's diskseq now.
	var want uint64
	if seq, err := os.ReadFile("/sys/class/block/" + name + "/diskseq"); err == nil {
		want, _ = strconv.ParseUint(strings.TrimSpace(string(seq)), 10, 64)
	}
	e := waitFor(t, c, name, ActionChange)
	for want != 0 && e.DiskSeq != 0 && e.DiskSeq < want {
		e = waitFor(t, c, name, ActionChange)
	}
	t.Logf("attach: %+v", e)
	mm, err := os.ReadFile("/sys/class/block/" + name + "/dev")
	if err != nil {
		t.Fatal(err)
	}
	if e.MajMin() != strings.TrimSpace(string(mm)) || e.Subsystem != "block" || e.DevType != "disk" || e.Seqnum == 0 {
		t.Errorf("change event %+v, sysfs dev %s", e, mm)
	}
	if seq, err := os.ReadFile("/sys/class/block/" + name + "/diskseq"); err == nil && e.DiskSeq != 0 {
		if strings.TrimSpace(string(seq)) != itoa(e.DiskSeq) {
			t.Errorf("DISKSEQ %d, sysfs %s", e.DiskSeq, seq)
		}
	}

	testenv.Run(t, "partx", "-a", dev)
	ours := func(action Action) Event { // skip events of another test's loop device of this name
		for {
			ev := waitFor(t, c, name+"p1", action)
			if e.DiskSeq == 0 || ev.DiskSeq == 0 || ev.DiskSeq == e.DiskSeq {
				return ev
			}
		}
	}
	add := ours(ActionAdd)
	if add.DevType != "partition" || add.Env["PARTN"] != "1" || !strings.HasSuffix(add.DevPath, "/"+name+"/"+name+"p1") {
		t.Errorf("add event %+v", add)
	}
	testenv.Run(t, "partx", "-d", dev)
	rm := ours(ActionRemove)
	t.Logf("partition add: %+v\nremove: %+v", add, rm)
	if rm.Seqnum <= add.Seqnum {
		t.Errorf("remove seqnum %d not after add %d", rm.Seqnum, add.Seqnum)
	}
}

// TestNetlinkCancelAndClose proves a blocked Next on the real socket returns
// promptly on cancel and on Close, leaving no goroutine (TestMain checks).
func TestNetlinkCancelAndClose(t *testing.T) {
	// A filter nothing matches keeps Next blocked whatever the machine does.
	c, err := Listen(context.Background(), WithSubsystem("no-such-subsystem"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := c.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	// A later call is not woken by the earlier cancellation.
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if _, err := c.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second call: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Next(context.Background()); done <- err }()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	return string(b)
}
