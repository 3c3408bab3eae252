package plugintest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// The memory backend behind a registry: create a volume, then repeat the
// call, which needs nothing.
func ExampleNewMemory() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "plugintest-example-")
	defer os.RemoveAll(dir)
	m, err := plugintest.NewMemory(dir, "fast", 1<<30, plugintest.Faults{})
	if err != nil {
		panic(err)
	}
	r := plugin.NewRegistry()
	if err := r.Register(m); err != nil {
		panic(err)
	}
	b, _ := r.Lookup("memory")
	req := plugin.CreateRequest{Pool: "fast", Name: "data", SizeBytes: 3<<20 + 1}
	ops, _ := b.CreateVolume(ctx, req)
	if _, err := plugin.Apply(ctx, nil, ops); err != nil {
		panic(err)
	}
	v, _ := b.Volume(ctx, "fast/data")
	fmt.Println(v.ID, v.SizeBytes>>20, "MiB")
	again, _ := b.CreateVolume(ctx, req)
	fmt.Println(len(again), "operations for the repeat")
	// Output:
	// fast/data 4 MiB
	// 0 operations for the repeat
}
