package loopfile

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSidecarRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.json")
	in := &Sidecar{Name: "v", SizeBytes: 1 << 20, Tags: []string{"a"}, SnapshotOf: "p/x@y", Created: time.Unix(1, 0).UTC(), Copy: copySparse}
	if err := writeSidecar(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := readSidecar(p)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != in.Name || out.SizeBytes != in.SizeBytes || out.SnapshotOf != in.SnapshotOf || !out.Created.Equal(in.Created) {
		t.Fatalf("%+v != %+v", out, in)
	}
}

func TestParseSidecarRejects(t *testing.T) {
	for _, s := range []string{
		``, `{}`, `[]`, `{"version":2,"name":"v","size_bytes":1}`,
		`{"version":1,"name":"../v","size_bytes":1}`,
		`{"version":1,"name":"v","size_bytes":0}`,
		`{"version":1,"name":"v","size_bytes":1,"extra":1}`,
		`{"version":1,"name":"v","size_bytes":1} {}`,
		`{"version":1,"name":"v","size_bytes":1,"copy":"magic"}`,
	} {
		if _, err := ParseSidecar([]byte(s)); !errors.Is(err, ErrSidecar) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func FuzzParseSidecar(f *testing.F) {
	f.Add([]byte(`{"version":1,"name":"v","size_bytes":1048576,"tags":["a"],"created":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"name":"s","source":"v","size_bytes":1,"copy":"reflink"}`))
	f.Add([]byte(`{"version":1`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSidecar(b)
		if err != nil {
			if !errors.Is(err, ErrSidecar) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if checkName("n", s.Name) != nil || s.SizeBytes <= 0 {
			t.Fatalf("accepted %+v", s)
		}
	})
}
