package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/vmtest"
)

// ext4 online grow by EXT4_IOC_RESIZE_FS needs CAP_SYS_RESOURCE, which the
// host sandbox drops (TESTBED.md); the guest's root has it. There `fs
// resize --apply` grows a mounted ext4 by the ioctl, the data survives, the
// kernel and the superblock agree on the new size and e2fsck is clean.
func TestVMExt4OnlineGrow(t *testing.T) {
	vmtest.Require(t)
	bin := vmtest.BuildGoTest(t, "./examples/fs")
	res := vmtest.RunTest(t, vmtest.Config{
		Disks:   []vmtest.Disk{{Kind: vmtest.Virtio, Serial: "EOSFS01", Size: 512 << 20}},
		Files:   []vmtest.File{{Src: bin, Dst: "/usr/local/bin/eos-fs"}},
		Tools:   []string{"mkfs.ext4", "e2fsck", "resize2fs"},
		Modules: append(vmtest.DriverModules(), "ext4"),
		Script: `set -e
dev=$(for d in /sys/block/vd*; do echo /dev/${d##*/}; done | head -n1)
mkfs.ext4 -q -F "$dev" 200M >&2
mkdir -p /mnt/fs
mount -t ext4 "$dev" /mnt/fs
dd if=/dev/urandom of=/mnt/fs/data bs=1M count=16 2>/dev/null
before=$(sha256sum /mnt/fs/data | cut -d' ' -f1)
grep CapEff /proc/self/status >&2
eos-fs --journal /tmp/journal resize --apply "$dev" 320M >&2
echo "### info"
eos-fs info --json "$dev"
echo "### df"
df -k /mnt/fs | tail -n1
after=$(sha256sum /mnt/fs/data | cut -d' ' -f1)
umount /mnt/fs
echo "### e2fsck"
e2fsck -fn "$dev" >&2 && echo clean
echo "### data"
[ "$before" = "$after" ] && echo same
`,
	})
	out := string(res.Stdout)
	var info struct {
		SizeBytes   int64    `json:"size_bytes"`
		Mountpoints []string `json:"mountpoints"`
	}
	if err := json.Unmarshal([]byte(section(out, "info")), &info); err != nil {
		t.Fatalf("info --json: %v\n%s\nstderr:\n%s", err, out, res.Stderr)
	}
	if info.SizeBytes != 320<<20 || len(info.Mountpoints) != 1 {
		t.Errorf("after the online grow: %+v\n%s", info, out)
	}
	for _, want := range []string{"### e2fsck\nclean\n", "### data\nsame\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("guest output lacks %q:\n%s\nstderr:\n%s", want, out, res.Stderr)
		}
	}
}

// section is the guest output after "### name" up to the next section.
func section(out, name string) string {
	_, after, ok := strings.Cut(out, "### "+name+"\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(after, "\n### ")
	return body
}
