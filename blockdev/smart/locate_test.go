package smart

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// fakeTree lays out the sysfs shapes that decide the protocol, with relative
// links as the kernel makes them.
func fakeTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ln := func(target, link string) {
		mk(filepath.Dir(link))
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	touch := func(p string) {
		mk(filepath.Dir(p))
		if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"scsi", "nvme", "virtio", "mmc", "usb"} {
		mk("sys/bus/" + s)
	}
	mk("sys/class/nvme-subsystem")
	// SATA disk on libata with a partition.
	sata := "sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0"
	mk(sata + "/block/sda/sda1")
	touch(sata + "/block/sda/sda1/partition")
	ln("../../../../../../../bus/scsi", sata+"/subsystem")
	ln("../../"+sata[4:]+"/block/sda", "sys/class/block/sda")
	ln("../../"+sata[4:]+"/block/sda/sda1", "sys/class/block/sda1")
	ln("../..", sata+"/block/sda/device")
	// NVMe namespace whose device is the controller.
	nv := "sys/devices/pci0000:00/0000:00:04.0/nvme/nvme0"
	mk(nv + "/nvme0n1")
	ln("../../../../../class/nvme", nv+"/subsystem")
	mk("sys/class/nvme")
	ln("../../"+nv[4:]+"/nvme0n1", "sys/class/block/nvme0n1")
	ln("..", nv+"/nvme0n1/device")
	// The controller's character device and a SCSI generic node.
	ln("../../"+nv[4:], "sys/class/nvme/nvme0")
	mk(sata + "/scsi_generic/sg0")
	ln("../..", sata+"/scsi_generic/sg0/device")
	ln("../../"+sata[4:]+"/scsi_generic/sg0", "sys/class/scsi_generic/sg0")
	// virtio-blk and loop.
	vd := "sys/devices/pci0000:00/0000:00:05.0/virtio1"
	mk(vd + "/block/vda")
	ln("../../../../bus/virtio", vd+"/subsystem")
	ln("../..", vd+"/block/vda/device")
	ln("../../"+vd[4:]+"/block/vda", "sys/class/block/vda")
	// Two USB disks: QEMU's usb-storage (46f4:0001, a bridge nobody
	// lists) and an ASMedia enclosure (174c:55aa, which speaks SAT). The
	// USB interface between the SCSI host and the USB device is on the usb
	// bus too but has no idVendor.
	writeAttr := func(p, v string) {
		mk(filepath.Dir(p))
		if err := os.WriteFile(filepath.Join(dir, p), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ disk, port, vendor, product, rev string }{
		{"sdb", "2-1", "46f4", "0001", "0000"}, {"sdc", "2-2", "174c", "55aa", "0100"},
	} {
		usbDev := "sys/devices/pci0000:00/0000:00:03.0/usb2/" + u.port
		scsi := usbDev + "/" + u.port + ":1.0/host1/target1:0:0/1:0:0:0"
		mk(scsi + "/block/" + u.disk)
		ln("../../../../../../../../../bus/scsi", scsi+"/subsystem")
		ln("../../../../../../bus/usb", usbDev+"/"+u.port+":1.0/subsystem")
		ln("../../../../../bus/usb", usbDev+"/subsystem")
		writeAttr(usbDev+"/idVendor", u.vendor)
		writeAttr(usbDev+"/idProduct", u.product)
		writeAttr(usbDev+"/bcdDevice", u.rev)
		ln("../../"+scsi[4:]+"/block/"+u.disk, "sys/class/block/"+u.disk)
		ln("../..", scsi+"/block/"+u.disk+"/device")
		touch("dev/" + u.disk)
	}
	mk("sys/devices/virtual/block/loop0")
	ln("../../devices/virtual/block/loop0", "sys/class/block/loop0")
	for _, n := range []string{"sda", "sda1", "nvme0n1", "vda", "loop0", "nvme0", "sg0"} {
		touch("dev/" + n)
	}
	return dir
}

func TestLocate(t *testing.T) {
	dir := fakeTree(t)
	for _, c := range []struct {
		dev   string
		name  string
		proto Protocol
		err   error
	}{
		// A SCSI device's protocol is for classify to find out.
		{"/dev/sda", "sda", ProtocolAuto, nil},
		{"/dev/sda1", "sda", ProtocolAuto, nil},
		{"/dev/nvme0n1", "nvme0n1", ProtocolNVMe, nil},
		{"/dev/nvme0", "nvme0", ProtocolNVMe, nil},
		{"/dev/sg0", "sg0", ProtocolAuto, nil},
		{"/dev/sdb", "sdb", ProtocolAuto, nil},
		{"/dev/vda", "", 0, ErrNotSupported},
		{"/dev/loop0", "", 0, ErrNotSupported},
		{"/dev/sdz", "", 0, ErrNotFound},
	} {
		cfg, err := newConfig([]Option{WithRoot(dir)})
		if err != nil {
			t.Fatal(err)
		}
		tg, err := cfg.locate(c.dev)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: err %v, want %v", c.dev, err, c.err)
			}
			continue
		}
		if err != nil || tg.name != c.name || tg.protocol != c.proto || tg.node != filepath.Join(dir, "dev", c.name) {
			t.Errorf("%s: %+v %v", c.dev, tg, err)
		}
	}
	// The USB bridges come from sysfs alone, with what the table knows.
	cfg, _ := newConfig([]Option{WithRoot(dir)})
	for _, c := range []struct {
		dev         string
		known       bool
		id, through string
	}{
		{"/dev/sdb", false, "[0x46f4:0x0001 (0x000)]", ""},
		{"/dev/sdc", true, "[0x174c:0x55aa (0x100)]", "sat"},
	} {
		tg, err := cfg.locate(c.dev)
		if err != nil || tg.usb == nil || tg.usb.Known != c.known || tg.usb.ID() != c.id || tg.usb.PassThrough != c.through || tg.bus != "scsi" {
			t.Errorf("%s: %+v %+v %v", c.dev, tg, tg.usb, err)
		}
	}
	if tg, err := cfg.locate("/dev/sda"); err != nil || tg.usb != nil {
		t.Errorf("libata disk has a USB bridge: %+v", tg)
	}
	// Forcing the protocol skips the subsystem decision but not the lookup.
	cfg, _ = newConfig([]Option{WithRoot(dir), WithProtocol(ProtocolNVMe)})
	if tg, err := cfg.locate("/dev/sda1"); err != nil || tg.protocol != ProtocolNVMe || tg.name != "sda" {
		t.Errorf("forced: %+v %v", tg, err)
	}
}

