package csi

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func dial(t testing.TB, sock string) (csipb.ControllerClient, csipb.NodeClient) {
	t.Helper()
	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return csipb.NewControllerClient(cc), csipb.NewNodeClient(cc)
}

func mountCap() *csipb.VolumeCapability {
	return &csipb.VolumeCapability{
		AccessType: &csipb.VolumeCapability_Mount{Mount: &csipb.VolumeCapability_MountVolume{}},
		AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}
}

func blockCap() *csipb.VolumeCapability {
	return &csipb.VolumeCapability{
		AccessType: &csipb.VolumeCapability_Block{Block: &csipb.VolumeCapability_BlockVolume{}},
		AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}
}

func countMounts(t testing.TB, target string) int {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == target {
			n++
		}
	}
	return n
}

// TestRestart stops and starts the driver between every call: state comes
// from mountinfo and the backend, so nothing is published twice and no
// volume is lost. Block volumes too.
func TestRestart(t *testing.T) {
	td := newTestDriver(t)
	ctx := context.Background()
	base := t.TempDir()
	testenv.UnmountUnder(t, base) // a failed run leaves its publications
	restart := func() { td.stop(); td.start(t) }
	for _, tc := range []struct {
		name string
		cap  *csipb.VolumeCapability
	}{{"mount", mountCap()}, {"block", blockCap()}} {
		t.Run(tc.name, func(t *testing.T) {
			ctl, node := dial(t, td.sock)
			cv, err := ctl.CreateVolume(ctx, &csipb.CreateVolumeRequest{Name: "restart-" + tc.name, VolumeCapabilities: []*csipb.VolumeCapability{tc.cap}})
			if err != nil {
				t.Fatal(err)
			}
			id := cv.GetVolume().GetVolumeId()
			target := filepath.Join(base, tc.name)
			pub := &csipb.NodePublishVolumeRequest{VolumeId: id, TargetPath: target, VolumeCapability: tc.cap}
			for i := 0; i < 3; i++ {
				restart()
				ctl, node = dial(t, td.sock)
				if _, err := node.NodePublishVolume(ctx, pub); err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
				if n := countMounts(t, target); n != 1 {
					t.Fatalf("after publish %d: %d mounts on %s", i, n, target)
				}
			}
			restart()
			ctl, node = dial(t, td.sock)
			lv, err := ctl.ListVolumes(ctx, &csipb.ListVolumesRequest{})
			if err != nil || !slices.ContainsFunc(lv.GetEntries(), func(e *csipb.ListVolumesResponse_Entry) bool { return e.GetVolume().GetVolumeId() == id }) {
				t.Fatalf("volume lost across restart: %v %v", lv, err)
			}
			for i := 0; i < 2; i++ {
				restart()
				ctl, node = dial(t, td.sock)
				if _, err := node.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: id, TargetPath: target}); err != nil {
					t.Fatalf("unpublish %d: %v", i, err)
				}
				if n := countMounts(t, target); n != 0 {
					t.Fatalf("after unpublish: %d mounts", n)
				}
			}
			if _, err := ctl.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: id}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLatency creates and publishes 100 volumes and logs the median and
// p99 of CreateVolume and NodePublishVolume (loopfile on /dev/shm, xfs);
// it also reads the metrics the interceptor kept.
func TestLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("100 volumes")
	}
	td := newTestDriver(t)
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mctx, mcancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { td.driver.ServeMetrics(mctx, ml); close(done) }()
	t.Cleanup(func() { mcancel(); <-done })
	ctx := context.Background()
	ctl, node := dial(t, td.sock)
	base := t.TempDir()
	const n = 100
	var create, publish []time.Duration
	type pubd struct{ id, target string }
	var made []pubd
	t.Cleanup(func() {
		for _, p := range made {
			node.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: p.id, TargetPath: p.target})
			ctl.DeleteVolume(ctx, &csipb.DeleteVolumeRequest{VolumeId: p.id})
		}
	})
	for i := 0; i < n; i++ {
		s := time.Now()
		cv, err := ctl.CreateVolume(ctx, &csipb.CreateVolumeRequest{Name: fmt.Sprintf("lat-%d", i), VolumeCapabilities: []*csipb.VolumeCapability{mountCap()},
			CapacityRange: &csipb.CapacityRange{RequiredBytes: 320 << 20}})
		if err != nil {
			t.Fatal(err)
		}
		create = append(create, time.Since(s))
		p := pubd{cv.GetVolume().GetVolumeId(), filepath.Join(base, fmt.Sprint(i))}
		made = append(made, p)
		s = time.Now()
		if _, err := node.NodePublishVolume(ctx, &csipb.NodePublishVolumeRequest{VolumeId: p.id, TargetPath: p.target, VolumeCapability: mountCap()}); err != nil {
			t.Fatal(err)
		}
		publish = append(publish, time.Since(s))
	}
	q := func(d []time.Duration, p float64) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[min(len(s)-1, int(p*float64(len(s))))]
	}
	t.Logf("CreateVolume over %d volumes: median %v p99 %v", n, q(create, 0.5), q(create, 0.99))
	t.Logf("NodePublishVolume (mkfs.xfs + mount) over %d volumes: median %v p99 %v", n, q(publish, 0.5), q(publish, 0.99))
	resp, err := http.Get("http://" + ml.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `eos_csi_operations_total{code="OK",method="/csi.v1.Controller/CreateVolume"} 100`
	if !strings.Contains(string(body), want) {
		t.Fatalf("metrics lack %q", want)
	}
}
