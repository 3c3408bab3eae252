package smart

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sgio"
)

// ATA command and SMART feature values (ACS-3).
const (
	ataIdentify      = 0xec
	ataSmart         = 0xb0
	smartReadData    = 0xd0
	smartReadThresh  = 0xd1
	smartExecOffline = 0xd4
	smartReadLog     = 0xd5
	smartReturnStat  = 0xda
	smartLBAMid      = 0x4f // the SMART signature the host puts in LBA 15:8
	smartLBAHigh     = 0xc2 // and LBA 23:16
	smartFailMid     = 0xf4 // returned instead when a threshold is exceeded
	smartFailHigh    = 0x2c
	logSummaryError  = 0x01
	logSelfTest      = 0x06
)

// ataCommand is one 28-bit ATA command carried by ATA PASS-THROUGH(16).
type ataCommand struct {
	name                                     string
	features, count, lbaLow, lbaMid, lbaHigh uint8
	device, command                          uint8
	dataIn                                   bool // one 512-byte sector to the host
	checkCondition                           bool // ask for the registers back in sense data
}

// cdb builds the ATA PASS-THROUGH(16) CDB (SAT-3 12.2.2).
func (a ataCommand) cdb() []byte {
	return sgio.ATAPassThrough16CDB(sgio.ATARegisters{Features: a.features, Count: a.count, LBALow: a.lbaLow,
		LBAMid: a.lbaMid, LBAHigh: a.lbaHigh, Device: a.device, Command: a.command}, a.dataIn, a.checkCondition)
}

func smartCommand(name string, feature uint8, dataIn bool) ataCommand {
	a := ataCommand{name: name, features: feature, lbaMid: smartLBAMid, lbaHigh: smartLBAHigh, command: ataSmart, dataIn: dataIn}
	if dataIn {
		a.count = 1
	}
	return a
}

var (
	cmdIdentify     = ataCommand{name: "IDENTIFY DEVICE", count: 1, command: ataIdentify, dataIn: true}
	cmdReadData     = smartCommand("SMART READ DATA", smartReadData, true)
	cmdReadThresh   = smartCommand("SMART READ THRESHOLDS", smartReadThresh, true)
	cmdReturnStatus = func() ataCommand {
		a := smartCommand("SMART RETURN STATUS", smartReturnStat, false)
		a.checkCondition = true
		return a
	}()
)

func cmdReadLog(name string, log uint8) ataCommand {
	a := smartCommand(name, smartReadLog, true)
	a.lbaLow = log
	return a
}

// ataDevice sends ATA commands to an open SCSI disk.
type ataDevice struct {
	cfg  *config
	fd   int
	name string
}

// run issues one command and returns its data (nil for non-data commands)
// and the ATA registers the SATL returned, if any.
func (d *ataDevice) run(ctx context.Context, a ataCommand) ([]byte, *sgio.ATAStatus, error) {
	timeout, err := d.cfg.commandTimeout(ctx)
	if err != nil {
		return nil, nil, &CommandError{Device: d.name, Op: a.name, Err: err, kind: ErrTimeout}
	}
	req := sgio.Request{CDB: a.cdb(), Direction: sgio.DxferNone, Timeout: timeout}
	var buf []byte
	if a.dataIn {
		buf = make([]byte, 512)
		req.Direction, req.Data = sgio.DxferFromDev, buf
	}
	d.cfg.logger.DebugContext(ctx, "ata command", "device", d.name, "op", a.name, "cdb", fmt.Sprintf("% x", req.CDB))
	res, err := sgio.Do(d.fd, req)
	if err != nil {
		return nil, nil, &CommandError{Device: d.name, Op: a.name, Err: err, kind: classifySyscall(err)}
	}
	regs, err := interpret(res, a.dataIn)
	if err != nil {
		var ce *CommandError
		if errors.As(err, &ce) {
			ce.Device, ce.Op = d.name, a.name
		}
		return nil, nil, err
	}
	return buf, regs, nil
}

