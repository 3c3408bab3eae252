package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// A heavy action on a saturated drive is deferred (retryable, with the
// reason); with a device_saturated override it runs and the override is
// journaled first. A drive under the limit, or one whose load cannot be
// read, does not defer.
func TestGateDefersSaturatedUnlessOverridden(t *testing.T) {
	ctx := context.Background()
	j, err := safety.OpenJournal(ctx, safety.WithStateDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	e, err := New(WithJournal(j), WithSaturation(80))
	if err != nil {
		t.Fatal(err)
	}
	drive := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(drive, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	util := 95.0
	e.utilFn = func(context.Context, string) (float64, error) { return util, nil }
	a := Action{ID: "fsys.resize:x", Kind: KindFSResize, Device: drive, Drives: []string{drive}, Heavy: true}
	err = e.gate(ctx, a)
	if !errors.Is(err, sched.ErrRetryable) || !strings.Contains(err.Error(), string(CodeDeviceSaturated)) {
		t.Fatalf("saturated: %v, want a retryable device_saturated", err)
	}
	util = 50
	if err := e.gate(ctx, a); err != nil {
		t.Fatalf("at 50%%: %v", err)
	}
	e.utilFn = func(context.Context, string) (float64, error) { return 0, errors.New("no diskstats") }
	if err := e.gate(ctx, a); err != nil {
		t.Fatalf("unknown load: %v", err)
	}
	util = 99
	e.utilFn = func(context.Context, string) (float64, error) { return util, nil }
	a.Overrides = []OverrideSpec{{Code: string(CodeDeviceSaturated), Reason: "maintenance window", By: "ops"}}
	if err := e.gate(ctx, a); err != nil {
		t.Fatalf("overridden: %v", err)
	}
	es := j.Entries()
	if len(es) != 1 || es[0].Intent.Op != OpOverride || len(es[0].Intent.Overrides) != 1 ||
		es[0].Intent.Overrides[0].Code != safety.Code(CodeDeviceSaturated) || es[0].Outcome != safety.OutcomeDone {
		t.Fatalf("journal: %+v", es)
	}
	if _, err := New(WithSaturation(0)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("saturation 0: %v", err)
	}
}
