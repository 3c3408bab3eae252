package csi

import (
	"context"

	storage "github.com/CodeMonkeyCybersecurity/eos-storage"
	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Stack is the part of the storage Engine the driver needs: every format,
// mount, unmount, grow and backend change goes through it, so the Engine's
// preflight, journal and recovery apply to what the driver does.
type Stack interface {
	EnsureFilesystem(ctx context.Context, dev string, t fsys.Type, o fsys.MakeOptions) (*fsys.Info, error)
	EnsureMounted(ctx context.Context, dev, target string, t fsys.Type, o fsys.MountOptions) error
	EnsureUnmounted(ctx context.Context, target string) error
	GrowFilesystem(ctx context.Context, dev string) error
	RunOps(ctx context.Context, ops []sched.Operation) (*sched.Report, error)
}

var _ Stack = (*storage.Engine)(nil)
