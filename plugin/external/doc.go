// Package external runs a plugin.Backend in another process: a plugin
// executable serves a backend with Serve, and the host opens it with Open
// and uses the returned *Backend like any in-process backend. The two
// speak a versioned gRPC protocol through hashicorp/go-plugin. This
// package, csi and the examples are the only ones that link grpc and
// go-plugin (deps_test.go enforces it), so the core never does.
//
// # Protocol
//
// go-plugin starts the executable with a handshake cookie in its
// environment (a plugin run by hand refuses to start), negotiates the
// protocol version, and sets up mutual TLS with one-time certificates
// (AutoMTLS): only the host that started the plugin can talk to it. There
// is no protoc on the build machines, so the service is described by hand
// (grpc.ServiceDesc in service.go) and its messages are the Go structs of
// wire.go, encoded as JSON by a codec that every host call forces
// (grpc.ForceCodec, content-subtype "eos-json"); the server finds the
// codec by that name in gRPC's codec registry. The broker, net/rpc and
// go-plugin's reattach are not used.
//
// Version 1 is service eosstorage.backend.v1.Backend with one method per
// Backend call (Describe, Capabilities, Pools, Volumes, Volume, Snapshots,
// CreateVolume, ResizeVolume, DeleteVolume, CreateSnapshot,
// DeleteSnapshot), plus Execute and Rollback of a pending operation.
// Name and Limits are asked once per process start (Describe): they take
// no context and cannot fail, so the proxy answers them from that. Answers
// carry a backend's error in their body (code, message, and the fields of
// *plugin.InvalidError or *plugin.UnavailableError), so the host rebuilds
// the same typed error: ErrNotFound stays ErrNotFound across the process
// boundary, and only failures of the plugin itself are ErrBackend.
//
// Versioning: adding an optional field keeps the version (unknown fields
// are ignored); anything else is a new version, with its own service name,
// descriptor and client type, registered under its number in
// VersionedPlugins on both sides. go-plugin picks the newest version both
// offer; none in common is a *VersionError (ErrVersion) at Open.
//
// # Operations
//
// A mutating call returns operation descriptors: ID, Kind, priority,
// resources as sched.Key strings with "shared" or "exclusive", the IDs of
// the operations of the same answer they depend on, whether they can be
// rolled back, an optional timeout, and a token. The plugin keeps the real
// sched.Operation under the token (up to ServeMaxPending, oldest dropped);
// the host turns each descriptor into a sched.Operation whose Execute and
// Rollback call Execute(token) and Rollback(token) in the same process.
// So the host's scheduler plans and locks with the plugin's keys and the
// plugin runs the change. Execute streams the operation's progress
// reports back to the scheduler's Progress callback, then one final
// event; a plugin may send none. A token from a process that has since
// exited is ErrStaleOperation: the new process never saw it.
//
// # Failures
//
// Everything the plugin can do wrong is a *PluginError{Plugin, Op, Cause}
// that matches plugin.ErrBackend, with Cause:
//
//   - ErrCrashed: the process died or the connection dropped during the
//     call (it exited inside Execute, was SIGKILLed).
//   - ErrTimeout: the call outlived WithCallTimeout (queries, plans, the
//     start) or WithExecuteTimeout (Execute, Rollback). The process group
//     is killed: a hung plugin may be holding anything.
//   - ErrMalformed (*MalformedError): bad JSON, a negative size, free
//     space above capacity, an unknown technology or mode, a resource key
//     sched.ParseKey rejects, an empty or duplicate ID or token, a
//     dependency outside the answer, a Volume answer for another ID, an
//     Execute stream without its final event. The answer is dropped; the
//     process stays, since it may answer other calls well.
//   - ErrStart, ErrVersion, ErrStaleOperation, ErrClosed.
//
// After ErrCrashed or ErrTimeout the next call starts a new process
// (lazily; Open is the only eager start) and checks that it is the same
// backend (Name). A caller's own cancellation is returned as the context's
// error and is not held against the plugin.
//
// # Logs
//
// The plugin's stderr is the host's: each line becomes a record of the
// host's *slog.Logger (WithLogger), attributed to the plugin. A plugin
// that logs with NewPluginLogger writes hclog's JSON lines, whose level,
// message and attributes the host keeps; anything else arrives as text
// at debug level (a Go panic's trace at warn). go-plugin's own messages go
// to the same logger through an hclog adapter. The host parses stderr
// itself: go-plugin v1.8.0's parser panics on a line like
// {"@message": 5}, and a plugin's output must not be able to crash the
// host.
//
// # What the tests prove
//
// The test binary doubles as the plugin (TestMain serves an in-memory
// backend when an environment variable says so), so every test talks to a
// real child process over real gRPC with mTLS: values and typed errors
// survive the round trip; rollback reaches the plugin; progress streams;
// a plugin that exits inside Execute, or is SIGKILLed mid-call, gives
// ErrCrashed and the next call works in a new process while the old
// operations are stale; a query or Execute that hangs ignoring
// cancellation ends at its deadline with ErrTimeout and the process is
// gone, and the same at start-up fails Open; 27 kinds of lie in answers
// (table in lie_test.go) each give a typed error and leave the process
// serving, and 4 lies in the first answer fail Open with ErrMalformed; a
// token the plugin forgot is ErrStaleOperation; version mismatch is
// ErrVersion; calls race safely, also with a crash; a malformed stderr
// line is logged, not trusted. TestSameAsInProcess runs one call
// sequence on a backend in process and through the plugin and finds the
// same values, operations and error sentinels. plugintest's conformance
// suite passes through the proxy on its reference Memory backend, and
// still catches that backend's broken-snapshot variant there;
// examples/loopfile-plugin runs the suite on the real loopfile backend
// through the plugin as root. FuzzAnswers checks that no answer bytes
// panic the checks.
// BenchmarkCall reports the cost of a call through the plugin relative to
// the same call in process.
//
// # Hazards
//
// A killed plugin may leave a half-done change: the operation's Execute
// fails with ErrCrashed, and what the backend's own journal (safety) says
// decides whether it rolled forward. A plugin's child tools share its
// process group and die with it. The plugin runs with the host's
// privileges and environment (plus WithEnv): it is as trusted as any code
// the host runs; the checks here defend against bugs, not against
// malice. The process is not started through internal/command: go-plugin
// owns the child's lifetime and pipes.
package external
