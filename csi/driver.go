package csi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// TopologyKey is the segment naming the node a volume lives on.
const TopologyKey = "eos-storage/node"

// DefaultName is the driver's CSI name.
const DefaultName = "storage.eos.codemonkey.ai"

// Attacher is what a backend whose volumes need attaching after a reboot
// offers (loopfile does): attach if not attached, return the device.
type Attacher interface {
	Attach(ctx context.Context, id string) (string, error)
}

// Driver serves the CSI Identity, Controller and Node services for one
// backend on one node.
type Driver struct {
	csipb.UnimplementedIdentityServer
	csipb.UnimplementedControllerServer
	csipb.UnimplementedNodeServer

	backend     plugin.Backend
	stack       Stack
	name        string
	version     string
	nodeID      string
	defaultFS   fsys.Type
	defaultSize int64
	log         *slog.Logger
	metrics     *metrics
	reg         *prometheus.Registry
	root        sysfs.Root

	locks keyedMutex
	thin  bool // WithThin

	poolMu sync.Mutex
	pool   string // poolOf's answer, once found

	// health caches drive SMART answers for volume health (WithHealth).
	health healthMonitor
}

// Option configures New.
type Option func(*Driver) error

// WithName sets the CSI driver name (default DefaultName).
func WithName(n string) Option {
	return func(d *Driver) error {
		if n == "" || len(n) > 63 {
			return errors.New("csi: driver name empty or longer than 63")
		}
		d.name = n
		return nil
	}
}

// WithVersion sets the vendor version Identity reports.
func WithVersion(v string) Option {
	return func(d *Driver) error { d.version = v; return nil }
}

// WithNodeID sets the node's ID and topology value (default the hostname).
func WithNodeID(id string) Option {
	return func(d *Driver) error {
		if id == "" || len(id) > 128 {
			return errors.New("csi: node id empty or longer than 128")
		}
		d.nodeID = id
		return nil
	}
}

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option {
	return func(d *Driver) error {
		if l == nil {
			return errors.New("csi: nil logger")
		}
		d.log = l
		return nil
	}
}

// WithDefaultFSType sets the filesystem for mount volumes whose capability
// names none (default ext4).
func WithDefaultFSType(t fsys.Type) Option {
	return func(d *Driver) error {
		if !t.Valid() {
			return fmt.Errorf("csi: filesystem type %q", t)
		}
		d.defaultFS = t
		return nil
	}
}

// WithDefaultSize sets the size of a volume whose request names none
// (default 1 GiB).
func WithDefaultSize(n int64) Option {
	return func(d *Driver) error {
		if n <= 0 {
			return errors.New("csi: default size must be positive")
		}
		d.defaultSize = n
		return nil
	}
}

// WithThin makes new volumes thin (CreateRequest.Thin) in the backend's
// first pool that is not a thin pool, and GetCapacity answer from its thin
// pools' free space,
// which the backend bounds by its over-provisioning limit or thin-pool
// policy. A backend that cannot make thin volumes refuses the creates.
func WithThin(on bool) Option {
	return func(d *Driver) error { d.thin = on; return nil }
}

// WithRoot sets the root under which /proc is read (mountinfo).
func WithRoot(r sysfs.Root) Option {
	return func(d *Driver) error { d.root = r; return nil }
}

// New returns a driver for backend b whose formatting, mounting and
// backend changes go through s.
func New(b plugin.Backend, s Stack, opts ...Option) (*Driver, error) {
	if b == nil || s == nil {
		return nil, errors.New("csi: nil backend or stack")
	}
	d := &Driver{backend: b, stack: s, name: DefaultName, version: "dev", defaultFS: fsys.Ext4, defaultSize: 1 << 30,
		log: slog.New(slog.DiscardHandler), reg: prometheus.NewRegistry()}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("csi: nil option")
		}
		if err := o(d); err != nil {
			return nil, err
		}
	}
	if d.nodeID == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("csi: node id: %w", err)
		}
		d.nodeID = h
	}
	m, err := newMetrics(d.reg)
	if err != nil {
		return nil, err
	}
	d.metrics = m
	d.locks.m = map[string]*keyedEntry{}
	return d, nil
}

// Registry is the driver's Prometheus registry.
func (d *Driver) Registry() *prometheus.Registry { return d.reg }

// GRPCServer returns a server with the three services and the metrics
// interceptor registered.
func (d *Driver) GRPCServer() *grpc.Server {
	s := grpc.NewServer(grpc.UnaryInterceptor(d.metrics.interceptor))
	csipb.RegisterIdentityServer(s, d)
	csipb.RegisterControllerServer(s, d)
	csipb.RegisterNodeServer(s, d)
	return s
}

// Listen opens a CSI endpoint ("unix:///path" or a bare path), removing a
// stale socket file first.
func Listen(endpoint string) (net.Listener, error) {
	path, ok := strings.CutPrefix(endpoint, "unix://")
	if !ok && strings.Contains(endpoint, "://") {
		return nil, fmt.Errorf("csi: endpoint %q: only unix:// is supported", endpoint)
	}
	if path == "" {
		return nil, fmt.Errorf("csi: endpoint %q: empty path", endpoint)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("csi: endpoint %s exists and is not a socket", path)
		}
		os.Remove(path)
	}
	return net.Listen("unix", path)
}

// Serve serves the CSI services on l until ctx ends.
func (d *Driver) Serve(ctx context.Context, l net.Listener) error {
	s := d.GRPCServer()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			s.GracefulStop()
		case <-done:
		}
	}()
	err := s.Serve(l)
	close(done)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// ServeMetrics serves /metrics on l until ctx ends.
func (d *Driver) ServeMetrics(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	err := srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// keyedMutex serialises calls on one volume or name: the spec lets a CO
// repeat a call while the first is running, and both must see one outcome.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	ch   chan struct{}
	refs int
}

func (k *keyedMutex) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{ch: make(chan struct{}, 1)}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
