package loopfile

import (
	"errors"
	"testing"
)

func FuzzParseSidecar(f *testing.F) {
	f.Add([]byte(`{"version":1,"name":"v","size_bytes":1048576,"created":"2026-12-07T10:00:00Z"}`))
	f.Add([]byte(`{"version":1,"name":"s","source":"v","size_bytes":2097152,"tags":["a"],"created":"2026-12-07T10:00:00Z"}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"name":"../x","size_bytes":1048576}`))
	f.Add([]byte(`{"version":1,"name":"v","size_bytes":-5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSidecar(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if validName(s.Name) != nil || s.SizeBytes <= 0 || s.SizeBytes%granularity != 0 {
			t.Fatalf("accepted %+v", s)
		}
	})
}
