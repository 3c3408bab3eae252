package main

import (
	"os"
	"strings"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
)

// crashEnv makes the command SIGKILL itself right after the named step of
// an operation is journaled ("fsys.resize:checked"). It exists for the
// crash tests, which kill the real binary at every step.
const crashEnv = "EOS_FS_KILL_AT_STEP"

func crashHook() fsys.Option {
	v := os.Getenv(crashEnv)
	kind, step, ok := strings.Cut(v, ":")
	if !ok {
		return nil
	}
	return fsys.WithStepHook(func(k, s string) {
		if k == kind && s == step {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	})
}