// Read against the fake tree reaches the ioctl on the (regular file) node,
// which the kernel refuses: that must be ErrNotSupported, not a crash.
func TestReadFakeNodes(t *testing.T) {
	dir := fakeTree(t)
	ctx := context.Background()
	for _, dev := range []string{"/dev/sda", "/dev/nvme0n1", "/dev/vda", "/dev/loop0"} {
		if _, err := Read(ctx, dev, WithRoot(dir)); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: %v", dev, err)
		}
	}
	// An unknown USB bridge is refused from its id, before any command,
	// with smartctl's wording; a known SAT bridge is read as ATA.
	_, err := Read(ctx, "/dev/sdb", WithRoot(dir))
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Class.Class != ClassUSBBridge || ue.Device != "/dev/sdb" ||
		!strings.Contains(err.Error(), "unknown USB bridge [0x46f4:0x0001 (0x000)]") || errors.Is(err, ErrDevice) {
		t.Errorf("unknown USB bridge: %v", err)
	}
	if c, err := Classify(ctx, "/dev/sdb", WithRoot(dir)); err != nil || c.Class != ClassUSBBridge || c.SATProbed || c.Inquiry != nil {
		t.Errorf("Classify unknown bridge: %+v %v", c, err)
	}
	if c, err := Classify(ctx, "/dev/sdc", WithRoot(dir)); err != nil || c.Class != ClassATA || c.USB == nil || c.USB.Name != "ASMedia" {
		t.Errorf("Classify ASMedia bridge: %+v %v", c, err)
	}
	if _, err := Read(ctx, "/dev/sdc", WithRoot(dir)); !errors.As(err, &ue) || ue.Class.Class != ClassATA {
		t.Errorf("SAT bridge over a non-device: %v", err)
	}
	if c, err := Classify(ctx, "/dev/nvme0n1", WithRoot(dir)); err != nil || c.Class != ClassNVMe || c.Class.SmartctlType() != "nvme" {
		t.Errorf("Classify NVMe: %+v %v", c, err)
	}
	if c, err := Classify(ctx, "/dev/sda", WithRoot(dir), WithProtocol(ProtocolSCSI)); err != nil || c.Class != ClassSCSI || !c.Forced {
		t.Errorf("Classify forced SCSI: %+v %v", c, err)
	}
	if err := StartSelfTest(ctx, "/dev/sdb", SelfTestShort, WithRoot(dir)); !errors.As(err, &ue) || ue.Class.Class != ClassUSBBridge {
		t.Errorf("self-test behind an unknown bridge: %v", err)
	}
	if err := StartSelfTest(ctx, "/dev/sda", SelfTestShort, WithRoot(dir), WithProtocol(ProtocolSCSI)); !errors.As(err, &ue) || ue.Class.Class != ClassSCSI {
		t.Errorf("SCSI self-test: %v", err)
	}
	if err := StartSelfTest(ctx, "/dev/sda", SelfTestShort, WithRoot(dir)); !errors.Is(err, ErrNotSupported) {
		t.Errorf("self-test on a non-device: %v", err)
	}
	if err := StartSelfTest(ctx, "/dev/nvme0n1", SelfTestConveyance, WithRoot(dir)); !errors.Is(err, ErrNotSupported) {
		t.Errorf("NVMe conveyance: %v", err)
	}
}

