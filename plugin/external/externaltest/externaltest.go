package externaltest

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/internal/memback"
)

const envChild = "EOS_EXTERNALTEST_PLUGIN"

const envState = "EOS_EXTERNALTEST_STATE"

// StateEnv is the environment entry that makes the plugin keep its
// volumes in the file path, so that they outlive the process: a command
// that starts a new plugin on every run sees the previous run's volumes.
func StateEnv(path string) string { return envState + "=" + path }

// Env is the environment entry that makes a test binary whose TestMain
// calls ServeIfChild act as the plugin.
func Env() string { return envChild + "=1" }

// ServeIfChild serves the in-memory backend and exits when the process
// was started as the plugin (Env is set); otherwise it returns at once.
func ServeIfChild() {
	if os.Getenv(envChild) != "1" {
		return
	}
	log := external.NewPluginLogger(os.Stderr, slog.LevelInfo)
	b := memback.New(memback.FromEnv(), log)
	if p := os.Getenv(envState); p != "" {
		if err := b.Persist(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := external.Serve(b, external.ServeLogger(log)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
