// Command smart prints a drive's health like a short `smartctl -a`, or as
// JSON with smartctl -j key names.
//
//	smart [--json] [-d auto|sat|nvme|scsi] [--timeout 10s] DEVICE
//	smart --test short|long|conveyance|abort DEVICE
//	smart --replay FILE [--json]
//
// The device type is detected as smartctl detects it (an NVMe disk from
// sysfs; a SCSI device from its USB bridge's id, else from INQUIRY and
// whether ATA PASS-THROUGH is answered); -d forces it like smartctl's -d.
// FILE is a libatasmart blob (IDFY/SMST/SMDT/SMTH sections) or a raw
// 512-byte NVMe SMART / Health log page. Exit status: 0 read and printed,
// 1 the read failed, 2 usage error, 3 the device has no SMART to read
// (with --json, what the device did tell is printed, device.type naming
// its classification as smartctl does).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/smart"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON with smartctl -j key names")
	replay := fs.String("replay", "", "decode a saved libatasmart blob or NVMe health log instead of a device")
	timeout := fs.Duration("timeout", smart.DefaultCommandTimeout, "timeout of each command sent to the drive")
	test := fs.String("test", "", "start a self-test (short, long, conveyance) or abort one, instead of reading")
	devType := fs.String("d", "auto", "device type: auto, sat (ATA behind SAT), nvme or scsi, as smartctl -d")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: smart [--json] [-d TYPE] [--timeout D] DEVICE\n       smart --test short|long|conveyance|abort DEVICE\n       smart --replay FILE [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	proto, ok := map[string]smart.Protocol{"auto": smart.ProtocolAuto, "sat": smart.ProtocolATA, "ata": smart.ProtocolATA,
		"nvme": smart.ProtocolNVMe, "scsi": smart.ProtocolSCSI}[*devType]
	if !ok {
		fs.Usage()
		return 2
	}
	opts := []smart.Option{smart.WithCommandTimeout(*timeout), smart.WithProtocol(proto)}
	var (
		r   *smart.Report
		err error
	)
	switch {
	case *test != "" && *replay == "" && fs.NArg() == 1:
		kind, ok := map[string]smart.SelfTest{"short": smart.SelfTestShort, "long": smart.SelfTestExtended,
			"conveyance": smart.SelfTestConveyance, "abort": smart.SelfTestAbort}[*test]
		if !ok {
			fs.Usage()
			return 2
		}
		tctx, cancel := context.WithTimeout(ctx, *timeout+time.Second)
		err = smart.StartSelfTest(tctx, fs.Arg(0), kind, opts...)
		cancel()
		if err == nil {
			fmt.Fprintf(stdout, "%s self-test started on %s\n", *test, fs.Arg(0))
			return 0
		}
	case *test != "":
		fs.Usage()
		return 2
	case *replay != "" && fs.NArg() == 0:
		var b []byte
		if b, err = os.ReadFile(*replay); err == nil {
			r, err = smart.ParseReplay(b)
		}
	case *replay == "" && fs.NArg() == 1:
		rctx, cancel := context.WithTimeout(ctx, 6**timeout+time.Second)
		r, err = smart.Read(rctx, fs.Arg(0), opts...)
		cancel()
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "smart: %v\n", err)
		if !errors.Is(err, smart.ErrNotSupported) {
			return 1
		}
		var ue *smart.UnsupportedError
		if *asJSON && *test == "" && errors.As(err, &ue) {
			// smartctl -j prints what it learnt even when there is no
			// SMART to read; so do we, with the same exit status as
			// without --json.
			if b, jerr := smart.MarshalSmartctlJSON(ue.Report()); jerr == nil {
				fmt.Fprintf(stdout, "%s\n", b)
			}
		}
		return 3
	}
	if *asJSON {
		b, err := smart.MarshalSmartctlJSON(r)
		if err != nil {
			fmt.Fprintf(stderr, "smart: %v\n", err)
			return 1
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return 1
		}
		return 0
	}
	if err := smart.WriteText(stdout, r); err != nil {
		fmt.Fprintf(stderr, "smart: %v\n", err)
		return 1
	}
	return 0
}
