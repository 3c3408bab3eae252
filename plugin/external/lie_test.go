package external

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/internal/memback"
)

// lie is a plugin that answers one method with fake, and the host call
// that meets the lie.
type lie struct {
	name   string
	method string
	fake   any
	call   func(context.Context, *Backend) error
	// remote: the lie is a backend error with a code the host does not
	// know; it must still be ErrBackend, but it is not malformed.
	remote bool
}

func (l lie) answer(method string, a any) any {
	if method == l.method {
		return l.fake
	}
	return nil
}

func callVolumes(ctx context.Context, b *Backend) error { _, err := b.Volumes(ctx, ""); return err }
func callCaps(ctx context.Context, b *Backend) error    { _, err := b.Capabilities(ctx); return err }
func callPools(ctx context.Context, b *Backend) error   { _, err := b.Pools(ctx); return err }
func callVolume(ctx context.Context, b *Backend) error  { _, err := b.Volume(ctx, "mem/a"); return err }
func callSnaps(ctx context.Context, b *Backend) error {
	_, err := b.Snapshots(ctx, "mem/a")
	return err
}
func callCreate(ctx context.Context, b *Backend) error {
	_, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: memback.PoolName, Name: "a", SizeBytes: 1 << 20})
	return err
}
func callExecute(ctx context.Context, b *Backend) error {
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: memback.PoolName, Name: "a", SizeBytes: 1 << 20})
	if err != nil {
		return err
	}
	return ops[0].Execute(ctx, nil)
}

func op1(mod func(*opDescriptor)) *opsResponse {
	d := opDescriptor{ID: "create:mem/a", Kind: "volume.create", Token: "t1",
		Resources: []wireResource{{Key: "memory:mem%2Fa", Mode: "exclusive"}}}
	mod(&d)
	return &opsResponse{Operations: []opDescriptor{d}}
}

func lies() []lie {
	return []lie{
		{name: "bad-json", method: mVolumes, fake: rawMessage(`{"volumes": [`), call: callVolumes},
		{name: "not-json", method: mVolumes, fake: rawMessage("\x00\xffgarbage"), call: callVolumes},
		{name: "wrong-type", method: mVolumes, fake: rawMessage(`{"volumes": "many"}`), call: callVolumes},
		{name: "negative-size", method: mVolumes, fake: &volumesResponse{Volumes: []plugin.Volume{{ID: "mem/a", Pool: "mem", SizeBytes: -1}}}, call: callVolumes},
		{name: "negative-used", method: mVolumes, fake: &volumesResponse{Volumes: []plugin.Volume{{ID: "mem/a", Pool: "mem", UsedBytes: -7}}}, call: callVolumes},
		{name: "empty-volume-id", method: mVolumes, fake: &volumesResponse{Volumes: []plugin.Volume{{Pool: "mem"}}}, call: callVolumes},
		{name: "unknown-technology", method: mCapabilities, fake: &capabilitiesResponse{Capabilities: []plugin.Capability{{Technology: "teleport", Mode: plugin.ModeCreate}}}, call: callCaps},
		{name: "unknown-mode", method: mCapabilities, fake: &capabilitiesResponse{Capabilities: []plugin.Capability{{Technology: plugin.TechVolume, Mode: "juggle"}}}, call: callCaps},
		{name: "negative-capacity", method: mPools, fake: &poolsResponse{Pools: []plugin.Pool{{Name: "mem", CapacityBytes: -1}}}, call: callPools},
		{name: "free-over-capacity", method: mPools, fake: &poolsResponse{Pools: []plugin.Pool{{Name: "mem", CapacityBytes: 1, FreeBytes: 2}}}, call: callPools},
		{name: "volume-other-id", method: mVolume, fake: &volumeResponse{Volume: &plugin.Volume{ID: "mem/b"}}, call: callVolume},
		{name: "volume-null", method: mVolume, fake: &volumeResponse{}, call: callVolume},
		{name: "snapshot-negative", method: mSnapshots, fake: &snapshotsResponse{Snapshots: []plugin.Snapshot{{ID: "mem/a@s", SourceID: "mem/a", Size: -5}}}, call: callSnaps},
		{name: "snapshot-other-volume", method: mSnapshots, fake: &snapshotsResponse{Snapshots: []plugin.Snapshot{{ID: "mem/b@s", SourceID: "mem/b"}}}, call: callSnaps},
		{name: "bad-key-empty-segment", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Resources[0].Key = "memory:a//b" }), call: callCreate},
		{name: "bad-key-escape", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Resources[0].Key = "memory:%zz" }), call: callCreate},
		{name: "bad-key-empty", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Resources[0].Key = "" }), call: callCreate},
		{name: "bad-resource-mode", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Resources[0].Mode = "both" }), call: callCreate},
		{name: "empty-token", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Token = "" }), call: callCreate},
		{name: "empty-op-id", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.ID = "" }), call: callCreate},
		{name: "unknown-dependency", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Dependencies = []string{"elsewhere"} }), call: callCreate},
		{name: "self-dependency", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.Dependencies = []string{d.ID} }), call: callCreate},
		{name: "negative-timeout", method: mCreateVolume, fake: op1(func(d *opDescriptor) { d.TimeoutMS = -1 }), call: callCreate},
		{name: "duplicate-op-id", method: mCreateVolume, fake: &opsResponse{Operations: []opDescriptor{
			{ID: "x", Token: "1"}, {ID: "x", Token: "2"}}}, call: callCreate},
		{name: "execute-without-end", method: mExecute, fake: &executeEvent{Progress: &progressEvent{Done: 1, Total: 1}}, call: callExecute},
		{name: "execute-bad-json", method: mExecute, fake: rawMessage(`{"done": tru`), call: callExecute},
		{name: "describe-empty-name", method: mDescribe, fake: &describeResponse{Limits: plugin.Limits{MaxNameLen: 1}}},
		{name: "describe-negative-limit", method: mDescribe, fake: &describeResponse{Name: "x", Limits: plugin.Limits{Granularity: -1}}},
		{name: "describe-bad-json", method: mDescribe, fake: rawMessage("{{")},
		{name: "describe-error", method: mDescribe, fake: &describeResponse{Name: "x", Error: &wireError{Code: codeBackend, Message: "no"}}},
		{name: "unknown-error-code", method: mVolumes, fake: &volumesResponse{Error: &wireError{Code: "martian", Message: "?"}}, call: callVolumes, remote: true},
	}
}

