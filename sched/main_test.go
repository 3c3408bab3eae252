package sched

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test in the package runs under goleak: the scheduler starts worker
// goroutines and a context watcher per Run, and all of them must be gone
// when Run returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