// interpret decides what an SG_IO outcome means for an ATA PASS-THROUGH
// command: success (with the returned ATA registers when the SATL sent
// them) or a classified *CommandError.
func interpret(res sgio.Result, dataIn bool) (*sgio.ATAStatus, error) {
	err := res.Err()
	var se *sgio.SenseError
	if errors.As(err, &se) && se.Sense.ATA == nil && !se.Sense.Descriptor &&
		se.Sense.Key != sgio.KeyRecoveredError && se.Sense.Key != sgio.KeyNoSense {
		// Fixed-format sense of a failed ATA PASS-THROUGH carries the
		// registers whatever the ASC (libata reports a drive's ABRT this
		// way); they classify the failure. Success still needs 00/1D.
		se.Sense.ATA = sgio.ATAFromFixedSense(res.Sense)
	}
	var regs *sgio.ATAStatus
	if se != nil && se.Sense.ATA != nil && se.Sense.ATA.Status&0x01 == 0 &&
		(se.Sense.Key == sgio.KeyRecoveredError || se.Sense.Key == sgio.KeyNoSense) {
		// CHECK CONDITION that only carries the registers (CK_COND, or a
		// SATL that always returns them): the command succeeded.
		regs, err = se.Sense.ATA, nil
	}
	if err != nil {
		return nil, &CommandError{Err: err, kind: classifySG(err)}
	}
	// Checked on the registers path too: a SATL that returns registers
	// with the data has still to deliver all of it.
	if res.Resid > 0 && dataIn {
		return nil, &CommandError{kind: ErrDevice, Err: fmt.Errorf("short transfer: %d of 512 bytes missing", res.Resid)}
	}
	return regs, nil
}

// classifySG maps an SG_IO outcome to a sentinel.
func classifySG(err error) error {
	var te *sgio.TransportError
	if errors.As(err, &te) {
		// DID_TIME_OUT, or DRIVER_TIMEOUT in the driver code.
		if te.HostStatus == 0x03 || te.DriverStatus&0x0f == 0x06 {
			return ErrTimeout
		}
		return ErrDevice
	}
	var se *sgio.SenseError
	if errors.As(err, &se) {
		s := se.Sense
		if s.InvalidCommand() {
			return ErrNotSupported
		}
		// ABORTED COMMAND with ATA ERR and ABRT: the drive refused the
		// command (SMART off or absent), not a transport failure.
		if s.Key == sgio.KeyAbortedCommand && s.ATA != nil && s.ATA.Status&0x01 != 0 && s.ATA.Error&0x04 != 0 {
			return ErrNotSupported
		}
	}
	return ErrDevice
}

// classifySyscall maps an ioctl or open errno to a sentinel.
func classifySyscall(err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return ErrDevice
	}
	switch errno {
	case syscall.EACCES, syscall.EPERM:
		return ErrPermission
	case syscall.ENOTTY, syscall.EINVAL, syscall.EOPNOTSUPP, syscall.ENOSYS:
		return ErrNotSupported
	case syscall.ENOENT, syscall.ENXIO, syscall.ENODEV:
		return ErrNotFound
	case syscall.ETIMEDOUT, syscall.EINTR:
		return ErrTimeout
	}
	return ErrDevice
}

// returnStatus reads SMART RETURN STATUS from the registers in the sense data.
func (d *ataDevice) returnStatus(ctx context.Context) (Status, error) {
	_, regs, err := d.run(ctx, cmdReturnStatus)
	if err != nil {
		return StatusUnknown, err
	}
	if regs == nil {
		return StatusUnknown, &CommandError{Device: d.name, Op: cmdReturnStatus.name, kind: ErrNotSupported,
			Err: errors.New("the SCSI/ATA translation returned no ATA registers")}
	}
	return decodeReturnStatus(regs.LBAMid(), regs.LBAHigh())
}

func decodeReturnStatus(mid, high uint8) (Status, error) {
	switch {
	case mid == smartLBAMid && high == smartLBAHigh:
		return StatusPassed, nil
	case mid == smartFailMid && high == smartFailHigh:
		return StatusFailed, nil
	}
	return StatusUnknown, fmt.Errorf("%w: SMART RETURN STATUS registers 0x%02x/0x%02x are neither pass nor fail", ErrDevice, mid, high)
}

