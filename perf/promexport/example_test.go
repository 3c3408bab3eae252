package promexport_test

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/promexport"
)

// Wire a Monitor to Prometheus: the Exporter is the Monitor's sink and a
// collector on the registry that /metrics serves.
func Example() {
	exp, err := promexport.New()
	if err != nil {
		panic(err)
	}
	mon, err := perf.NewMonitor(perf.WithSinks(exp))
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp)
	if err := mon.Start(context.Background()); err != nil {
		panic(err)
	}
	defer mon.Stop()
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// http.ListenAndServe("127.0.0.1:9477", nil)
}
