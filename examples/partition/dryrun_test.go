package main

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"
)

func sum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// Every command that would write, run without --apply on an image that holds
// a table (GPT and dos, with a damaged copy for repair), leaves the image
// byte for byte as it was, and says it wrote nothing; with --journal too.
func TestEveryDryRunWritesNothing(t *testing.T) {
	for _, label := range []string{"gpt", "dos"} {
		p := img(t, 64<<20)
		mustCLI(t, p, "create-table", label, "--apply")
		mustCLI(t, p, "add", "--size", "8MiB", "--apply")
		mustCLI(t, p, "add", "--size", "8MiB", "--apply")
		cmds := [][]string{
			{"create-table", "gpt"},
			{"create-table", "dos"},
			{"add", "--size", "4MiB"},
			{"add", "--size", "rest", "--type", "swap"},
			{"delete", "1"},
			{"resize", "2", "--size", "16MiB"},
		}
		check := func(args ...string) {
			t.Helper()
			before := sum(t, p)
			code, out, errs := runCLI(t, args...)
			if after := sum(t, p); after != before {
				t.Errorf("%s %v without --apply changed the image (exit %d)\n%s%s", label, args, code, out, errs)
			}
			if code == 0 && !strings.Contains(out, "nothing") {
				t.Errorf("%s %v: exit 0 without saying nothing was written\n%s", label, args, out)
			}
		}
		for _, c := range cmds {
			check(append([]string{p}, c...)...)
			check(append([]string{"--journal", t.TempDir(), p}, c...)...)
		}
		if label == "gpt" {
			// Damage the backup header: repair has something to do.
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte{0xff}, 64<<20-512+60); err != nil {
				t.Fatal(err)
			}
			f.Close()
			check(p, "repair")
			check("--journal", t.TempDir(), p, "repair")
		}
	}
}
