package plugintest_test

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/plugintest"
)

// The memory backend behind a registry: create a volume, then repeat the
// call, which needs nothing.
func ExampleNewMemory() {
	ctx := context.Background()
	m, err := plugintest.NewMemory(plugintest.MemoryPool("fast", 1<<30))
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
	fmt.Println("operations on repeat:", len(again))
	_, err = b.CreateVolume(ctx, plugin.CreateRequest{Pool: "fast", Name: "../x", SizeBytes: 1})
	fmt.Println(err)
	// Output:
	// fast/data 4 MiB
	// operations on repeat: 0
	// plugin: invalid name "../x": character '/' at byte 2 is not allowed (letters, digits and "_-.")
}
