package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind is the bus a guest disk sits on. Each gives the guest the real driver
// stack and sysfs tree of that transport.
type Kind int

const (
	// SATA is an ide-hd on an AHCI controller: libata, sd, ATA SMART
	// through SG_IO (SAT).
	SATA Kind = iota + 1
	// NVMe is a QEMU NVMe controller with one namespace: Identify and the
	// SMART/health log.
	NVMe
	// SCSI is a scsi-hd on virtio-scsi.
	SCSI
	// USB is a usb-storage disk on an xHCI controller (removable).
	USB
	// Virtio is a virtio-blk disk (vdX), which has no SMART at all.
	Virtio
)

func (k Kind) String() string {
	switch k {
	case SATA:
		return "sata"
	case NVMe:
		return "nvme"
	case SCSI:
		return "scsi"
	case USB:
		return "usb"
	case Virtio:
		return "virtio"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Disk is one guest disk backed by a host image.
type Disk struct {
	Kind Kind
	// Size of the sparse image created for the disk; 0 means 64 MiB.
	// Ignored when Image is set.
	Size int64
	// Image is an existing raw image to attach instead of a fresh one. The
	// guest writes to it.
	Image string
	// Model is the ATA model (SATA) or SCSI product (SCSI); QEMU offers no
	// model for NVMe and USB disks.
	Model string
	// Serial is the drive serial every kind reports.
	Serial string
	// Options are extra QEMU -device properties ("key=value"), such as
	// "smart_critical_warning=4" on an NVMe disk to make its health log
	// report a failing drive.
	Options []string
}

const defaultDiskSize = 64 << 20

// maxAHCIPorts is how many ports QEMU's AHCI controller has.
const maxAHCIPorts = 6

func (d Disk) validate(i int) error {
	switch d.Kind {
	case SATA, NVMe, SCSI, USB, Virtio:
	default:
		return fmt.Errorf("%w: disk %d: unknown kind %d", ErrConfig, i, int(d.Kind))
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: disk %d: negative size", ErrConfig, i)
	}
	// QEMU's -device option syntax uses ',' as separator; '=' and ','
	// inside a value would change the device instead of naming it.
	for _, v := range []string{d.Model, d.Serial} {
		if strings.ContainsAny(v, ",=\n") {
			return fmt.Errorf("%w: disk %d: %q contains ',' '=' or newline", ErrConfig, i, v)
		}
	}
	for _, o := range d.Options {
		k, v, ok := strings.Cut(o, "=")
		if !ok || k == "" || v == "" || strings.ContainsAny(o, ",\n") || strings.Contains(v, "=") {
			return fmt.Errorf("%w: disk %d: option %q is not key=value", ErrConfig, i, o)
		}
		switch k {
		case "drive", "bus", "id", "serial", "model", "product":
			return fmt.Errorf("%w: disk %d: option %q is set by vmtest", ErrConfig, i, o)
		}
	}
	if (d.Kind == NVMe || d.Kind == USB || d.Kind == Virtio) && d.Model != "" {
		return fmt.Errorf("%w: disk %d: QEMU cannot set a model on a %s disk", ErrConfig, i, d.Kind)
	}
	if d.Kind == NVMe && d.Serial == "" {
		return fmt.Errorf("%w: disk %d: QEMU requires a serial for NVMe", ErrConfig, i)
	}
	return nil
}

// image returns the disk's backing file, creating a sparse one in dir.
func (d Disk) image(dir string, i int) (string, error) {
	if d.Image != "" {
		return d.Image, nil
	}
	size := d.Size
	if size == 0 {
		size = defaultDiskSize
	}
	p := filepath.Join(dir, fmt.Sprintf("disk%d.img", i))
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return "", err
	}
	return p, f.Close()
}

// diskArgs returns QEMU's arguments for the disks, adding each controller
// once. imgs[i] is the backing file of disks[i].
func diskArgs(disks []Disk, imgs []string) []string {
	var args []string
	var ahci, scsi, xhci bool
	sataPort := 0
	for i, d := range disks {
		id := fmt.Sprintf("d%d", i)
		args = append(args, "-drive", fmt.Sprintf("if=none,id=%s,format=raw,file=%s", id, qemuEscape(imgs[i])))
		dev := ""
		switch d.Kind {
		case SATA:
			if !ahci {
				args = append(args, "-device", "ahci,id=ahci0")
				ahci = true
			}
			dev = fmt.Sprintf("ide-hd,drive=%s,bus=ahci0.%d", id, sataPort)
			sataPort++
			dev += opt("model", d.Model) + opt("serial", d.Serial)
		case NVMe:
			dev = fmt.Sprintf("nvme,drive=%s", id) + opt("serial", d.Serial)
		case SCSI:
			if !scsi {
				args = append(args, "-device", "virtio-scsi-pci,id=scsi0")
				scsi = true
			}
			dev = fmt.Sprintf("scsi-hd,drive=%s,bus=scsi0.0", id) + opt("product", d.Model) + opt("serial", d.Serial)
		case USB:
			if !xhci {
				args = append(args, "-device", "qemu-xhci,id=xhci0")
				xhci = true
			}
			dev = fmt.Sprintf("usb-storage,drive=%s,bus=xhci0.0,removable=on", id) + opt("serial", d.Serial)
		case Virtio:
			dev = fmt.Sprintf("virtio-blk-pci,drive=%s", id) + opt("serial", d.Serial)
		}
		for _, o := range d.Options {
			dev += "," + o
		}
		args = append(args, "-device", dev)
	}
	return args
}

func opt(k, v string) string {
	if v == "" {
		return ""
	}
	return "," + k + "=" + v
}

// qemuEscape doubles commas, QEMU's escape inside an option value.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }
