// Command csi-driver is the eos-storage CSI plugin: Identity, Controller and
// Node services on one unix socket, volumes from lvm thin (the default) or
// the loopfile backend.
//
//	CSI_ENDPOINT=unix:///csi/csi.sock csi-driver [--backend lvm|loopfile]
//	    [--vg VG] [--thin-pool LV] [--over-provisioning R] [--thick]
//	    [--dir DIR] [--state DIR] [--node-id ID] [--fs-type T]
//	    [--metrics unix:///path | 127.0.0.1:PORT]
//
// With --backend lvm (the default) volumes are thin LVs of --thin-pool
// (default "pool") in --vg (default "eos"), admitted by the thin-pool
// policy (lvm.Policy: watched by device-mapper ioctl, extended from the
// VG's free space before it fills, new volumes refused beyond
// --over-provisioning, default 1.0); --thick makes linear LVs instead.
// With --backend loopfile volumes are sparse files under --dir (default
// /var/lib/eos-storage/csi/pool), for machines with no spare disk.
// --state is the journal directory (default /var/lib/eos-storage/csi/state);
// lvm's changes are journaled there too, so one recovery settles all.
// Metrics (Prometheus) are served only when --metrics is given, on a unix
// socket or a loopback address. Formatting, mounting and growing go through
// the storage Engine (csi.OpenEngine). Exit status: 0 on SIGTERM/SIGINT,
// 2 usage, 1 failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/csi"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
	lvmplugin "github.com/CodeMonkeyCybersecurity/eos-storage/plugin/lvm"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

type config struct {
	backend, vg, thinPool, dir, state, nodeID, metrics string
	ratio                                              float64
	thick                                              bool
	fsType                                             fsys.Type
}

func run(ctx context.Context, args []string) int {
	fl := flag.NewFlagSet("csi-driver", flag.ContinueOnError)
	var c config
	fl.StringVar(&c.backend, "backend", "lvm", "volume backend: lvm or loopfile")
	fl.StringVar(&c.vg, "vg", "eos", "lvm: the volume group")
	fl.StringVar(&c.thinPool, "thin-pool", "pool", "lvm: the VG's thin pool")
	fl.Float64Var(&c.ratio, "over-provisioning", lvm.DefaultOverProvisioning, "lvm: largest ratio of thin virtual sizes to the pool's data size")
	fl.BoolVar(&c.thick, "thick", false, "lvm: linear LVs instead of thin ones")
	fl.StringVar(&c.dir, "dir", "/var/lib/eos-storage/csi/pool", "loopfile pool directory")
	fl.StringVar(&c.state, "state", "/var/lib/eos-storage/csi/state", "journal directory")
	fl.StringVar(&c.nodeID, "node-id", "", "node ID (default: hostname)")
	fs := fl.String("fs-type", "ext4", "filesystem for mount volumes that name none")
	fl.StringVar(&c.metrics, "metrics", "", "metrics listener: unix:///path or 127.0.0.1:PORT")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	c.fsType = fsys.Type(*fs)
	if c.backend != "lvm" && c.backend != "loopfile" {
		fmt.Fprintf(os.Stderr, "csi-driver: --backend %q: want lvm or loopfile\n", c.backend)
		return 2
	}
	endpoint := os.Getenv("CSI_ENDPOINT")
	if endpoint == "" {
		fmt.Fprintln(os.Stderr, "csi-driver: CSI_ENDPOINT is not set")
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := serve(ctx, log, endpoint, c); err != nil {
		log.Error("csi-driver failed", "err", err)
		return 1
	}
	return 0
}

// lvmBackend builds the lvm backend journaling into the Engine's journal,
// and for thin volumes starts the thin-pool policy on the pool. stop ends
// the policy, waits for it and closes what it opened; it is returned (and
// must be called) even with an error.
func lvmBackend(ctx context.Context, log *slog.Logger, st *csi.EngineStack, c config) (b plugin.Backend, stop func(), err error) {
	stop = func() {}
	x, err := command.New(command.WithLogger(log))
	if err != nil {
		return nil, stop, err
	}
	tool, err := lvm.NewTool(x)
	if err != nil {
		return nil, stop, err
	}
	fm, err := fsys.New(fsys.WithJournal(st.Journal()), fsys.WithLogger(log))
	if err != nil {
		return nil, stop, err
	}
	m, err := lvm.NewManager(tool, lvm.WithJournal(st.Journal()), lvm.WithFsys(fm), lvm.WithLogger(log))
	if err != nil {
		return nil, stop, err
	}
	if c.thick {
		b, err = lvmplugin.New(m, c.vg, lvmplugin.WithLogger(log))
		return b, stop, err
	}
	rs, err := lvm.NewReportSource(tool)
	if err != nil {
		return nil, stop, err
	}
	grower, err := lvm.NewToolGrower(tool)
	if err != nil {
		return nil, stop, err
	}
	dm, err := lvm.OpenDMSource()
	if err != nil {
		return nil, stop, fmt.Errorf("thin-pool policy: %w", err)
	}
	pctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait(); dm.Close() }
	p, err := lvm.NewPolicy(dm, rs, lvm.WithGrower(grower), lvm.WithOverProvisioning(c.ratio), lvm.WithPolicyLogger(log))
	if err != nil {
		return nil, stop, err
	}
	if b, err = lvmplugin.New(m, c.vg, lvmplugin.WithThinPool(c.thinPool), lvmplugin.WithPolicy(p), lvmplugin.WithLogger(log)); err != nil {
		return nil, stop, err
	}
	if err := p.Watch(pctx, c.vg, c.thinPool); err != nil {
		return nil, stop, fmt.Errorf("thin-pool policy: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := p.Run(pctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("thin-pool policy stopped: thin volumes are refused until a restart", "err", err)
		}
	}()
	return b, stop, nil
}

func serve(ctx context.Context, log *slog.Logger, endpoint string, c config) error {
	if err := os.MkdirAll(c.state, 0o700); err != nil {
		return err
	}
	st, err := csi.OpenEngine(ctx, c.state, log)
	if err != nil {
		return err
	}
	defer st.Close()
	var b plugin.Backend
	opts := []csi.Option{csi.WithLogger(log), csi.WithVersion(version), csi.WithDefaultFSType(c.fsType)}
	if c.backend == "loopfile" {
		b, err = loopfile.New(c.dir, loopfile.WithLogger(log))
	} else {
		var stop func()
		b, stop, err = lvmBackend(ctx, log, st, c)
		defer stop()
		opts = append(opts, csi.WithThin(!c.thick))
	}
	if err != nil {
		return err
	}
	if c.nodeID != "" {
		opts = append(opts, csi.WithNodeID(c.nodeID))
	}
	d, err := csi.New(b, st, opts...)
	if err != nil {
		return err
	}
	if c.metrics != "" {
		ml, err := metricsListener(c.metrics)
		if err != nil {
			return err
		}
		go d.ServeMetrics(ctx, ml)
	}
	l, err := csi.Listen(endpoint)
	if err != nil {
		return err
	}
	log.Info("serving", "endpoint", endpoint, "backend", c.backend)
	return d.Serve(ctx, l)
}

// metricsListener accepts a unix socket or a loopback TCP address only.
func metricsListener(addr string) (net.Listener, error) {
	if p, ok := strings.CutPrefix(addr, "unix://"); ok {
		os.Remove(p)
		return net.Listen("unix", p)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("metrics address %q: only unix:// or a loopback address", addr)
	}
	return net.Listen("tcp", addr)
}
