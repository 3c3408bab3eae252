package external

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// ServeOption configures Serve.
type ServeOption func(*serveConfig) error

type serveConfig struct {
	log *slog.Logger
	// maxPending bounds the operations a process keeps by token; the
	// oldest are forgotten first.
	maxPending int
	// versions overrides the protocol versions served (tests only).
	versions []int
	// lie, when set, may replace any answer (tests only: a plugin that
	// answers nonsense).
	lie func(method string, answer any) any
}

// ServeLogger sets the plugin process's logger. Its records reach the
// host's logger when they are written as NewPluginLogger writes them; the
// default is NewPluginLogger(os.Stderr, slog.LevelInfo).
func ServeLogger(l *slog.Logger) ServeOption {
	return func(c *serveConfig) error {
		if l == nil {
			return errors.New("external: nil logger")
		}
		c.log = l
		return nil
	}
}

// ServeMaxPending bounds how many unexecuted or undoable operations the
// plugin keeps (default 4096); past it the oldest tokens are forgotten and
// using them is ErrStaleOperation on the host.
func ServeMaxPending(n int) ServeOption {
	return func(c *serveConfig) error {
		if n < 1 {
			return fmt.Errorf("external: max pending %d < 1", n)
		}
		c.maxPending = n
		return nil
	}
}

// Serve runs b as an external backend: it is the whole main of a plugin
// executable, and returns when the host closes the plugin. Run directly
// (not by a host), it prints that it is a plugin and exits with status 1,
// as go-plugin does for a missing handshake cookie.
func Serve(b plugin.Backend, opts ...ServeOption) error {
	if b == nil {
		return errors.New("external: nil backend")
	}
	cfg := serveConfig{maxPending: 4096, versions: []int{ProtocolVersion}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return err
		}
	}
	return serve(b, cfg)
}

func serve(b plugin.Backend, cfg serveConfig) error {
	if cfg.log == nil {
		cfg.log = NewPluginLogger(os.Stderr, slog.LevelInfo)
	}
	s, err := newServer(b, cfg)
	if err != nil {
		return err
	}
	vp := map[int]goplugin.PluginSet{}
	for _, v := range cfg.versions {
		vp[v] = goplugin.PluginSet{pluginName: &grpcPlugin{srv: s}}
	}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: vp,
		GRPCServer:       goplugin.DefaultGRPCServer,
		Logger:           newHCLogger(cfg.log, "go-plugin"),
	})
	return nil
}

// server answers the protocol for one backend in one process.
type server struct {
	b        plugin.Backend
	log      *slog.Logger
	instance string
	lie      func(string, any) any

	mu      sync.Mutex
	pending map[string]sched.Operation
	order   []string // tokens, oldest first
	max     int
}

func newServer(b plugin.Backend, cfg serveConfig) (*server, error) {
	inst, err := randomHex(8)
	if err != nil {
		return nil, err
	}
	return &server{b: b, log: cfg.log, instance: inst, lie: cfg.lie,
		pending: map[string]sched.Operation{}, max: cfg.maxPending}, nil
}

func randomHex(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("external: random token: %w", err)
	}
	return hex.EncodeToString(buf), nil
}

func (s *server) answer(method string, a any) any {
	if s.lie != nil {
		if r := s.lie(method, a); r != nil {
			return r
		}
	}
	return a
}

func (s *server) describe(_ context.Context, _ *describeRequest) *describeResponse {
	return &describeResponse{Name: s.b.Name(), Limits: s.b.Limits(), Instance: s.instance}
}

func (s *server) capabilities(ctx context.Context, _ *capabilitiesRequest) *capabilitiesResponse {
	c, err := s.b.Capabilities(ctx)
	return &capabilitiesResponse{Capabilities: c, Error: toWire(err)}
}

func (s *server) pools(ctx context.Context, _ *poolsRequest) *poolsResponse {
	p, err := s.b.Pools(ctx)
	return &poolsResponse{Pools: p, Error: toWire(err)}
}

func (s *server) volumes(ctx context.Context, r *volumesRequest) *volumesResponse {
	v, err := s.b.Volumes(ctx, r.Pool)
	return &volumesResponse{Volumes: v, Error: toWire(err)}
}

func (s *server) volume(ctx context.Context, r *volumeRequest) *volumeResponse {
	v, err := s.b.Volume(ctx, r.ID)
	return &volumeResponse{Volume: v, Error: toWire(err)}
}

