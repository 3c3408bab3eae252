package promexport

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

var deviceLabel = regexp.MustCompile(`device="([^"]*)"`)

// scrapeNodeDisk reads node_disk_* samples from a node_exporter page,
// keyed by metric name and device.
func scrapeNodeDisk(t *testing.T, url string) map[string]map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, l := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(l, "node_disk_") {
			continue
		}
		name := l[:strings.IndexAny(l, "{ ")]
		m := deviceLabel.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("node_exporter line %q: %v", l, err)
		}
		if out[name] == nil {
			out[name] = map[string]float64{}
		}
		out[name][m[1]] = v
	}
	return out
}

// Differential against node_exporter's diskstats collector on this machine:
// the same metric names, types and devices, and every counter we export lies
// between two node_exporter scrapes taken just before and just after our
// sample (counters only grow, so that is equality up to concurrent I/O).
func TestMatchesNodeExporter(t *testing.T) {
	bin := testenv.RequireTool(t, "prometheus-node-exporter")[0]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--collector.disable-defaults", "--collector.diskstats",
		"--collector.diskstats.device-exclude=^$", "--web.listen-address="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	url := "http://" + addr + "/metrics"
	for i := 0; ; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("node_exporter did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	c, err := perf.NewDiskstatsCollector("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e, _ := New()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)

	before := scrapeNodeDisk(t, url)
	var s perf.Snapshot
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	e.Write(context.Background(), &s)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	after := scrapeNodeDisk(t, url)

	ours := map[string]bool{}
	ourDevs := map[string]bool{}
	compared := 0
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "node_disk_") {
			continue
		}
		ours[name] = true
		if before[name] == nil {
			t.Errorf("%s: node_exporter has no such metric", name)
			continue
		}
		for _, m := range mf.GetMetric() {
			dev := m.GetLabel()[0].GetValue()
			ourDevs[dev] = true
			lo, ok1 := before[name][dev]
			hi, ok2 := after[name][dev]
			if !ok1 || !ok2 {
				continue // a device other tests attach and detach meanwhile
			}
			if mf.GetType() != dto.MetricType_COUNTER {
				continue // io_now is a gauge that moves freely
			}
			v := m.GetCounter().GetValue()
			eps := 1e-9 * math.Max(1, math.Abs(hi))
			if v < lo-eps || v > hi+eps {
				t.Errorf("%s{device=%q}: ours %v, node_exporter %v then %v", name, dev, v, lo, hi)
			}
			compared++
		}
	}
	for name := range before {
		if name != "node_disk_info" && !ours[name] {
			t.Errorf("node_exporter exports %s, we do not", name)
		}
	}
	for dev := range before["node_disk_reads_completed_total"] {
		if _, still := after["node_disk_reads_completed_total"][dev]; still && !ourDevs[dev] {
			t.Errorf("node_exporter has device %s, we do not", dev)
		}
	}
	if compared == 0 {
		t.Fatal("no series compared")
	}
	t.Logf("%d counter series agree with node_exporter", compared)
}
