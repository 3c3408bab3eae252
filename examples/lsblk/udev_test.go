package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// asMainEnv makes the test binary run as our lsblk (TestMain), so a test can
// run it where it cannot call run: in another mount namespace.
const asMainEnv = "EOS_STORAGE_LSBLK_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// udevScript builds a udev database for the given devices with udevadm's
// own rules, in a mount namespace of its own (unshare -m), and runs lsblk
// and our lsblk there with the same arguments. udevadm test sets modes and
// makes /dev/disk links as it would for real, so the namespace gets a /dev
// of its own holding copies of the device nodes (and /dev/null), and a /run
// of its own for the database; the host sees none of it. Disks are recorded
// before their partitions, which import their disk's ID_* properties
// (60-persistent-storage.rules).
const udevScript = `set -e
stage=$1; self=$2; shift 2
mount --make-rprivate /
for n in $NODES /dev/null; do cp -a "$n" "$stage/"; done
mount -t tmpfs tmpfs /dev
cp -a "$stage"/. /dev/
mount -t tmpfs tmpfs /run
mkdir -p /run/udev/data
for n in $NAMES; do
	mm=$(cat /sys/class/block/$n/dev)
	{ echo I:1; udevadm test /sys/class/block/$n 2>/dev/null | sed -n 's/^\([A-Za-z0-9_]*=.*\)$/E:\1/p'; } >/run/udev/data/b$mm
done
echo '### lsblk'
LC_ALL=C lsblk "$@"
echo '### ours'
LC_ALL=C EOS_STORAGE_LSBLK_AS_MAIN=1 "$self" "$@"
`

// lsblkWithUdev runs lsblk args and our lsblk args where a udev database
// for the disks (and their partitions) exists, and returns both outputs.
func lsblkWithUdev(t *testing.T, disks []string, args ...string) (theirs, ours tree) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "unshare", "udevadm", "lsblk", "cp", "mount", "sed")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var nodes, names []string
	for _, d := range disks {
		base := filepath.Base(d)
		nodes = append(nodes, d)
		names = append(names, base)
		parts, _ := filepath.Glob("/sys/block/" + base + "/" + base + "p*")
		for _, p := range parts {
			nodes = append(nodes, "/dev/"+filepath.Base(p))
			names = append(names, filepath.Base(p))
		}
	}
	stage := t.TempDir()
	unshare := testenv.RequireTool(t, "unshare")[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, append([]string{"-m", "sh", "-c", udevScript, "sh", stage, self}, args...)...)
	cmd.Env = append(os.Environ(), "NODES="+strings.Join(nodes, " "), "NAMES="+strings.Join(names, " "))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("udev namespace: %v: %s", err, errb.String())
	}
	return decode(t, "lsblk with udev", section(out.Bytes(), "lsblk")), decode(t, "ours with udev", section(out.Bytes(), "ours"))
}
