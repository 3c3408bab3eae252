// Command nomad-volume is a Nomad (1.10+) dynamic host volume plugin: the
// executable Nomad runs as `nomad-volume fingerprint|create|delete` with
// the DHV_* environment.
//
//	fingerprint  prints {"version":"..."}
//	create       makes a backend volume, a filesystem on it and mounts it at
//	             $DHV_VOLUMES_DIR/$DHV_VOLUME_ID; prints {"path":...,"bytes":...}
//	delete       unmounts and removes exactly what create made; idempotent
//
// Parameters (DHV_PARAMETERS, a JSON object of strings): "backend"
// ("loopfile", the default), "dir" (the loopfile pool, default
// /var/lib/eos-storage/nomad/pool), "state" (journal and locks, default
// /var/lib/eos-storage/nomad/state), "fs_type" (ext4 default, xfs, btrfs).
// Unknown parameters are errors.
//
// Only the volume ID (uuid-shaped, validated) names anything on the host;
// the volume name is never used in a path. Runs for one ID are serialised
// by a flock per ID, and all runs on a node share the journal under a
// second flock, so concurrent runs are safe. A failed create removes what
// that run made; a create killed midway is finished by the next create or
// removed by delete. Errors print {"error":"..."} on stdout (Nomad shows
// it) and exit 1; usage errors exit 2.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/csi"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
)

const version = "0.1.0"

// testDieEnv, when "after-volume" or "after-mkfs", makes create exit
// abruptly at that point: the tests' stand-in for a kill mid-create.
const testDieEnv = "EOS_NOMAD_VOLUME_TEST_DIE"

const defaultSize = 1 << 30

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type result struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

func fail(out io.Writer, code int, err error) int {
	json.NewEncoder(out).Encode(map[string]string{"error": err.Error()})
	return code
}

func run(ctx context.Context, args []string, out, log io.Writer) int {
	op := os.Getenv("DHV_OPERATION")
	if len(args) > 0 {
		op = args[0]
	}
	switch op {
	case "fingerprint":
		json.NewEncoder(out).Encode(map[string]string{"version": version})
		return 0
	case "create", "delete":
	default:
		return fail(out, 2, fmt.Errorf("usage: nomad-volume fingerprint|create|delete (got %q)", op))
	}
	req, err := parseEnv()
	if err != nil {
		return fail(out, 1, err)
	}
	if op == "create" {
		r, err := create(ctx, req, log)
		if err != nil {
			return fail(out, 1, err)
		}
		json.NewEncoder(out).Encode(r)
		return 0
	}
	if err := remove(ctx, req, log); err != nil {
		return fail(out, 1, err)
	}
	return 0
}

type request struct {
	id, target   string
	min, max     int64
	backend, dir string
	state        string
	fsType       fsys.Type
	volumeName   string
}

func parseEnv() (*request, error) {
	id := os.Getenv("DHV_VOLUME_ID")
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return nil, fmt.Errorf("DHV_VOLUME_ID %q is not a canonical UUID", id)
	}
	vd := os.Getenv("DHV_VOLUMES_DIR")
	if vd == "" || !filepath.IsAbs(vd) || filepath.Clean(vd) != vd {
		return nil, fmt.Errorf("DHV_VOLUMES_DIR %q is not a clean absolute path", vd)
	}
	r := &request{id: id, target: filepath.Join(vd, id), backend: "loopfile",
		dir: "/var/lib/eos-storage/nomad/pool", state: "/var/lib/eos-storage/nomad/state", fsType: fsys.Ext4,
		volumeName: "nomad-" + id}
	for _, kv := range []struct {
		env string
		dst *int64
	}{{"DHV_CAPACITY_MIN_BYTES", &r.min}, {"DHV_CAPACITY_MAX_BYTES", &r.max}} {
		if s := os.Getenv(kv.env); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%s %q is not a byte count", kv.env, s)
			}
			*kv.dst = n
		}
	}
	if r.max > 0 && r.min > r.max {
		return nil, fmt.Errorf("capacity min %d > max %d", r.min, r.max)
	}
	if p := os.Getenv("DHV_PARAMETERS"); p != "" && p != "null" {
		var params map[string]string
		if err := json.Unmarshal([]byte(p), &params); err != nil {
			return nil, fmt.Errorf("DHV_PARAMETERS: %v", err)
		}
		for k, v := range params {
			switch k {
			case "backend":
				if v != "loopfile" {
					return nil, fmt.Errorf("parameter backend %q: only \"loopfile\" is built in", v)
				}
			case "dir", "state":
				if !filepath.IsAbs(v) {
					return nil, fmt.Errorf("parameter %s %q is not absolute", k, v)
				}
				if k == "dir" {
					r.dir = filepath.Clean(v)
				} else {
					r.state = filepath.Clean(v)
				}
			case "fs_type":
				t := fsys.Type(v)
				if t != fsys.Ext4 && t != fsys.XFS && t != fsys.Btrfs {
					return nil, fmt.Errorf("parameter fs_type %q: ext4, xfs or btrfs", v)
				}
				r.fsType = t
			default:
				return nil, fmt.Errorf("unknown parameter %q", k)
			}
		}
	}
	return r, nil
}

// flock takes an exclusive blocking lock on path.
func flock(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- unix.Flock(int(f.Fd()), unix.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, os.NewSyscallError("flock", err)
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		f.Close()
		return nil, ctx.Err()
	}
}

type env struct {
	b      *loopfile.Backend
	st     *csi.EngineStack
	unlock func()
}

