package external

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// pluginName is the one plugin in every version's plugin set.
const pluginName = "backend"

// handshake is the go-plugin handshake: a plugin run by hand (without the
// cookie) refuses to start, and a program that is not a plugin fails the
// handshake instead of being talked to.
func handshake() goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "EOS_STORAGE_BACKEND_PLUGIN",
		MagicCookieValue: "c5a1d3e0-volume-backend",
	}
}

// hostPlugins is what the host offers, by protocol version. Version 2 adds
// an entry whose GRPCClient returns its own connection type; Backend then
// picks the calls by the negotiated version.
func hostPlugins(versions []int) map[int]goplugin.PluginSet {
	vp := map[int]goplugin.PluginSet{}
	for _, v := range versions {
		vp[v] = goplugin.PluginSet{pluginName: &grpcPlugin{}}
	}
	return vp
}

// Option configures Open.
type Option func(*config) error

type config struct {
	log          *slog.Logger
	args, env    []string
	callTimeout  time.Duration
	execTimeout  time.Duration
	startTimeout time.Duration
	versions     []int // tests override it
}

// WithLogger sets the host's logger; go-plugin's messages and the
// plugin's stderr (its logs) go there. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("external: nil logger")
		}
		c.log = l
		return nil
	}
}

// WithArgs sets the plugin's command-line arguments.
func WithArgs(args ...string) Option {
	return func(c *config) error {
		c.args = append([]string(nil), args...)
		return nil
	}
}

// WithEnv adds KEY=VALUE entries to the plugin's environment (which
// otherwise is the host's).
func WithEnv(kv ...string) Option {
	return func(c *config) error {
		for _, e := range kv {
			if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
				return fmt.Errorf("external: environment entry %q is not KEY=VALUE", e)
			}
		}
		c.env = append(c.env, kv...)
		return nil
	}
}

// WithCallTimeout bounds each query and planning call, and the start-up
// handshake (default 30s). A call that outlives it is ErrTimeout and the
// process is killed.
func WithCallTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("external: call timeout %v <= 0", d)
		}
		c.callTimeout = d
		return nil
	}
}

// WithExecuteTimeout bounds each Execute and Rollback of an operation
// (default 10m; an operation's own Timeout, when the plugin gives one,
// bounds it further through the scheduler).
func WithExecuteTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("external: execute timeout %v <= 0", d)
		}
		c.execTimeout = d
		return nil
	}
}

func withVersions(v ...int) Option {
	return func(c *config) error { c.versions = v; return nil }
}

// Backend is a plugin.Backend served by an external process. It starts the
// process in Open, restarts it on the call after one that found it dead,
// hung or killed, and stops it in Close. It is safe for concurrent use.
type Backend struct {
	path   string
	cfg    config
	name   string
	limits plugin.Limits

	mu     sync.Mutex
	cur    *proc
	closed bool
	starts int
}

var _ plugin.Backend = (*Backend)(nil)

// proc is one running plugin process.
type proc struct {
	client   *goplugin.Client
	conn     *v1Conn
	version  int
	instance string
	pid      int
}

// v1Conn is the client side of protocol version 1.
type v1Conn struct{ cc *grpc.ClientConn }

