package main

import (
	"os"
	"strconv"
	"syscall"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
)

// crashEnv makes the command SIGKILL itself right after the given number of
// table writes have been synced. It exists for the crash tests, which kill
// the real binary at every write and then run recover.
const crashEnv = "EOS_PARTITION_KILL_AFTER_WRITES"

// crashHook returns the option that installs the kill switch, if asked for.
func crashHook() []partition.Option {
	v := os.Getenv(crashEnv)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return nil
	}
	return []partition.Option{partition.WithProgress(func(done int, _ partition.Step) {
		if done >= n {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	})}
}
