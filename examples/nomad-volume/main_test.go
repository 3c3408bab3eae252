package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nomad-volume-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "nomad-volume")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is one node: a volumes dir, a pool and a state dir.
type fixture struct {
	volumes, pool, state string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4")
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		testenv.Skip(t, "no loop devices: %v", err)
	}
	shm, err := os.MkdirTemp("/dev/shm", "nomad-volume-")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{volumes: filepath.Join(t.TempDir(), "volumes"), pool: filepath.Join(shm, "pool"), state: filepath.Join(shm, "state")}
	t.Cleanup(func() {
		// Whatever a failed test left: unmount, detach, remove.
		ents, _ := os.ReadDir(f.volumes)
		for _, e := range ents {
			exec.Command("umount", filepath.Join(f.volumes, e.Name())).Run()
		}
		out, _ := exec.Command("losetup", "-j", "x").Output()
		_ = out
		imgs, _ := filepath.Glob(filepath.Join(f.pool, "*.img"))
		for _, img := range imgs {
			o, _ := exec.Command("losetup", "-j", img).Output()
			for _, l := range strings.Split(strings.TrimSpace(string(o)), "\n") {
				if dev, _, ok := strings.Cut(l, ":"); ok {
					testenv.DetachLoop(t, dev)
				}
			}
		}
		os.RemoveAll(shm)
	})
	return f
}

func (f *fixture) env(op, id string, min, max int64, params string) []string {
	return append(os.Environ(),
		"DHV_OPERATION="+op, "DHV_VOLUMES_DIR="+f.volumes, "DHV_VOLUME_ID="+id, "DHV_VOLUME_NAME=../../etc/not-a-path",
		fmt.Sprintf("DHV_CAPACITY_MIN_BYTES=%d", min), fmt.Sprintf("DHV_CAPACITY_MAX_BYTES=%d", max),
		"DHV_PARAMETERS="+params, "DHV_NAMESPACE=default", "DHV_NODE_ID=node-a", "DHV_NODE_POOL=default",
		"DHV_PLUGIN_DIR="+filepath.Dir(binary))
}

func (f *fixture) params() string {
	b, _ := json.Marshal(map[string]string{"dir": f.pool, "state": f.state})
	return string(b)
}

// run drives the binary as Nomad does: the operation as argument and in
// DHV_OPERATION, the rest in the environment.
func runBin(t *testing.T, env []string, op string, extra ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, op)
	cmd.Env = append(env, extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if errb.Len() > 0 {
		t.Logf("%s stderr: %s", op, errb.String())
	}
	return out.String(), code
}

const volID = "8f1a5b6e-2c4d-4e7f-9a0b-1c2d3e4f5a6b"

func isMounted(t *testing.T, dir string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

func (f *fixture) leftovers(t *testing.T) []string {
	var left []string
	ents, _ := os.ReadDir(f.pool)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") {
			left = append(left, e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(f.volumes, volID)); err == nil {
		left = append(left, "target")
	}
	return left
}

func TestFingerprint(t *testing.T) {
	out, code := runBin(t, os.Environ(), "fingerprint")
	if code != 0 || out != `{"version":"0.1.0"}`+"\n" {
		t.Fatalf("%q %d", out, code)
	}
}

func TestCreateTwiceDeleteTwice(t *testing.T) {
	f := newFixture(t)
	want := fmt.Sprintf(`{"path":%q,"bytes":%d}`+"\n", filepath.Join(f.volumes, volID), 33554432)
	for i := 0; i < 2; i++ {
		out, code := runBin(t, f.env("create", volID, 32<<20, 64<<20, f.params()), "create")
		if code != 0 || out != want {
			t.Fatalf("create %d: %q exit %d, want %q", i, out, code, want)
		}
	}
	target := filepath.Join(f.volumes, volID)
	if !isMounted(t, target) {
		t.Fatal("not mounted")
	}
	if err := os.WriteFile(filepath.Join(target, "data"), []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		out, code := runBin(t, f.env("delete", volID, 0, 0, f.params()), "delete")
		if code != 0 || out != "" {
			t.Fatalf("delete %d: %q exit %d", i, out, code)
		}
	}
	if isMounted(t, target) {
		t.Fatal("still mounted")
	}
	if l := f.leftovers(t); len(l) != 0 {
		t.Fatalf("left %v", l)
	}
}

func TestCreateConcurrent(t *testing.T) {
	f := newFixture(t)
	want := fmt.Sprintf(`{"path":%q,"bytes":%d}`+"\n", filepath.Join(f.volumes, volID), 16<<20)
	var wg sync.WaitGroup
	outs := make([]string, 4)
	codes := make([]int, 4)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			outs[i], codes[i] = runBin(t, f.env("create", volID, 16<<20, 0, f.params()), "create")
		}(i)
	}
	wg.Wait()
	for i := range outs {
		if codes[i] != 0 || outs[i] != want {
			t.Errorf("run %d: %q exit %d", i, outs[i], codes[i])
		}
	}
	if out, code := runBin(t, f.env("delete", volID, 0, 0, f.params()), "delete"); code != 0 {
		t.Fatalf("delete: %q %d", out, code)
	}
	if l := f.leftovers(t); len(l) != 0 {
		t.Fatalf("left %v", l)
	}
}

