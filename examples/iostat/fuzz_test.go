package main

import (
	"strings"
	"testing"
)

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"-dxy -o JSON 1 5 sda", "-p sda,sdb 2", "-p", "-p ALL -z 1 1", "-km", "1 0", "ALL", "-o"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseArgs(strings.Fields(s))
		if err != nil {
			return
		}
		if !c.cpu && !c.disk {
			t.Fatalf("%q: no report selected", s)
		}
		if c.interval == 0 && c.count != 1 {
			t.Fatalf("%q: count %d without an interval", s, c.count)
		}
		if c.interval < 0 || c.count == 0 {
			t.Fatalf("%q: interval %v count %d", s, c.interval, c.count)
		}
	})
}
