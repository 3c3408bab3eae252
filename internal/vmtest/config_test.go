package vmtest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	bad := []Config{
		{Disks: []Disk{{Kind: 0}}},
		{Disks: []Disk{{Kind: SATA, Size: -1}}},
		{Disks: []Disk{{Kind: SATA, Model: "a,drive=x"}}},
		{Disks: []Disk{{Kind: NVMe}}},            // QEMU needs a serial
		{Disks: []Disk{{Kind: USB, Model: "X"}}}, // no model property
		{Disks: make([]Disk, 7)},                 // kind 0 as well
		{Modules: []string{"ext4; reboot"}},
		{Files: []File{{Src: "/bin/true", Dst: "relative"}}},
		{MemoryMiB: -1},
		{Disks: []Disk{{Kind: NVMe, Serial: "N", Options: []string{"x"}}}},
		{Disks: []Disk{{Kind: NVMe, Serial: "N", Options: []string{"a=b,drive=c"}}}},
		{Disks: []Disk{{Kind: NVMe, Serial: "N", Options: []string{"bus=x"}}}},
	}
	for i, c := range bad {
		if err := c.validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("case %d: validate = %v, want ErrConfig", i, err)
		}
	}
	sata := Config{}
	for i := 0; i < 7; i++ {
		sata.Disks = append(sata.Disks, Disk{Kind: SATA})
	}
	if err := sata.validate(); !errors.Is(err, ErrConfig) {
		t.Errorf("7 SATA disks: %v", err)
	}
	good := Config{
		Disks:   []Disk{{Kind: SATA, Model: "M", Serial: "S"}, {Kind: NVMe, Serial: "N", Options: []string{"smart_critical_warning=4"}}, {Kind: SCSI}, {Kind: USB}, {Kind: Virtio}},
		Modules: []string{"usb_storage delay_use=0", "dm-mod"},
	}
	if err := good.validate(); err != nil {
		t.Errorf("good config: %v", err)
	}
}

func TestDiskArgs(t *testing.T) {
	disks := []Disk{
		{Kind: SATA, Model: "M1", Serial: "S1"},
		{Kind: SATA},
		{Kind: NVMe, Serial: "N1", Options: []string{"smart_critical_warning=4"}},
		{Kind: SCSI, Model: "P", Serial: "S3"},
		{Kind: USB, Serial: "U"},
		{Kind: Virtio},
	}
	imgs := []string{"/t/0", "/t/1", "/t/a,b", "/t/3", "/t/4", "/t/5"}
	got := strings.Join(diskArgs(disks, imgs), " ")
	want := strings.Join([]string{
		"-drive if=none,id=d0,format=raw,file=/t/0 -device ahci,id=ahci0 -device ide-hd,drive=d0,bus=ahci0.0,model=M1,serial=S1",
		"-drive if=none,id=d1,format=raw,file=/t/1 -device ide-hd,drive=d1,bus=ahci0.1",
		"-drive if=none,id=d2,format=raw,file=/t/a,,b -device nvme,drive=d2,serial=N1,smart_critical_warning=4",
		"-drive if=none,id=d3,format=raw,file=/t/3 -device virtio-scsi-pci,id=scsi0 -device scsi-hd,drive=d3,bus=scsi0.0,product=P,serial=S3",
		"-drive if=none,id=d4,format=raw,file=/t/4 -device qemu-xhci,id=xhci0 -device usb-storage,drive=d4,bus=xhci0.0,removable=on,serial=U",
		"-drive if=none,id=d5,format=raw,file=/t/5 -device virtio-blk-pci,drive=d5",
	}, " ")
	if got != want {
		t.Fatalf("diskArgs\n got %s\nwant %s", got, want)
	}
}

func TestInitScriptLoadsModulesAndWaits(t *testing.T) {
	s := initScript(testNonce, []string{"ahci", "usb_storage delay_use=0"}, 3, []string{"/lib/x86_64-linux-gnu"})
	for _, want := range []string{
		"modprobe ahci ||",
		"modprobe usb_storage delay_use=0 || log 'modprobe usb_storage failed'",
		"want=3\n",
		"export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu\n",
		"poweroff -f\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("init script lacks %q", want)
		}
	}
	if !reflect.DeepEqual(DefaultModules(), defaultModules) {
		t.Error("DefaultModules differs from the list")
	}
	// The init must be valid shell: let the host's sh parse it.
	if sh, err := exec.LookPath("sh"); err == nil {
		cmd := exec.Command(sh, "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sh -n: %v: %s", err, out)
		}
	}
}

// Cancelling the context kills QEMU promptly and returns the context error;
// no QEMU outlives Run (goleak in TestMain checks the goroutines).
func TestRunCancel(t *testing.T) {
	a := Require(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(time.Second, cancel)
	_, err := Run(ctx, Config{Assets: &a, Script: "sleep 600\n"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	// The temp dir holding the images and initramfs is gone.
	left, err := os.ReadDir(tmp)
	if err != nil || len(left) != 0 {
		t.Errorf("temp dir not cleaned: %v %v", left, err)
	}
}

func TestRunRejectsBadConfigBeforeBooting(t *testing.T) {
	_, err := Run(t.Context(), Config{Disks: []Disk{{Kind: NVMe}}})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Run = %v, want ErrConfig", err)
	}
}
