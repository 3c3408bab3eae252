// Command csi-driver is the eos-storage CSI plugin: Identity, Controller and
// Node services on one unix socket, volumes from the loopfile backend.
//
//	CSI_ENDPOINT=unix:///csi/csi.sock csi-driver [--dir DIR] [--state DIR]
//	    [--node-id ID] [--fs-type T] [--metrics unix:///path | 127.0.0.1:PORT]
//
// --dir is the loopfile pool directory (default /var/lib/eos-storage/csi/pool),
// --state the journal directory (default /var/lib/eos-storage/csi/state).
// Metrics (Prometheus) are served only when --metrics is given, on a unix
// socket or a loopback address. Formatting, mounting and growing go through
// the storage Engine (csi.OpenEngine), journaled in --state. Exit status: 0 on SIGTERM/SIGINT, 2 usage, 1 failure.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/csi"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

func run(ctx context.Context, args []string) int {
	fl := flag.NewFlagSet("csi-driver", flag.ContinueOnError)
	dir := fl.String("dir", "/var/lib/eos-storage/csi/pool", "loopfile pool directory")
	state := fl.String("state", "/var/lib/eos-storage/csi/state", "journal directory")
	nodeID := fl.String("node-id", "", "node ID (default: hostname)")
	fsType := fl.String("fs-type", "ext4", "filesystem for mount volumes that name none")
	metrics := fl.String("metrics", "", "metrics listener: unix:///path or 127.0.0.1:PORT")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	endpoint := os.Getenv("CSI_ENDPOINT")
	if endpoint == "" {
		fmt.Fprintln(os.Stderr, "csi-driver: CSI_ENDPOINT is not set")
		return 2
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := serve(ctx, log, endpoint, *dir, *state, *nodeID, fsys.Type(*fsType), *metrics); err != nil {
		log.Error("csi-driver failed", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, log *slog.Logger, endpoint, dir, state, nodeID string, t fsys.Type, metrics string) error {
	b, err := loopfile.New(dir, loopfile.WithLogger(log))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return err
	}
	st, err := csi.OpenEngine(ctx, state, log)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := []csi.Option{csi.WithLogger(log), csi.WithVersion(version), csi.WithDefaultFSType(t)}
	if nodeID != "" {
		opts = append(opts, csi.WithNodeID(nodeID))
	}
	d, err := csi.New(b, st, opts...)
	if err != nil {
		return err
	}
	if metrics != "" {
		ml, err := metricsListener(metrics)
		if err != nil {
			return err
		}
		go d.ServeMetrics(ctx, ml)
	}
	l, err := csi.Listen(endpoint)
	if err != nil {
		return err
	}
	log.Info("serving", "endpoint", endpoint, "dir", dir)
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
