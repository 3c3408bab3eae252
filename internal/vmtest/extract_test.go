package vmtest

import (
	"bytes"
	"errors"
	"testing"
)

const testNonce = "0123456789abcdef"

func framed(body string, code string) []byte {
	return []byte("kernel noise\n" + beginMarker(testNonce) + body + endMarker(testNonce) + code + "\n")
}

func TestExtract(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		out  string
		code int
		err  error
	}{
		{"plain", framed("hello\n", "0"), "hello\n", 0, nil},
		{"no final newline", framed("hello", "7"), "hello", 7, nil},
		{"empty", framed("", "0"), "", 0, nil},
		{"binary", framed("\x00\r\n\xff", "1"), "\x00\r\n\xff", 1, nil},
		// A script that prints something marker-like cannot forge the end:
		// the nonce is random and only the last end marker counts.
		{"fake marker", framed("EOS-VMTEST-0000000000000000-END 0\n", "2"), "EOS-VMTEST-0000000000000000-END 0\n", 2, nil},
		{"no begin", []byte("panic\n"), "", 0, ErrNoOutput},
		{"no end", []byte(beginMarker(testNonce) + "half"), "", 0, ErrNoOutput},
		{"cut end", []byte(beginMarker(testNonce) + "x" + endMarker(testNonce) + "1"), "", 0, ErrNoOutput},
		{"bad code", framed("x", "abc"), "", 0, ErrNoOutput},
		{"code range", framed("x", "300"), "", 0, ErrNoOutput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code, err := extract(c.in, testNonce)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err != nil {
				if c.name == "no end" && string(out) != "half" {
					t.Fatalf("partial output = %q, want %q", out, "half")
				}
				return
			}
			if string(out) != c.out || code != c.code {
				t.Fatalf("got %q %d, want %q %d", out, code, c.out, c.code)
			}
		})
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(framed("hello\n", "0"), "x")
	f.Add([]byte(beginMarker(testNonce)), "x")
	f.Add([]byte("garbage"), "")
	f.Fuzz(func(t *testing.T, body []byte, tail string) {
		in := append(framed(string(body), "5"), tail...)
		out, code, err := extract(in, testNonce)
		if err != nil {
			return // an end marker in body or tail may legitimately move the end
		}
		if code < 0 || code > 255 {
			t.Fatalf("code %d out of range", code)
		}
		if !bytes.Contains(in, out) {
			t.Fatal("output is not a slice of the input")
		}
		// Whatever the input, extract must not panic on it alone either.
		_, _, _ = extract(body, testNonce)
	})
}
