package csi

import "context"

// The tests run on the storage Engine, as the binaries do.
func newTestStack(stateDir string) (*EngineStack, error) {
	return OpenEngine(context.Background(), stateDir, nil)
}
