package lvm

import (
	"strconv"
	"strings"
)

// ThinPoolUsage reads a thin-pool target's status line (kernel
// Documentation/admin-guide/device-mapper/thin-provisioning.rst):
// "<transaction id> <used metadata blocks>/<total metadata blocks> <used
// data blocks>/<total data blocks> <held metadata root> ..." and returns the
// data and metadata use in percent, as lvs's data_percent and
// metadata_percent print them. A pool in "Fail" or "Error" state has no
// counts and is an error.
func ThinPoolUsage(status string) (data, meta float64, err error) {
	f := strings.Fields(status)
	if len(f) < 3 {
		return 0, 0, malformed("thin-pool status", 0, "%q", status)
	}
	meta, err = ratio(f[1])
	if err != nil {
		return 0, 0, err
	}
	data, err = ratio(f[2])
	return data, meta, err
}

func ratio(s string) (float64, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, malformed("thin-pool status", 0, "%q is not used/total", s)
	}
	u, err1 := strconv.ParseUint(a, 10, 64)
	t, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil || t == 0 || u > t {
		return 0, malformed("thin-pool status", 0, "%q", s)
	}
	return float64(u) * 100 / float64(t), nil
}