func open(ctx context.Context, r *request, log io.Writer) (*env, error) {
	unlockID, err := flock(ctx, filepath.Join(r.state, "locks", r.id+".lock"))
	if err != nil {
		return nil, err
	}
	unlockJ, err := flock(ctx, filepath.Join(r.state, "journal.lock"))
	if err != nil {
		unlockID()
		return nil, err
	}
	e := &env{unlock: func() { unlockJ(); unlockID() }}
	if e.b, err = loopfile.New(r.dir); err != nil {
		e.unlock()
		return nil, err
	}
	if e.st, err = csi.OpenEngine(ctx, filepath.Join(r.state, "journal"), nil); err != nil {
		e.unlock()
		return nil, err
	}
	return e, nil
}

func (e *env) close() { e.st.Close(); e.unlock() }

func volumeID(b *loopfile.Backend, name string) (string, error) {
	ps, err := b.Pools(context.Background())
	if err != nil || len(ps) == 0 {
		return "", fmt.Errorf("loopfile pool: %v", err)
	}
	return ps[0].Name + "/" + name, nil
}

func create(ctx context.Context, r *request, log io.Writer) (res *result, err error) {
	e, err := open(ctx, r, log)
	if err != nil {
		return nil, err
	}
	defer e.close()
	id, err := volumeID(e.b, r.volumeName)
	if err != nil {
		return nil, err
	}
	size := r.min
	if size == 0 {
		size = defaultSize
		if r.max > 0 && r.max < size {
			size = r.max
		}
	}
	g := e.b.Limits().Granularity
	size = (size + g - 1) / g * g
	if r.max > 0 && size > r.max {
		return nil, fmt.Errorf("no size of granularity %d fits in [%d, %d]", g, r.min, r.max)
	}
	v, verr := e.b.Volume(ctx, id)
	made := false
	defer func() {
		if err != nil && made {
			// This run made the volume: take it all back (Nomad will not).
			e.st.EnsureUnmounted(context.WithoutCancel(ctx), r.target)
			os.Remove(r.target)
			if ops, derr := e.b.DeleteVolume(context.WithoutCancel(ctx), id); derr == nil {
				e.st.RunOps(context.WithoutCancel(ctx), ops)
			}
		}
	}()
	switch {
	case verr == nil:
		// A repeat, or a create killed midway: finish it. The size a
		// previous run chose stands if it is in range.
		if v.SizeBytes < r.min || (r.max > 0 && v.SizeBytes > r.max) {
			return nil, fmt.Errorf("volume %s exists with %d bytes, outside [%d, %d]", r.id, v.SizeBytes, r.min, r.max)
		}
		size = v.SizeBytes
		if _, err := e.b.Attach(ctx, id); err != nil {
			return nil, err
		}
	case errors.Is(verr, plugin.ErrNotFound):
		ops, err := e.b.CreateVolume(ctx, plugin.CreateRequest{Name: r.volumeName, SizeBytes: size, Tags: []string{"nomad.id=" + r.id}})
		if err != nil {
			return nil, err
		}
		if _, err := e.st.RunOps(ctx, ops); err != nil {
			return nil, err
		}
		made = true
	default:
		return nil, verr
	}
	if os.Getenv(testDieEnv) == "after-volume" {
		os.Exit(137)
	}
	v, err = e.b.Volume(ctx, id)
	if err != nil {
		return nil, err
	}
	if v.Device == "" {
		return nil, fmt.Errorf("volume %s has no device", id)
	}
	if _, err := e.st.EnsureFilesystem(ctx, v.Device, r.fsType, fsys.MakeOptions{NoDiscard: true}); err != nil {
		return nil, err
	}
	if os.Getenv(testDieEnv) == "after-mkfs" {
		os.Exit(137)
	}
	if err := os.MkdirAll(r.target, 0o755); err != nil {
		return nil, err
	}
	mounted, err := isMountpoint(r.target)
	if err != nil {
		return nil, err
	}
	if !mounted {
		if err := e.st.EnsureMounted(ctx, v.Device, r.target, r.fsType, fsys.MountOptions{}); err != nil {
			return nil, err
		}
	}
	return &result{Path: r.target, Bytes: size}, nil
}

func remove(ctx context.Context, r *request, log io.Writer) error {
	e, err := open(ctx, r, log)
	if err != nil {
		return err
	}
	defer e.close()
	for {
		m, err := isMountpoint(r.target)
		if err != nil {
			return err
		}
		if !m {
			break
		}
		if err := e.st.EnsureUnmounted(ctx, r.target); err != nil {
			return err
		}
	}
	if err := os.Remove(r.target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("target %s: %w", r.target, err)
	}
	id, err := volumeID(e.b, r.volumeName)
	if err != nil {
		return err
	}
	ops, err := e.b.DeleteVolume(ctx, id)
	if err != nil {
		return err
	}
	_, err = e.st.RunOps(ctx, ops)
	return err
}

// isMountpoint compares the directory's device with its parent's, and the
// inode with the parent's (a bind of the same fs): enough for a directory
// only this plugin mounts on.
func isMountpoint(dir string) (bool, error) {
	var st, pst unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return false, nil
		}
		return false, os.NewSyscallError("stat", err)
	}
	if err := unix.Lstat(filepath.Dir(dir), &pst); err != nil {
		return false, os.NewSyscallError("stat", err)
	}
	return st.Dev != pst.Dev || st.Ino == pst.Ino, nil
}