// Open starts the plugin executable at path, negotiates the protocol,
// asks the backend's name and limits, and returns the proxy. The process
// runs until Close; ctx bounds only the start.
func Open(ctx context.Context, path string, opts ...Option) (*Backend, error) {
	cfg := config{log: slog.New(slog.DiscardHandler), callTimeout: 30 * time.Second,
		execTimeout: 10 * time.Minute, versions: []int{ProtocolVersion}}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	cfg.startTimeout = cfg.callTimeout
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &PluginError{Plugin: path, Op: "start", Cause: fmt.Errorf("%w: %v", ErrStart, err)}
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		reason := "not an executable file"
		if err != nil {
			reason = err.Error()
		}
		return nil, &PluginError{Plugin: path, Op: "start", Cause: fmt.Errorf("%w: %s", ErrStart, reason)}
	}
	b := &Backend{path: abs, cfg: cfg}
	if _, err := b.proc(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// Name is the plugin backend's name, as it said when it started.
func (b *Backend) Name() string { return b.name }

// Limits are the backend's limits, as it said when it started.
func (b *Backend) Limits() plugin.Limits { return b.limits }

// Close stops the plugin process. Operations handed out earlier fail with
// ErrClosed afterwards.
func (b *Backend) Close() error {
	b.mu.Lock()
	p := b.cur
	b.cur, b.closed = nil, true
	b.mu.Unlock()
	if p != nil {
		p.client.Kill()
	}
	return nil
}

func (b *Backend) perr(op string, cause error) error {
	n := b.name
	if n == "" {
		n = filepath.Base(b.path)
	}
	return &PluginError{Plugin: n, Op: op, Cause: cause}
}

// proc returns the running process, starting one if there is none.
// Starting holds the lock: concurrent callers wait for one start.
func (b *Backend) proc(ctx context.Context) (*proc, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, b.perr("start", ErrClosed)
	}
	if b.cur != nil && !b.cur.client.Exited() {
		return b.cur, nil
	}
	if b.cur != nil {
		b.cur.client.Kill()
		b.cur = nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := b.start(ctx)
	if err != nil {
		return nil, err
	}
	b.cur = p
	b.starts++
	return p, nil
}

func (b *Backend) start(ctx context.Context) (*proc, error) {
	log := b.cfg.log.With("plugin", filepath.Base(b.path))
	cmd := exec.Command(b.path, b.cfg.args...)
	cmd.Env = append(os.Environ(), b.cfg.env...)
	// Its own process group, so that a kill reaches the tools it runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: hostPlugins(b.cfg.versions),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		StartTimeout:     b.cfg.startTimeout,
		Logger:           newHCLogger(log, "go-plugin"),
		Stderr:           stderrLog(log),
		SyncStdout:       stderrLog(log),
		SyncStderr:       stderrLog(log),
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		if strings.Contains(err.Error(), "incompatible API version") {
			return nil, b.perr("start", &VersionError{Detail: err.Error()})
		}
		return nil, b.perr("start", fmt.Errorf("%w: %v", ErrStart, err))
	}
	raw, err := rpc.Dispense(pluginName)
	conn, ok := raw.(*v1Conn)
	if err != nil || !ok {
		client.Kill()
		return nil, b.perr("start", fmt.Errorf("%w: dispense: %v", ErrStart, err))
	}
	p := &proc{client: client, conn: conn, version: client.NegotiatedVersion()}
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	// b.mu is held: the failure is classified without forgetting p,
	// which is not b.cur yet.
	var d describeResponse
	cctx, cancel := context.WithTimeout(ctx, b.cfg.callTimeout)
	err = p.conn.cc.Invoke(cctx, methodPath(mDescribe), &describeRequest{}, &d, grpc.ForceCodec(jsonCodec{}))
	if err != nil {
		err, _ = b.classify(ctx, cctx, p, mDescribe, err)
	}
	cancel()
	if err == nil {
		if err = checkDescribe(&d); err == nil && b.name != "" && d.Name != b.name {
			err = malformed("name", d.Name, "the restarted plugin is not backend "+b.name)
		}
		if err != nil {
			err = b.perr(mDescribe, err)
		}
	}
	if err != nil {
		stop(p)
		return nil, err
	}
	if b.name == "" {
		// The first start, inside Open: Name and Limits read these
		// without the lock afterwards, so a restart never writes them.
		b.name, b.limits = d.Name, d.Limits
	} else if d.Limits != b.limits {
		log.Warn("the restarted plugin reports other limits; keeping the first", "first", b.limits, "now", d.Limits)
	}
	p.instance = d.Instance
	log.Debug("plugin started", "backend", d.Name, "protocol", p.version, "pid", p.pid)
	return p, nil
}

// kill forgets p and ends it at once.
func (b *Backend) kill(p *proc) {
	b.mu.Lock()
	if b.cur == p {
		b.cur = nil
	}
	b.mu.Unlock()
	stop(p)
}

// stop ends p at once: the whole process group, then go-plugin's cleanup.
func stop(p *proc) {
	if p.pid > 0 && !p.client.Exited() {
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	p.client.Kill()
}

// alive reports whether p is still the process calls go to.
func (b *Backend) alive(p *proc) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return ErrClosed
	case b.cur != p || p.client.Exited():
		return ErrStaleOperation
	}
	return nil
}

// call is one unary call on the current process (started if needed).
func (b *Backend) call(ctx context.Context, method string, req, resp any) error {
	p, err := b.proc(ctx)
	if err != nil {
		return err
	}
	return b.invoke(ctx, p, method, req, resp, b.cfg.callTimeout)
}