func TestHalfDoneCreate(t *testing.T) {
	for _, stage := range []string{"after-volume", "after-mkfs"} {
		t.Run(stage, func(t *testing.T) {
			f := newFixture(t)
			out, code := runBin(t, f.env("create", volID, 16<<20, 0, f.params()), "create", testDieEnv+"="+stage)
			if code != 137 || out != "" {
				t.Fatalf("killed create: %q %d", out, code)
			}
			// delete after the half-done create removes all of it.
			if out, code := runBin(t, f.env("delete", volID, 0, 0, f.params()), "delete"); code != 0 || out != "" {
				t.Fatalf("delete: %q %d", out, code)
			}
			if l := f.leftovers(t); len(l) != 0 {
				t.Fatalf("left %v", l)
			}
			// and a create after a half-done one finishes it.
			runBin(t, f.env("create", volID, 16<<20, 0, f.params()), "create", testDieEnv+"="+stage)
			want := fmt.Sprintf(`{"path":%q,"bytes":%d}`+"\n", filepath.Join(f.volumes, volID), 16<<20)
			if out, code := runBin(t, f.env("create", volID, 16<<20, 0, f.params()), "create"); code != 0 || out != want {
				t.Fatalf("create after half: %q %d", out, code)
			}
			if out, code := runBin(t, f.env("delete", volID, 0, 0, f.params()), "delete"); code != 0 || out != "" {
				t.Fatalf("delete: %q %d", out, code)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, id, params string
		min, max         int64
		want             string
	}{
		{"unknown parameter", volID, `{"colour":"blue"}`, 0, 0, `{"error":"unknown parameter \"colour\""}`},
		{"bad backend", volID, `{"backend":"lvm"}`, 0, 0, `{"error":"parameter backend \"lvm\": only \"loopfile\" is built in"}`},
		{"bad fs", volID, `{"fs_type":"vfat"}`, 0, 0, `{"error":"parameter fs_type \"vfat\": ext4, xfs or btrfs"}`},
		{"not json", volID, `{`, 0, 0, `{"error":"DHV_PARAMETERS: unexpected end of JSON input"}`},
		{"path id", "../../etc", f.params(), 0, 0, `{"error":"DHV_VOLUME_ID \"../../etc\" is not a canonical UUID"}`},
		{"min over max", volID, f.params(), 2 << 20, 1 << 20, `{"error":"capacity min 2097152 \u003e max 1048576"}`},
	} {
		out, code := runBin(t, f.env("create", tc.id, tc.min, tc.max, tc.params), "create")
		if code != 1 || out != tc.want+"\n" {
			t.Errorf("%s: %q exit %d, want %q exit 1", tc.name, out, code, tc.want)
		}
	}
	out, code := runBin(t, f.env("create", volID, 1<<50, 0, f.params()), "create")
	var e map[string]string
	if code != 1 || json.Unmarshal([]byte(out), &e) != nil || len(e) != 1 || !strings.Contains(e["error"], "not enough space") {
		t.Fatalf("too large: %q exit %d", out, code)
	}
	if l := f.leftovers(t); len(l) != 0 {
		t.Fatalf("left %v", l)
	}
	if out, code := runBin(t, os.Environ(), "resize"); code != 2 || !strings.HasPrefix(out, `{"error":"usage`) {
		t.Fatalf("bad op: %q %d", out, code)
	}
}
