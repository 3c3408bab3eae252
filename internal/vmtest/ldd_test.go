package vmtest

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const lddSample = `	linux-vdso.so.1 (0x00007ffd6b5f2000)
	libsmartcols.so.1 => /lib/x86_64-linux-gnu/libsmartcols.so.1 (0x00007f1c2a3b0000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c2a1cf000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f1c2a41c000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1c2a1cf000)
`

func TestParseLDD(t *testing.T) {
	got, err := parseLDD([]byte(lddSample))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/lib/x86_64-linux-gnu/libsmartcols.so.1",
		"/lib/x86_64-linux-gnu/libc.so.6",
		"/lib64/ld-linux-x86-64.so.2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseLDD = %q, want %q", got, want)
	}
	_, err = parseLDD([]byte("\tlibgone.so.3 => not found\n"))
	if !errors.Is(err, ErrLibraryNotFound) {
		t.Fatalf("missing library: err = %v", err)
	}
	if got, err := parseLDD([]byte("\tstatically linked\n")); err != nil || len(got) != 0 {
		t.Fatalf("static: %q %v", got, err)
	}
}

// The real ldd on a real tool: every path it names exists, and the loader
// is among them (without it no dynamic binary runs in the guest).
func TestSharedLibsOfLsblk(t *testing.T) {
	p := testenv.RequireTool(t, "lsblk", "ldd")[0]
	libs, err := sharedLibs(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	loader := false
	for _, l := range libs {
		if _, err := os.Stat(l); err != nil {
			t.Errorf("%s: %v", l, err)
		}
		if l == "/lib64/ld-linux-x86-64.so.2" {
			loader = true
		}
	}
	if !loader {
		t.Errorf("no dynamic loader in %q", libs)
	}
}

func FuzzParseLDD(f *testing.F) {
	f.Add([]byte(lddSample))
	f.Add([]byte("\tlibgone.so.3 => not found\n"))
	f.Add([]byte("=>\n/\n => \n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		libs, err := parseLDD(in)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range libs {
			if len(l) == 0 || l[0] != '/' || seen[l] {
				t.Fatalf("bad or repeated path %q", l)
			}
			seen[l] = true
		}
	})
}
