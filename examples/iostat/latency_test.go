package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/bpflat"
)

func TestParseLatencyFlag(t *testing.T) {
	c, err := parseArgs([]string{"-c", "--latency", "1", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.latency || !c.disk || c.count != 2 {
		t.Fatalf("%+v", c)
	}
}

// iostat --latency on a loop device under fio: every interval's row has
// the six quantile columns, p50 <= p95 <= p99, in text and in JSON; a
// partition, whose requests count for its disk, shows "-" (no keys in
// JSON).
func TestLatencyColumns(t *testing.T) {
	testenv.RequireRoot(t)
	fioPath := testenv.RequireTool(t, "fio")[0]
	if err := bpflat.Supported(); errors.Is(err, bpflat.ErrNotSupported) {
		testenv.Skip(t, "no eBPF latency collector here: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join("/dev/shm", fmt.Sprintf("eos-iostat-latency-%d.img", os.Getpid()))
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		img = filepath.Join(t.TempDir(), "disk.img")
	}
	t.Cleanup(func() { os.Remove(img) })
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	dev := testenv.LoopFile(t, img)
	testenv.RequireTool(t, "sfdisk", "partx")
	disk := testenv.Loop(t, 8<<20)
	sfdisk := exec.Command("sfdisk", "-q", disk)
	sfdisk.Stdin = strings.NewReader(",,L\n")
	if out, err := sfdisk.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	testenv.Run(t, "partx", "-a", disk) // the host kernel parses no tables (TESTBED.md)
	name, idleName := filepath.Base(dev), filepath.Base(disk)+"p1"

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fio := exec.CommandContext(ctx, fioPath, "--name=lat", "--filename="+dev, "--direct=1", "--rw=randrw", "--bs=4k",
		"--ioengine=libaio", "--iodepth=4", "--time_based", "--runtime=8", "--size=32m", "--output=/dev/null", "--thread")
	if err := fio.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { fio.Process.Kill(); fio.Wait() }()
	time.Sleep(300 * time.Millisecond)

	var out, errb bytes.Buffer
	if code := run(ctx, []string{"-d", "-x", "-y", "--latency", name, idleName, "1", "2"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	rows := 0
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "Device":
			if !strings.HasSuffix(line, latencyHeader) {
				t.Fatalf("header %q", line)
			}
		case len(f) > 0 && f[0] == name:
			rows++
			q := f[len(f)-6:]
			var v [6]float64
			for i := range q {
				x, err := strconv.ParseFloat(q[i], 64)
				if err != nil {
					t.Fatalf("row %q: %v", line, err)
				}
				v[i] = x
			}
			if v[0] <= 0 || v[0] > v[1] || v[1] > v[2] || v[3] <= 0 || v[3] > v[4] || v[4] > v[5] {
				t.Errorf("quantiles out of order or zero: %q", line)
			}
		case len(f) > 0 && f[0] == idleName:
			if strings.Join(f[len(f)-6:], " ") != "- - - - - -" {
				t.Errorf("a device with no request since the start: %q", line)
			}
		}
	}
	if rows != 2 {
		t.Fatalf("%d rows for %s:\n%s", rows, name, out.String())
	}

	out.Reset()
	if code := run(ctx, []string{"-d", "-y", "-o", "JSON", "--latency", name, idleName, "1", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var doc sysstatDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out.String())
	}
	for _, d := range doc.Sysstat.Hosts[0].Statistics[0].Disk {
		_, has := d["r_p99"]
		switch d["disk_device"] {
		case name:
			if v, _ := d["r_p99"].(float64); !has || v <= 0 {
				t.Errorf("%s: r_p99 %v", name, d["r_p99"])
			}
		case idleName:
			if has {
				t.Errorf("%s: latency keys for a device never seen: %v", idleName, d)
			}
		}
	}
}