func lieByName(name string) (lie, bool) {
	for _, l := range lies() {
		if l.name == name {
			return l, true
		}
	}
	return lie{}, false
}

// A plugin that answers nonsense gets a typed error (ErrBackend, and
// ErrMalformed for a protocol violation) for that answer, never a panic
// and never the nonsense; the process is not restarted for it.
func TestLies(t *testing.T) {
	ctx := context.Background()
	for _, l := range lies() {
		if l.call == nil {
			continue // TestLyingDescribe
		}
		t.Run(l.name, func(t *testing.T) {
			b := open(t, []string{envLie + "=" + l.name})
			err := l.call(ctx, b)
			if err == nil {
				t.Fatal("no error for a lying answer")
			}
			if !errors.Is(err, plugin.ErrBackend) {
				t.Errorf("error %v is not plugin.ErrBackend", err)
			}
			if l.remote {
				var re *RemoteError
				if !errors.As(err, &re) || re.Code != "martian" {
					t.Errorf("error %v is not the RemoteError with code martian", err)
				}
			} else {
				var pe *PluginError
				if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
					t.Errorf("error %v is not a *PluginError wrapping ErrMalformed", err)
				}
			}
			// The plugin is still the one process, and still answers.
			if _, err := b.Pools(ctx); err != nil && l.method != mPools {
				t.Errorf("Pools after the lie: %v", err)
			}
			if b.starts != 1 {
				t.Errorf("plugin started %d times, want 1", b.starts)
			}
		})
	}
}

// A plugin that lies in its first answer (Describe, at Open) is refused
// at Open with ErrMalformed, and its process is gone.
func TestLyingDescribe(t *testing.T) {
	for _, l := range lies() {
		if l.method != mDescribe {
			continue
		}
		t.Run(l.name, func(t *testing.T) {
			_, err := Open(context.Background(), os.Args[0], WithEnv(envPlugin+"=1", noRaceExitSleep, envLie+"="+l.name))
			var pe *PluginError
			if !errors.As(err, &pe) || pe.Op != mDescribe || !errors.Is(err, ErrMalformed) || !errors.Is(err, plugin.ErrBackend) {
				t.Fatalf("Open: %v", err)
			}
		})
	}
}
