package vmtest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// One boot with a disk on every bus checks that each arrives through its
// real driver: the sysfs device path runs through the controller of that
// transport, and lsblk (an oracle that reads the same sysfs) names it so.
func TestBootTransports(t *testing.T) {
	res := RunTest(t, Config{
		Disks: []Disk{
			{Kind: SATA, Model: "EOS SATA DISK", Serial: "EOSSATA01"},
			{Kind: NVMe, Serial: "EOSNVME01"},
			{Kind: SCSI, Model: "EOS SCSI", Serial: "EOSSCSI01"},
			{Kind: USB, Serial: "EOSUSB01"},
		},
		Modules: DriverModules(),
		Tools:   []string{"lsblk"},
		Script: `for d in /sys/block/*; do
	[ -e "$d/device" ] || continue
	echo "${d##*/} $(readlink -f "$d/device") $(cat "$d/removable")"
done
echo ---
lsblk -J -d -o NAME,TRAN,MODEL,RM,SIZE
`,
	})
	sysPart, lsblkPart, ok := strings.Cut(string(res.Stdout), "---\n")
	if !ok {
		t.Fatalf("no separator in guest output:\n%s", res.Stdout)
	}
	type seen struct{ path, removable string }
	byName := map[string]seen{}
	for _, line := range strings.Split(strings.TrimSpace(sysPart), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("bad sysfs line %q", line)
		}
		byName[f[0]] = seen{f[1], f[2]}
	}
	// The kernel names SCSI-class disks in probe order, so find each by
	// its controller rather than by sdX.
	want := []struct {
		kind      Kind
		pathPart  string
		tran      string // lsblk TRAN; "" is JSON null
		model     string
		removable string
	}{
		{SATA, "/ata", "sata", "EOS SATA DISK", "0"},
		{NVMe, "/nvme/nvme", "nvme", "QEMU NVMe Ctrl", "0"},
		// lsblk knows no "virtio" transport, so it prints null; the sysfs
		// path through virtio0 is the fact that counts.
		{SCSI, "/virtio", "", "EOS SCSI", "0"},
		{USB, "/usb", "usb", "QEMU HARDDISK", "1"},
	}
	var lsblk struct {
		Blockdevices []struct {
			Name  string  `json:"name"`
			Tran  *string `json:"tran"`
			Model string  `json:"model"`
			RM    bool    `json:"rm"`
		} `json:"blockdevices"`
	}
	if err := json.Unmarshal([]byte(lsblkPart), &lsblk); err != nil {
		t.Fatalf("lsblk JSON: %v\n%s", err, lsblkPart)
	}
	if len(byName) != len(want) || len(lsblk.Blockdevices) != len(want) {
		t.Fatalf("guest shows %d disks in sysfs and %d in lsblk, want %d:\n%s", len(byName), len(lsblk.Blockdevices), len(want), res.Stdout)
	}
	for _, w := range want {
		name := ""
		for n, s := range byName {
			if strings.Contains(s.path, w.pathPart) {
				name = n
				if s.removable != w.removable {
					t.Errorf("%s %s: removable %s, want %s", w.kind, n, s.removable, w.removable)
				}
			}
		}
		if name == "" {
			t.Errorf("%s: no disk under a %s device path: %v", w.kind, w.pathPart, byName)
			continue
		}
		for _, d := range lsblk.Blockdevices {
			if d.Name != name {
				continue
			}
			tran := ""
			if d.Tran != nil {
				tran = *d.Tran
			}
			if tran != w.tran {
				t.Errorf("%s %s: lsblk TRAN %q, want %q", w.kind, name, tran, w.tran)
			}
			// Without udev lsblk prints sysfs's space-padded model.
			if strings.TrimSpace(d.Model) != w.model {
				t.Errorf("%s %s: model %q, want %q", w.kind, name, d.Model, w.model)
			}
		}
	}
}

// A guest with no disks and no modules proves the output protocol: stdout
// and stderr come back separately and byte-exact (no \r, no missing final
// newline), and the script's exit status is returned as a ScriptError.
func TestBootExitStatusAndStreams(t *testing.T) {
	a := Require(t)
	res, err := Run(t.Context(), Config{
		Assets:  &a,
		Modules: []string{},
		Script:  "echo out; printf 'no newline'; echo err >&2; exit 3\n",
	})
	var se *ScriptError
	if !errors.As(err, &se) || se.Code != 3 || !errors.Is(err, ErrScript) {
		t.Fatalf("Run error = %v, want ScriptError{3}", err)
	}
	if got := string(res.Stdout); got != "out\nno newline" {
		t.Errorf("stdout = %q", got)
	}
	if got := string(res.Stderr); got != "err\n" {
		t.Errorf("stderr = %q", got)
	}
	if res.ExitCode != 3 {
		t.Errorf("ExitCode = %d", res.ExitCode)
	}
}

// A guest whose kernel dies mid-script must come back at once (panic=-1
// and -no-reboot turn the panic into a QEMU exit), not at the timeout, and
// say the output is incomplete while keeping what was printed.
func TestBootGuestCrash(t *testing.T) {
	a := Require(t)
	res, err := Run(t.Context(), Config{
		Assets:  &a,
		Modules: []string{},
		Script:  "echo before; echo c >/proc/sysrq-trigger; echo after\n",
	})
	if !errors.Is(err, ErrNoOutput) {
		t.Fatalf("Run after a guest crash = %v, want ErrNoOutput", err)
	}
	if res == nil || !strings.Contains(string(res.Console), "Kernel panic") {
		t.Fatalf("console does not show the panic")
	}
	if got := string(res.Stdout); got != "before\n" {
		t.Errorf("partial stdout = %q, want %q", got, "before\n")
	}
}