// checkSMARTUsable refuses a drive whose IDENTIFY data says SMART is absent
// or off. Where IDENTIFY cannot say (words 82-84 or 85-87 not valid) the
// drive is asked anyway, as smartctl does; a drive without SMART then aborts
// SMART READ DATA, which classifies as ErrNotSupported.
func checkSMARTUsable(name string, id *Identity) error {
	if id.SMARTSupportKnown && !id.SMARTSupported {
		return fmt.Errorf("%w: %s (%s) does not support SMART", ErrNotSupported, name, id.Model)
	}
	if id.SMARTEnabledKnown && !id.SMARTEnabled {
		return fmt.Errorf("%w: %s (%s)", ErrDisabled, name, id.Model)
	}
	return nil
}

// read runs the read-only command sequence. IDENTIFY and READ DATA are
// essential; the rest add to Problems when they fail. identify is the
// IDENTIFY DEVICE page when classification already read it, else nil.
func (d *ataDevice) read(ctx context.Context, identify []byte) (*ATAData, error) {
	page := identify
	var err error
	if page == nil {
		if page, _, err = d.run(ctx, cmdIdentify); err != nil {
			return nil, err
		}
	}
	id, err := ParseIdentify(page)
	if err != nil {
		return nil, err
	}
	if err := checkSMARTUsable(d.name, id); err != nil {
		return nil, err
	}
	if page, _, err = d.run(ctx, cmdReadData); err != nil {
		return nil, err
	}
	v, err := ParseSmartValues(page)
	if err != nil {
		return nil, err
	}
	var problems []error
	var th *Thresholds
	if page, _, err = d.run(ctx, cmdReadThresh); err == nil {
		th, err = ParseThresholds(page)
	}
	if err != nil {
		problems = append(problems, err)
	}
	st, err := d.returnStatus(ctx)
	if err != nil {
		problems = append(problems, err)
	}
	data := NewATAData(id, v, th, st)
	if d.cfg.logs {
		if v.ErrorLogCapability&1 != 0 || id.ErrorLogSupported {
			if page, _, err = d.run(ctx, cmdReadLog("SMART READ LOG 01h", logSummaryError)); err == nil {
				data.Errors, err = ParseErrorLog(page)
			}
			if err != nil {
				problems = append(problems, err)
			}
		}
		if v.OfflineCapability&(1<<4) != 0 || id.SelfTestSupported {
			if page, _, err = d.run(ctx, cmdReadLog("SMART READ LOG 06h", logSelfTest)); err == nil {
				data.SelfTests, err = ParseSelfTestLog(page)
			}
			if err != nil {
				problems = append(problems, err)
			}
		}
	}
	data.Problems = problems
	return data, nil
}

// openDevice opens a device node read-only without blocking on media.
func openDevice(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
		case errors.Is(err, os.ErrPermission):
			return nil, fmt.Errorf("%w: %w", ErrPermission, err)
		}
		return nil, fmt.Errorf("smart: %w", err)
	}
	return f, nil
}

// selfTest checks with read-only commands that the drive has SMART on and
// offers the test, then sends SMART EXECUTE OFF-LINE IMMEDIATE.
func (d *ataDevice) selfTest(ctx context.Context, kind SelfTest) error {
	page, _, err := d.run(ctx, cmdIdentify)
	if err != nil {
		return err
	}
	id, err := ParseIdentify(page)
	if err != nil {
		return err
	}
	if err := checkSMARTUsable(d.name, id); err != nil {
		return err
	}
	if page, _, err = d.run(ctx, cmdReadData); err != nil {
		return err
	}
	v, err := ParseSmartValues(page)
	if err != nil {
		return err
	}
	var sub uint8
	var need uint8 // offline data collection capability bit the test needs
	switch kind {
	case SelfTestShort:
		sub, need = 1, 1<<4
	case SelfTestExtended:
		sub, need = 2, 1<<4
	case SelfTestConveyance:
		sub, need = 3, 1<<5
	case SelfTestAbort:
		sub, need = 0x7f, 1<<4
	}
	if v.OfflineCapability&need == 0 {
		return fmt.Errorf("%w: %s (%s) does not offer this self-test (capabilities 0x%02x)", ErrNotSupported, d.name, id.Model, v.OfflineCapability)
	}
	a := smartCommand("SMART EXECUTE OFF-LINE IMMEDIATE", smartExecOffline, false)
	a.lbaLow = sub
	_, _, err = d.run(ctx, a)
	return err
}