func (s *server) snapshots(ctx context.Context, r *snapshotsRequest) *snapshotsResponse {
	v, err := s.b.Snapshots(ctx, r.VolumeID)
	return &snapshotsResponse{Snapshots: v, Error: toWire(err)}
}

func (s *server) createVolume(ctx context.Context, r *createVolumeRequest) *opsResponse {
	return s.hold(s.b.CreateVolume(ctx, r.Request))
}

func (s *server) resizeVolume(ctx context.Context, r *resizeVolumeRequest) *opsResponse {
	return s.hold(s.b.ResizeVolume(ctx, r.ID, r.NewBytes))
}

func (s *server) deleteVolume(ctx context.Context, r *deleteVolumeRequest) *opsResponse {
	return s.hold(s.b.DeleteVolume(ctx, r.ID))
}

func (s *server) createSnapshot(ctx context.Context, r *createSnapshotRequest) *opsResponse {
	return s.hold(s.b.CreateSnapshot(ctx, r.VolumeID, r.Name))
}

func (s *server) deleteSnapshot(ctx context.Context, r *deleteSnapshotRequest) *opsResponse {
	return s.hold(s.b.DeleteSnapshot(ctx, r.SnapshotID))
}

// hold keeps the operations by token and describes them.
func (s *server) hold(ops []sched.Operation, err error) *opsResponse {
	if err != nil {
		return &opsResponse{Error: toWire(err)}
	}
	out := &opsResponse{Operations: make([]opDescriptor, 0, len(ops))}
	for _, op := range ops {
		tok, err := randomHex(16)
		if err != nil {
			return &opsResponse{Error: toWire(err)}
		}
		d := opDescriptor{ID: op.ID, Kind: op.Kind, Token: tok, Priority: op.Priority,
			Dependencies: op.Dependencies, HasRollback: op.Rollback != nil,
			TimeoutMS: op.Timeout.Milliseconds()}
		for _, r := range op.Resources {
			d.Resources = append(d.Resources, wireResource{Key: r.Key.String(), Mode: r.Mode.String()})
		}
		out.Operations = append(out.Operations, d)
		s.put(tok, op)
	}
	return out
}

func (s *server) put(tok string, op sched.Operation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[tok] = op
	s.order = append(s.order, tok)
	for len(s.pending) > s.max && len(s.order) > 0 {
		delete(s.pending, s.order[0])
		s.order = s.order[1:]
	}
	if len(s.order) > 2*s.max { // tokens dropped by forget
		live := s.order[:0]
		for _, t := range s.order {
			if _, ok := s.pending[t]; ok {
				live = append(live, t)
			}
		}
		s.order = live
	}
}

func (s *server) get(tok string) (sched.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.pending[tok]
	if !ok {
		return op, fmt.Errorf("token %q: %w", tok, errUnknownToken)
	}
	return op, nil
}

func (s *server) forget(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, tok)
}

// errUnknownToken travels as codeUnknownToken.
var errUnknownToken = errors.New("external: unknown operation token")

func (s *server) execute(ctx context.Context, tok string, progress sched.Progress) error {
	op, err := s.get(tok)
	if err != nil {
		return err
	}
	if op.Execute == nil {
		return fmt.Errorf("operation %s has no Execute: %w", op.ID, plugin.ErrBackend)
	}
	s.log.Debug("execute", "op", op.ID, "kind", op.Kind)
	if err := op.Execute(ctx, progress); err != nil {
		return err
	}
	if op.Rollback == nil {
		s.forget(tok)
	}
	return nil
}

func (s *server) rollback(ctx context.Context, r *rollbackRequest) *rollbackResponse {
	op, err := s.get(r.Token)
	if err == nil && op.Rollback == nil {
		err = fmt.Errorf("operation %s has no Rollback: %w", op.ID, plugin.ErrBackend)
	}
	if err == nil {
		s.log.Debug("rollback", "op", op.ID, "kind", op.Kind)
		if err = op.Rollback(ctx); err == nil {
			s.forget(r.Token)
		}
	}
	return &rollbackResponse{Error: toWire(err)}
}

// grpcPlugin is the go-plugin glue of protocol version 1: the server
// registers the service, the client wraps the connection.
type grpcPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	srv *server // plugin side only
}

func (p *grpcPlugin) GRPCServer(_ *goplugin.GRPCBroker, g *grpc.Server) error {
	g.RegisterService(serviceDescV1(), p.srv)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return &v1Conn{cc: cc}, nil
}
