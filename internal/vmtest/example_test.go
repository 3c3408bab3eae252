package vmtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/vmtest"
)

// Boot a guest with a SATA and an NVMe disk, run smartctl inside, and read
// what it printed. A test would call vmtest.RunTest(t, cfg) instead, which
// skips (or fails under EOS_STORAGE_STRICT=1) when QEMU is missing.
func ExampleRun() {
	res, err := vmtest.Run(context.Background(), vmtest.Config{
		Disks: []vmtest.Disk{
			{Kind: vmtest.SATA, Model: "EXAMPLE DISK", Serial: "EX0001"},
			{Kind: vmtest.NVMe, Serial: "EX0002"},
		},
		Modules: vmtest.DriverModules(),
		Tools:   []string{"smartctl"},
		Script:  "smartctl -j -H /dev/sda\n",
	})
	var se *vmtest.ScriptError
	switch {
	case errors.As(err, &se):
		fmt.Printf("smartctl exited %d\n", se.Code) // still has res.Stdout
	case err != nil:
		log.Fatal(err)
	}
	fmt.Printf("%s", res.Stdout)
}
