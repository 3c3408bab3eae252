package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// startExporter runs the exporter in-process on a free loopback port.
func startExporter(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- run(ctx, append([]string{"--listen", "127.0.0.1:0", "--interval", "200ms"}, args...), &logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("exporter: %v\n%s", err, logs.String())
		}
	})
	select {
	case a := <-addrc:
		return a
	case err := <-done:
		t.Fatalf("exporter did not start: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("exporter did not start")
	}
	return ""
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

func TestMetricsEndpoint(t *testing.T) {
	// Registered first, so it runs after the exporter's cleanup stopped it.
	t.Cleanup(func() { goleak.VerifyNone(t) })
	addr := startExporter(t)
	var body []byte
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		body = get(t, "http://"+addr+"/metrics")
		if bytes.Contains(body, []byte("eos_storage_disk_iops{")) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := []string{"node_disk_reads_completed_total{device=", "node_disk_read_bytes_total{", "eos_storage_disk_iops{", "# TYPE node_disk_io_now gauge"}
	if hasBlockMount(t) {
		want = append(want, "node_filesystem_size_bytes{device=")
	}
	for _, want := range want {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := run(context.Background(), []string{"--interval", "10ms"}, io.Discard, nil); err == nil {
		t.Error("accepted a 10ms interval")
	}
	if err := run(context.Background(), []string{"--device-exclude", "("}, io.Discard, nil); err == nil {
		t.Error("accepted a bad regexp")
	}
	// node_exporter's default exclusion: no loop devices.
	if bytes.Contains(body, []byte(`device="loop0"`)) {
		t.Error("loop0 exported despite the default exclusion")
	}
}

// hasBlockMount reports whether a block-device filesystem is mounted (the
// filesystem collector then has something to export).
func hasBlockMount(t *testing.T) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 2 && !strings.HasPrefix(f[2], "0:") {
			return true
		}
	}
	return false
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A real Prometheus server scrapes the exporter on loopback and its query
// API returns our series.
func TestPrometheusScrapes(t *testing.T) {
	prom := testenv.RequireTool(t, "prometheus")[0]
	addr := startExporter(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: eos
    static_configs:
      - targets: ['%s']
`, addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	web := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var logs bytes.Buffer
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	query := func(q string) []any {
		resp, err := client.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []any `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" {
			return nil
		}
		return r.Data.Result
	}
	want := []string{`node_disk_reads_completed_total{job="eos"}`, `eos_storage_disk_iops{job="eos"}`, `up{job="eos"} == 1`}
	deadline := time.Now().Add(90 * time.Second)
	for _, q := range want {
		for len(query(q)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus never returned %s\nprometheus log:\n%s", q, logs.String())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	res := query(`node_disk_reads_completed_total{job="eos"}`)
	b, _ := json.Marshal(res)
	if !strings.Contains(string(b), `"device"`) {
		t.Fatalf("series without a device label: %s", b)
	}
	t.Logf("Prometheus has %d node_disk_reads_completed_total series", len(res))
}
