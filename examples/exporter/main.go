package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/promexport"
)

// DefaultListen is the default address: loopback only, so exposing the
// metrics beyond the host is a deliberate choice.
const DefaultListen = "127.0.0.1:9477"

// DefaultDeviceExclude is node_exporter's default --collector.diskstats.device-exclude:
// partitions, RAM and loop devices are not exported, so the series match
// what node_exporter users already have.
const DefaultDeviceExclude = `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "exporter:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. ready, when set, receives the address the
// server listens on (tests pass --listen 127.0.0.1:0).
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fs := flag.NewFlagSet("exporter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", DefaultListen, "address to serve /metrics on")
	interval := fs.Duration("interval", time.Second, "sampling interval (>= 100ms)")
	rootDir := fs.String("root", "/", "root of the /proc and /sys trees to read")
	scsi := fs.Bool("scsi-errors", false, "also read SCSI error counters (3 file reads per disk per interval)")
	exclude := fs.String("device-exclude", DefaultDeviceExclude, "regexp of device names not to export (node_exporter's default; empty exports all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var dopts []perf.DiskOption
	if *exclude != "" {
		re, err := regexp.Compile(*exclude)
		if err != nil {
			return fmt.Errorf("--device-exclude: %w", err)
		}
		dopts = append(dopts, perf.WithDeviceFilter(func(name string) bool { return !re.MatchString(name) }))
	}
	if *scsi {
		dopts = append(dopts, perf.WithSCSIErrors(1))
	}
	disks, err := perf.NewDiskstatsCollector(*rootDir, dopts...)
	if err != nil {
		return err
	}
	exp, err := promexport.New()
	if err != nil {
		return err
	}
	fsc, err := perf.NewFilesystemCollector(*rootDir)
	if err != nil {
		disks.Close()
		return err
	}
	mon, err := perf.NewMonitor(perf.WithRoot(*rootDir), perf.WithInterval(*interval), perf.WithLogger(log),
		perf.WithCollectors(disks, fsc), perf.WithSinks(exp))
	if err != nil {
		disks.Close()
		return err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(exp); err != nil {
		mon.Stop()
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		mon.Stop()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "<html><body><a href=\"/metrics\">metrics</a></body></html>\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	if err := mon.Start(ctx); err != nil {
		ln.Close()
		mon.Stop()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving metrics", "addr", ln.Addr().String(), "interval", interval.String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	mon.Stop()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
