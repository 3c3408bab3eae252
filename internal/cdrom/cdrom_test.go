package cdrom

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestGetCapabilityMatchesHeader checks the number against the kernel
// header where one is installed.
func TestGetCapabilityMatchesHeader(t *testing.T) {
	h, err := os.ReadFile("/usr/include/linux/cdrom.h")
	if err != nil {
		t.Skipf("no kernel headers: %v", err)
	}
	m := regexp.MustCompile(`#define\s+CDROM_GET_CAPABILITY\s+(0x[0-9a-fA-F]+)`).FindSubmatch(h)
	if m == nil {
		t.Fatal("CDROM_GET_CAPABILITY not in the header")
	}
	v, err := strconv.ParseUint(string(m[1]), 0, 32)
	if err != nil || v != GetCapability {
		t.Fatalf("header says %s, we use %#x", m[1], GetCapability)
	}
}

func TestIsOpticalOnAFile(t *testing.T) {
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsOptical(int(f.Fd())) {
		t.Fatal("a regular file answered CDROM_GET_CAPABILITY")
	}
}
