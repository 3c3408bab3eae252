package smart_test

import (
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/smart"
)

// Decode a saved capture and judge it, as a monitoring job would do with a
// reading it took earlier.
func ExampleParseAtasmartBlob() {
	b, err := os.ReadFile("testdata/WDC_WD20EARS-00MVWB0.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := smart.ParseAtasmartBlob(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	a, _ := r.ATA.Attribute(5)
	fmt.Printf("%s: %s, %s = %s (%s)\n", r.ATA.Identity.Model, r.Status(), a.Name, a.RawString, a.WhenFailed)
	h := smart.Health(r, nil)
	fmt.Println("verdict:", h.Verdict)
	for _, x := range h.Reasons {
		fmt.Println(" ", x.Code)
	}
	// Output:
	// WDC WD20EARS-00MVWB0: FAILED, Reallocated_Sector_Ct = 655 (now)
	// verdict: failing
	//   smart-status-failed
	//   attribute-failing-now
	//   pending-sectors
	//   offline-uncorrectable-sectors
}
