package fsys

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"golang.org/x/sys/unix"
)

// swapActive reports whether dev is an active swap area, by device number
// against /proc/swaps (a kernel without swap has no such file: no swap).
func (m *Manager) swapActive(dev string) (bool, error) {
	want, err := rdevOf(dev)
	if err != nil {
		return false, nil // an image file is never active swap
	}
	data, err := os.ReadFile(m.root.Proc("swaps"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fsys: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := bytes.Fields(sc.Bytes())
		if len(f) < 2 || string(f[1]) != "partition" {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(mountinfo.Unescape(string(f[0])), &st) == nil && st.Rdev == want {
			return true, nil
		}
	}
	return false, sc.Err()
}
