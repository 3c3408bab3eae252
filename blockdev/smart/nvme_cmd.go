package smart

import (
	"context"
	"errors"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/nvmeioctl"
	"golang.org/x/sys/unix"
)

// maxErrorLogEntries bounds the error log read: ELPE can announce up to 256
// entries of 64 bytes, and the newest are first.
const maxErrorLogEntries = 64

type nvmeDevice struct {
	cfg  *config
	fd   int
	name string
}

func (d *nvmeDevice) admin(ctx context.Context, op string, cmd nvmeioctl.AdminCmd, buf []byte) error {
	timeout, err := d.cfg.commandTimeout(ctx)
	if err != nil {
		return &CommandError{Device: d.name, Op: op, Err: err, kind: ErrTimeout}
	}
	d.cfg.logger.DebugContext(ctx, "nvme admin command", "device", d.name, "op", op,
		"opcode", cmd.Opcode, "nsid", cmd.NSID, "cdw10", cmd.Cdw10)
	if _, err := nvmeioctl.Admin(d.fd, cmd, buf, timeout); err != nil {
		var se *nvmeioctl.StatusError
		if errors.As(err, &se) {
			kind := ErrDevice
			if se.InvalidCommand() {
				kind = ErrNotSupported
			}
			return &CommandError{Device: d.name, Op: op, Err: err, kind: kind}
		}
		return &CommandError{Device: d.name, Op: op, Err: err, kind: classifySyscall(err)}
	}
	return nil
}

func (d *nvmeDevice) logPage(ctx context.Context, lid uint8, n int) ([]byte, error) {
	op := fmt.Sprintf("Get Log Page %02Xh", lid)
	cmd, err := nvmeioctl.GetLogPageCmd(nvmeioctl.NSIDAll, lid, n, 0)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if err := d.admin(ctx, op, cmd, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// namespaceID asks the kernel which namespace the open node is; a
// controller character device has none (0).
func (d *nvmeDevice) namespaceID() uint32 {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(d.fd), nvmeioctl.IoctlID, 0)
	if errno != 0 || int(r) <= 0 {
		return 0
	}
	return uint32(r)
}

func (d *nvmeDevice) read(ctx context.Context) (*NVMeData, error) {
	buf := make([]byte, 4096)
	if err := d.admin(ctx, "Identify Controller", nvmeioctl.IdentifyCmd(0, 1), buf); err != nil {
		return nil, err
	}
	id, err := ParseNVMeIdentify(buf)
	if err != nil {
		return nil, err
	}
	page, err := d.logPage(ctx, 0x02, 512)
	if err != nil {
		return nil, err
	}
	h, err := ParseNVMeHealth(page)
	if err != nil {
		return nil, err
	}
	data := &NVMeData{Identity: id, Health: h}
	if nsid := d.namespaceID(); nsid != 0 {
		nb := make([]byte, 4096)
		if err := d.admin(ctx, "Identify Namespace", nvmeioctl.IdentifyCmd(nsid, 0), nb); err == nil {
			data.Namespace, err = ParseNVMeNamespace(nsid, nb)
			if err != nil {
				data.Problems = append(data.Problems, err)
			}
		} else {
			data.Problems = append(data.Problems, err)
		}
	}
	if d.cfg.logs {
		n := min(id.ErrorLogEntries, maxErrorLogEntries)
		if page, err := d.logPage(ctx, 0x01, 64*n); err == nil {
			data.ErrorLog, err = ParseNVMeErrorLog(page)
			if err != nil {
				data.Problems = append(data.Problems, err)
			}
		} else {
			data.Problems = append(data.Problems, err)
		}
	}
	return data, nil
}

// selfTest checks Identify Controller's OACS for Device Self-test before
// sending it (stc 1 short, 2 extended, 0xf abort).
func (d *nvmeDevice) selfTest(ctx context.Context, kind SelfTest) error {
	var stc uint8
	switch kind {
	case SelfTestShort:
		stc = 1
	case SelfTestExtended:
		stc = 2
	case SelfTestAbort:
		stc = 0xf
	default:
		return fmt.Errorf("%w: NVMe has no conveyance self-test", ErrNotSupported)
	}
	buf := make([]byte, 4096)
	if err := d.admin(ctx, "Identify Controller", nvmeioctl.IdentifyCmd(0, 1), buf); err != nil {
		return err
	}
	id, err := ParseNVMeIdentify(buf)
	if err != nil {
		return err
	}
	if !id.SelfTestSupported() {
		return fmt.Errorf("%w: %s (%s) does not implement Device Self-test", ErrNotSupported, d.name, id.Model)
	}
	return d.admin(ctx, "Device Self-test", nvmeioctl.SelfTestCmd(nvmeioctl.NSIDAll, stc), nil)
}
