package vmtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHasModule(t *testing.T) {
	dir := t.TempDir()
	a := Assets{Modules: filepath.Join(dir, "modules"), KernelVersion: "6.1.0-test"}
	if a.HasModule("sd_mod") {
		t.Fatal("module found without a modules.dep")
	}
	p := filepath.Join(a.Modules, "lib", "modules", a.KernelVersion)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	dep := "kernel/drivers/scsi/sd_mod.ko: kernel/drivers/scsi/scsi_mod.ko\nkernel/lib/crc-t10dif.ko:\n"
	if err := os.WriteFile(filepath.Join(p, "modules.dep"), []byte(dep), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"sd_mod": true, "scsi_mod": false, "crc_t10dif": true, "crc-t10dif": true, "scsi_debug": false} {
		if got := a.HasModule(name); got != want {
			t.Errorf("HasModule(%q) = %v, want %v", name, got, want)
		}
	}
}
