package vmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// parseLDD returns the absolute library paths (and the dynamic loader) that
// ldd printed. A library ldd could not find is an error: a guest without it
// would fail at exec time with a far less useful message. Lines ldd prints for
// the vDSO and "statically linked" carry no path and are skipped.
func parseLDD(out []byte) ([]string, error) {
	var libs []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var p string
		if name, rest, ok := strings.Cut(line, "=>"); ok {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "not found") {
				return nil, fmt.Errorf("%w: %s", ErrLibraryNotFound, strings.TrimSpace(name))
			}
			p = firstField(rest)
		} else {
			p = firstField(line)
		}
		if !strings.HasPrefix(p, "/") || seen[p] {
			continue
		}
		seen[p] = true
		libs = append(libs, p)
	}
	return libs, nil
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// sharedLibs runs ldd on a host binary. A static binary has none; ldd says
// "not a dynamic executable" and exits 1, which is not an error here.
func sharedLibs(ctx context.Context, bin string) ([]string, error) {
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		return nil, fmt.Errorf("vmtest: ldd: %w", err)
	}
	cmd := exec.CommandContext(ctx, ldd, bin)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && strings.Contains(string(out)+stderr.String(), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("vmtest: ldd %s: %w: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	return parseLDD(out)
}