func (b *Backend) invoke(ctx context.Context, p *proc, method string, req, resp any, timeout time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := p.conn.cc.Invoke(cctx, methodPath(method), req, resp, grpc.ForceCodec(jsonCodec{}))
	if err != nil {
		return b.failed(ctx, cctx, p, method, err)
	}
	return nil
}

// failed turns a transport error into the error the caller sees, killing
// the process when it is dead or hung.
func (b *Backend) failed(ctx, cctx context.Context, p *proc, method string, err error) error {
	err, dead := b.classify(ctx, cctx, p, method, err)
	if dead {
		b.kill(p)
	}
	return err
}

// classify names a transport error, and says whether the process is
// dead or hung (and so must go).
func (b *Backend) classify(ctx, cctx context.Context, p *proc, method string, err error) (error, bool) {
	if ctx.Err() != nil {
		// The caller gave up; the plugin is not at fault.
		return fmt.Errorf("external plugin %s: %s: %w", b.name, method, ctx.Err()), false
	}
	st, _ := status.FromError(err)
	if errors.Is(cctx.Err(), context.DeadlineExceeded) || st.Code() == codes.DeadlineExceeded {
		// The status can come before our own timer fires: the server
		// got the deadline too. Whose deadline was it?
		if d, ok := ctx.Deadline(); ok {
			if cd, _ := cctx.Deadline(); !d.After(cd) {
				return fmt.Errorf("external plugin %s: %s: %w", b.name, method, context.DeadlineExceeded), false
			}
		}
		return b.perr(method, ErrTimeout), true
	}
	switch {
	case p.client.Exited() || st.Code() == codes.Unavailable || st.Code() == codes.Canceled:
		return b.perr(method, fmt.Errorf("%w: %s", ErrCrashed, st.Message())), true
	case st.Code() == codes.Internal && strings.Contains(st.Message(), "unmarshal"):
		return b.perr(method, malformed("answer", "", st.Message())), false
	}
	return b.perr(method, fmt.Errorf("%w: %s: %s", ErrMalformed, st.Code(), st.Message())), false
}

// remote is the error a plugin's answer carried, if any.
func (b *Backend) remote(method string, w *wireError) error {
	if w == nil {
		return nil
	}
	if w.Code == codeUnknownToken {
		return b.perr(method, ErrStaleOperation)
	}
	return fromWire(w, b.name)
}

// Capabilities asks the plugin.
func (b *Backend) Capabilities(ctx context.Context) (plugin.Capabilities, error) {
	var r capabilitiesResponse
	if err := b.call(ctx, mCapabilities, &capabilitiesRequest{}, &r); err != nil {
		return nil, err
	}
	if err := b.remote(mCapabilities, r.Error); err != nil {
		return nil, err
	}
	if err := checkCapabilities(r.Capabilities); err != nil {
		return nil, b.perr(mCapabilities, err)
	}
	return r.Capabilities, nil
}

// Pools asks the plugin.
func (b *Backend) Pools(ctx context.Context) ([]plugin.Pool, error) {
	var r poolsResponse
	if err := b.call(ctx, mPools, &poolsRequest{}, &r); err != nil {
		return nil, err
	}
	if err := b.remote(mPools, r.Error); err != nil {
		return nil, err
	}
	if err := checkPools(r.Pools); err != nil {
		return nil, b.perr(mPools, err)
	}
	return r.Pools, nil
}

// Volumes asks the plugin.
func (b *Backend) Volumes(ctx context.Context, pool string) ([]plugin.Volume, error) {
	var r volumesResponse
	if err := b.call(ctx, mVolumes, &volumesRequest{Pool: pool}, &r); err != nil {
		return nil, err
	}
	if err := b.remote(mVolumes, r.Error); err != nil {
		return nil, err
	}
	if err := checkVolumes(r.Volumes, pool); err != nil {
		return nil, b.perr(mVolumes, err)
	}
	return r.Volumes, nil
}

// Volume asks the plugin.
func (b *Backend) Volume(ctx context.Context, id string) (*plugin.Volume, error) {
	var r volumeResponse
	if err := b.call(ctx, mVolume, &volumeRequest{ID: id}, &r); err != nil {
		return nil, err
	}
	if err := b.remote(mVolume, r.Error); err != nil {
		return nil, err
	}
	if r.Volume == nil {
		return nil, b.perr(mVolume, malformed("volume", id, "no volume and no error"))
	}
	if err := checkVolume(*r.Volume); err != nil {
		return nil, b.perr(mVolume, err)
	}
	if r.Volume.ID != id {
		return nil, b.perr(mVolume, malformed("volume.id", r.Volume.ID, "asked for "+id))
	}
	return r.Volume, nil
}

