package testenv

import (
	"os"
	"testing"
)

func TestUnescape(t *testing.T) {
	if got := unescape(`/mnt/a\040b`); got != "/mnt/a b" {
		t.Fatalf("unescape = %q", got)
	}
	if got := unescape(`/plain`); got != "/plain" {
		t.Fatalf("unescape = %q", got)
	}
}

func TestLoopAttachDetach(t *testing.T) {
	dev := Loop(t, 8<<20)
	if _, err := os.Stat(dev); err != nil {
		t.Fatalf("loop device %s: %v", dev, err)
	}
}
