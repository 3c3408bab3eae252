package command

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// Every tool of the table that is installed here belongs to the package the
// table names, by dpkg -S. (Debian's merged /usr means dpkg knows a file by
// either /sbin/x or /usr/sbin/x, so both are asked.)
func TestDebianPackagesDpkg(t *testing.T) {
	x := newExec(t)
	if _, err := x.LookPath("dpkg"); err != nil {
		testenv.Skip(t, "no dpkg: not a Debian system")
	}
	paths := map[string][]string{} // tool -> the names dpkg may know it by
	var all []string
	for tool := range debianPackages {
		path, err := x.LookPath(tool)
		if err != nil {
			continue
		}
		c := []string{path, strings.TrimPrefix(path, "/usr")}
		if real, err := filepath.EvalSymlinks(path); err == nil {
			c = append(c, real, strings.TrimPrefix(real, "/usr"))
		}
		paths[tool] = c
		all = append(all, c...)
	}
	if len(all) == 0 {
		t.Skip("none of the tools is installed")
	}
	// One dpkg call for all: it exits 1 when some path is unknown, and still
	// prints the owners of the rest.
	res, err := x.Run(context.Background(), Cmd{Tool: "dpkg", Args: append([]string{"-S"}, all...)})
	var xe *ExitError
	if err != nil && !errors.As(err, &xe) {
		t.Fatal(err)
	}
	owners := map[string][]string{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		names, path, ok := strings.Cut(line, ": ")
		if !ok || strings.HasPrefix(line, "diversion ") {
			continue
		}
		for _, n := range strings.Split(names, ", ") {
			owners[path] = append(owners[path], strings.SplitN(n, ":", 2)[0]) // drop :arch
		}
	}
	checked := 0
	for tool, cands := range paths {
		var got []string
		for _, p := range cands {
			got = append(got, owners[p]...)
		}
		if len(got) == 0 {
			t.Logf("%s at %s: dpkg knows no owner", tool, cands[0])
			continue
		}
		checked++
		if pkg := debianPackages[tool]; !slices.Contains(got, pkg) {
			t.Errorf("%s (%s) is in %v, the table says %s", tool, cands[0], got, pkg)
		}
	}
	t.Logf("%d installed tools checked against dpkg -S", checked)
}

func TestDebianPackage(t *testing.T) {
	for tool, want := range map[string]string{"mkfs.ext4": "e2fsprogs", "swaplabel": "util-linux", "sfdisk": "fdisk",
		"lvm": "lvm2", "zpool": "zfs-fuse", "thin_check": "thin-provisioning-tools", "no-such": ""} {
		if got := DebianPackage(tool); got != want {
			t.Errorf("%s: %q, want %q", tool, got, want)
		}
	}
}
