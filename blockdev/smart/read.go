package smart

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// commandTimeout is the per-command timeout, cut to what the context has left.
func (c *config) commandTimeout(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	t := c.timeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return 0, context.DeadlineExceeded
		}
		t = min(t, left)
	}
	return t, nil
}

// Read takes one health reading of the drive behind devicePath (a node such
// as /dev/sda, a partition of it, or a /dev/disk/by-* link).
//
// The protocol comes from sysfs unless WithProtocol forces it. A device with
// no SMART answers ErrNotSupported without being opened. Failures of the
// essential commands are returned; failures of optional pages are kept in
// the report's Problems.
func Read(ctx context.Context, devicePath string, opts ...Option) (*Report, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return cfg.read(ctx, devicePath)
}

func (cfg *config) read(ctx context.Context, devicePath string) (*Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := cfg.locate(devicePath)
	if err != nil {
		return nil, err
	}
	f, err := openDevice(t.node)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fd := int(f.Fd())
	r := &Report{Device: devicePath}
	var page []byte // IDENTIFY DEVICE, when classification already read it
	if t.protocol == ProtocolNVMe {
		r.Class = classifyNVMe(t)
	} else if r.Class, page, err = cfg.classify(ctx, fd, t); err != nil {
		return nil, withDevice(err, devicePath)
	}
	r.Protocol = r.Class.Class.Protocol()
	switch r.Class.Class {
	case ClassATA:
		d := &ataDevice{cfg: cfg, fd: fd, name: t.name}
		r.ATA, err = d.read(ctx, page)
		err = unsupportedATA(t.name, r.Class, err)
	case ClassNVMe:
		d := &nvmeDevice{cfg: cfg, fd: fd, name: t.name}
		r.NVMe, err = d.read(ctx)
	case ClassSCSI:
		d := &scsiDevice{cfg: cfg, fd: fd, name: t.name}
		if r.Class.Inquiry == nil {
			if r.Class.Inquiry, err = d.inquiry(ctx); err != nil {
				return nil, err
			}
		}
		r.SCSI, err = d.read(ctx, t, r.Class)
	default:
		err = &UnsupportedError{Device: t.name, Class: r.Class, Reason: r.Class.Reason}
	}
	if err != nil {
		return nil, withDevice(err, devicePath)
	}
	return r, nil
}

// withDevice names the path the caller gave in an UnsupportedError.
func withDevice(err error, devicePath string) error {
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		ue.Device = devicePath
	}
	return err
}

// SelfTest is the kind of self-test StartSelfTest starts.
type SelfTest int

// Self-test kinds.
const (
	SelfTestShort SelfTest = iota + 1
	SelfTestExtended
	SelfTestConveyance // ATA only
	SelfTestAbort
)

// StartSelfTest asks the drive to start (or abort) a background self-test.
// It is the only command this package sends that changes drive state, and
// it returns as soon as the drive accepted the request; Read reports the
// progress and, later, the result in the self-test log.
func StartSelfTest(ctx context.Context, devicePath string, kind SelfTest, opts ...Option) error {
	cfg, err := newConfig(opts)
	if err != nil {
		return err
	}
	if kind < SelfTestShort || kind > SelfTestAbort {
		return fmt.Errorf("%w: self-test kind %d", ErrInvalidOption, int(kind))
	}
	t, err := cfg.locate(devicePath)
	if err != nil {
		return err
	}
	f, err := openDevice(t.node)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	c := classifyNVMe(t)
	if t.protocol != ProtocolNVMe {
		if c, _, err = cfg.classify(ctx, fd, t); err != nil {
			return withDevice(err, devicePath)
		}
	}
	switch c.Class {
	case ClassATA:
		d := &ataDevice{cfg: cfg, fd: fd, name: t.name}
		return withDevice(unsupportedATA(t.name, c, d.selfTest(ctx, kind)), devicePath)
	case ClassNVMe:
		d := &nvmeDevice{cfg: cfg, fd: fd, name: t.name}
		return d.selfTest(ctx, kind)
	case ClassSCSI:
		// SEND DIAGNOSTIC would start one; this package does not send it.
		return &UnsupportedError{Device: devicePath, Class: c, Reason: "self-tests of SCSI devices are not implemented"}
	}
	return &UnsupportedError{Device: devicePath, Class: c, Reason: c.Reason}
}
