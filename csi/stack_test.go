package csi

import "github.com/CodeMonkeyCybersecurity/eos-storage/csi/fsstack"

// The tests run on fsstack (fsys + sched, journaled) until the Engine lands.
var _ Stack = (*fsstack.Stack)(nil)

func newTestStack(stateDir string) (*fsstack.Stack, error) { return fsstack.New(stateDir) }