// Snapshots asks the plugin.
func (b *Backend) Snapshots(ctx context.Context, volumeID string) ([]plugin.Snapshot, error) {
	var r snapshotsResponse
	if err := b.call(ctx, mSnapshots, &snapshotsRequest{VolumeID: volumeID}, &r); err != nil {
		return nil, err
	}
	if err := b.remote(mSnapshots, r.Error); err != nil {
		return nil, err
	}
	if err := checkSnapshots(r.Snapshots, volumeID); err != nil {
		return nil, b.perr(mSnapshots, err)
	}
	return r.Snapshots, nil
}

// plan makes one mutating call and turns the answer into operations that
// call back into the process that answered.
func (b *Backend) plan(ctx context.Context, method string, req any) ([]sched.Operation, error) {
	p, err := b.proc(ctx)
	if err != nil {
		return nil, err
	}
	var r opsResponse
	if err := b.invoke(ctx, p, method, req, &r, b.cfg.callTimeout); err != nil {
		return nil, err
	}
	if err := b.remote(method, r.Error); err != nil {
		return nil, err
	}
	ops, err := b.operations(p, r.Operations)
	if err != nil {
		return nil, b.perr(method, err)
	}
	return ops, nil
}

// CreateVolume plans the volume in the plugin.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	return b.plan(ctx, mCreateVolume, &createVolumeRequest{Request: req})
}

// ResizeVolume plans the resize in the plugin.
func (b *Backend) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	return b.plan(ctx, mResizeVolume, &resizeVolumeRequest{ID: id, NewBytes: newBytes})
}

// DeleteVolume plans the deletion in the plugin.
func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	return b.plan(ctx, mDeleteVolume, &deleteVolumeRequest{ID: id})
}

// CreateSnapshot plans the snapshot in the plugin.
func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, name string) ([]sched.Operation, error) {
	return b.plan(ctx, mCreateSnapshot, &createSnapshotRequest{VolumeID: volumeID, Name: name})
}

// DeleteSnapshot plans the deletion in the plugin.
func (b *Backend) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	return b.plan(ctx, mDeleteSnapshot, &deleteSnapshotRequest{SnapshotID: snapshotID})
}

// execute runs one pending operation in p, the process that planned it.
func (b *Backend) execute(ctx context.Context, p *proc, d opDescriptor, progress sched.Progress) error {
	if err := b.alive(p); err != nil {
		return b.perr(mExecute, err)
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.execTimeout)
	defer cancel()
	stream, err := p.conn.cc.NewStream(cctx, &grpc.StreamDesc{StreamName: mExecute, ServerStreams: true},
		methodPath(mExecute), grpc.ForceCodec(jsonCodec{}))
	if err != nil {
		return b.failed(ctx, cctx, p, mExecute, err)
	}
	if err := stream.SendMsg(&executeRequest{Token: d.Token}); err != nil && !errors.Is(err, io.EOF) {
		return b.failed(ctx, cctx, p, mExecute, err)
	}
	if err := stream.CloseSend(); err != nil {
		return b.failed(ctx, cctx, p, mExecute, err)
	}
	for {
		var ev executeEvent
		if err := stream.RecvMsg(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return b.perr(mExecute, malformed("execute", d.ID, "the stream ended without a final event"))
			}
			return b.failed(ctx, cctx, p, mExecute, err)
		}
		if ev.Done {
			return b.remote(mExecute, ev.Error)
		}
		if pe := ev.Progress; pe != nil && progress != nil {
			if pe.Done < 0 || pe.Total < 0 {
				// A lying progress report is dropped, not fatal: the
				// change itself may well be fine.
				b.cfg.log.Warn("plugin sent negative progress", "op", d.ID, "done", pe.Done, "total", pe.Total)
				continue
			}
			progress(pe.Done, pe.Total, pe.Note)
		}
	}
}

// rollback undoes one executed operation in p.
func (b *Backend) rollback(ctx context.Context, p *proc, d opDescriptor) error {
	if err := b.alive(p); err != nil {
		return b.perr(mRollback, err)
	}
	var r rollbackResponse
	if err := b.invoke(ctx, p, mRollback, &rollbackRequest{Token: d.Token}, &r, b.cfg.execTimeout); err != nil {
		return err
	}
	return b.remote(mRollback, r.Error)
}
