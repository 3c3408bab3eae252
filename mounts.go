package storage

import (
	"bufio"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/mountinfo"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// mountedAt returns the source and type of the topmost mount at target.
func (e *Engine) mountedAt(target string) (src, fstype string, ok bool, err error) {
	r, err := sysfs.New(e.root)
	if err != nil {
		return "", "", false, err
	}
	f, err := os.Open(r.Proc("self", "mountinfo"))
	if err != nil {
		return "", "", false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m, perr := mountinfo.ParseLine(sc.Text())
		if perr != nil {
			continue
		}
		if m.MountPoint == target {
			src, fstype, ok = m.Source, m.FSType, true
		}
	}
	return src, fstype, ok, sc.Err()
}
