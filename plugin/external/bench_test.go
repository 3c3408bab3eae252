package external

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external/internal/memback"
)

// BenchmarkCall measures a call through the external plugin against the
// same call on the same backend in process, in the same loop, and reports
// x-cost-vs-inprocess (external time / in-process time; the anchor is the
// in-process call). ns/op covers both calls of one round.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	ext := open(b, nil)
	local := memback.New(memback.Fault{}, nil)
	for i := 0; i < 10; i++ {
		for _, be := range []plugin.Backend{ext, local} {
			ops, err := be.CreateVolume(ctx, plugin.CreateRequest{Pool: "mem", Name: fmt.Sprint("v", i), SizeBytes: 4096})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := plugin.Apply(ctx, nil, ops); err != nil {
				b.Fatal(err)
			}
		}
	}
	calls := map[string]func(plugin.Backend) error{
		"Volumes":      func(be plugin.Backend) error { _, err := be.Volumes(ctx, ""); return err },
		"Capabilities": func(be plugin.Backend) error { _, err := be.Capabilities(ctx); return err },
	}
	for _, name := range []string{"Volumes", "Capabilities"} {
		call := calls[name]
		b.Run(name, func(b *testing.B) {
			var tExt, tLocal time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := call(local); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := call(ext); err != nil {
					b.Fatal(err)
				}
				tExt += time.Since(t1)
				tLocal += t1.Sub(t0)
			}
			b.ReportMetric(float64(tExt)/float64(tLocal), "x-cost-vs-inprocess")
			b.ReportMetric(float64(tLocal.Nanoseconds())/float64(b.N), "inprocess-ns/op")
		})
	}
}