func TestOptionsValidated(t *testing.T) {
	ctx := context.Background()
	for _, o := range []Option{WithProtocol(7), WithCommandTimeout(0), WithCommandTimeout(2 * time.Hour), WithRoot("/nonexistent/x")} {
		if _, err := Read(ctx, "/dev/sda", o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("bad option accepted: %v", err)
		}
	}
	if err := StartSelfTest(ctx, "/dev/sda", 99); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("bad self-test kind: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Read(cctx, "/dev/sda"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	cfg, _ := newConfig(nil)
	dctx, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	if _, err := cfg.commandTimeout(dctx); err == nil {
		t.Error("expired deadline gave a timeout")
	}
}

// A loop device has no drive behind it: ErrNotSupported, without opening it.
func TestReadLoopDevice(t *testing.T) {
	dev := testenv.Loop(t, 1<<20)
	start := time.Now()
	_, err := Read(context.Background(), dev)
	if !errors.Is(err, ErrNotSupported) {
		t.Fatalf("Read(%s) = %v, want ErrNotSupported", dev, err)
	}
	t.Logf("%s: %v (in %v)", dev, err, time.Since(start))
}

// Every disk of this machine that is not on a SCSI or NVMe bus (virtio-blk,
// zram, loop) answers ErrNotSupported from the live tree; the check runs on
// whatever the machine has and needs none in particular.
func TestReadLiveNonSMARTDisks(t *testing.T) {
	names, _ := filepath.Glob("/sys/block/*")
	checked := 0
	for _, p := range names {
		sub, err := os.Readlink(filepath.Join(p, "device", "subsystem"))
		if err == nil && (filepath.Base(sub) == "scsi" || filepath.Base(sub) == "nvme" || filepath.Base(sub) == "nvme-subsystem") {
			continue
		}
		dev := "/dev/" + filepath.Base(p)
		if _, err := os.Stat(dev); err != nil {
			continue
		}
		_, err = Read(context.Background(), dev)
		if errors.Is(err, ErrNotFound) {
			if _, serr := os.Stat(p); errors.Is(serr, os.ErrNotExist) {
				continue // another test's loop device went away meanwhile
			}
		}
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: %v, want ErrNotSupported", dev, err)
		}
		checked++
	}
	t.Logf("checked %d non-SMART disks", checked)
}
