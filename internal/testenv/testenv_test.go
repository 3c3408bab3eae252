package testenv

import (
	"os"
	"testing"
)

func TestLoopAttachDetach(t *testing.T) {
	dev := Loop(t, 8<<20)
	if _, err := os.Stat(dev); err != nil {
		t.Fatalf("loop device %s: %v", dev, err)
	}
}
