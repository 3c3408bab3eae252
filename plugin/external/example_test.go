package external

import (
	"context"
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Open a plugin executable (here the test binary, which serves an
// in-memory backend), plan a volume in it and run the plan.
func ExampleOpen() {
	ctx := context.Background()
	b, err := Open(ctx, os.Args[0], WithEnv(envPlugin+"=1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	ops, err := b.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: "data", SizeBytes: 10000})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, op := range ops {
		fmt.Println(op.ID, op.Resources)
	}
	if _, err := plugin.Apply(ctx, nil, ops); err != nil {
		fmt.Println(err)
		return
	}
	v, err := b.Volume(ctx, "mem/data")
	fmt.Println(b.Name(), v.ID, v.SizeBytes, err)
	// Output:
	// volume.create:mem/data [exclusive memory:mem%2Fdata]
	// memory mem/data 12288 <nil>
}
