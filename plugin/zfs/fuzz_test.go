package zfs

import (
	"errors"
	"testing"
)

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"10485760", "250M", "1.50G", "9.89M", "-", "none", "512B", "", "1.2.3K", "8E", "7.99E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, _, err := ParseSize(s)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: untyped error %v", s, err)
		}
		if err == nil && n < 0 {
			t.Fatalf("%q: negative %d", s, n)
		}
	})
}

func FuzzParsePoolList(f *testing.F) {
	f.Add([]byte("pctank\t250M\t556K\t249M\tONLINE\n"))
	f.Add([]byte("tank\t1069547520\t2117632\t1067429888\tONLINE\nb\t1\t0\t1\tDEGRADED\n"))
	f.Add([]byte("x\t1\t2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParsePoolList(b); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("untyped error %v", err)
		}
	})
}

func FuzzParseProps(f *testing.F) {
	f.Add([]byte("pctank/v1\tused\t114688\npctank/v1\trefquota\t10485760\npctank/v1@s1\tcreation\t1796643755\n"))
	f.Add([]byte("p\ttype\tfilesystem\np\ttype\tvolume\n"))
	f.Add([]byte("\t\t\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProps(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, n := range p.Names {
			for _, prop := range volProps {
				if _, err := p.size(n, prop); err != nil && !errors.Is(err, ErrMalformed) {
					t.Fatalf("untyped error %v", err)
				}
			}
			if _, err := toVolume(p, n); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("toVolume: untyped error %v", err)
			}
		}
	})
}
