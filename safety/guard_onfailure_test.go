package safety

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OnFailure is the first level of the undo of a failed Execute: when it
// succeeds the mutation ends compensated and the before-images are not
// touched; when it fails, they are restored.
func TestGuardOnFailure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		onFailErr error
		want      Outcome
	}{
		{"consistent", nil, OutcomeCompensated},
		{"not consistent", errors.New("check found errors"), OutcomeRolledBack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := openJ(t, t.TempDir())
			p, _, old := target(t, 32768)
			var cause error
			op, err := Guard(j, Guarded{Op: sched.Operation{ID: "x", Kind: "test.write"}, Target: p,
				Intent: Intent{Ranges: testRanges},
				Execute: func(ctx context.Context, m *Mutation, _ *DeviceLock, _ sched.Progress) error {
					writeAll(p, 2)
					return errors.New("tool failed")
				},
				OnFailure: func(ctx context.Context, l *DeviceLock, c error) error {
					cause = c
					if tc.onFailErr == nil {
						// The operation's own means put the old bytes back.
						return j.Restore(ctx, p, j.Entries()[0].Images)
					}
					return tc.onFailErr
				}})
			if err != nil {
				t.Fatal(err)
			}
			if err := op.Execute(context.Background(), nil); err == nil || err.Error() != "tool failed" {
				t.Fatalf("Execute: %v", err)
			}
			if cause == nil || cause.Error() != "tool failed" {
				t.Fatalf("OnFailure got cause %v", cause)
			}
			es := j.Entries()
			if len(es) != 1 || es[0].Outcome != tc.want {
				t.Fatalf("journal %+v, want outcome %s", es, tc.want)
			}
			if !bytes.Equal(mustRead(t, p), old) {
				t.Fatal("target not back to its old bytes")
			}
		})
	}
}

func TestTargetKeyOfFile(t *testing.T) {
	p, _, _ := target(t, 4096)
	k, err := TargetKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if k.String() == "" || k != sched.Root("file", p) {
		t.Fatalf("key %v", k)
	}
}
