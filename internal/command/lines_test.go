package command

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func collect(chunks ...[]byte) []string {
	var lines []string
	l := lineSplitter{fn: func(s string) { lines = append(lines, s) }}
	for _, c := range chunks {
		l.Write(c)
	}
	l.Flush()
	return lines
}

func TestLineSplitter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\nb\n", []string{"a", "b"}},
		{"1/8\r2/8\r3/8\r\n", []string{"1/8", "2/8", "3/8"}},
		{"\n\r\r\n\n", nil},
		{"Pass 1\nPass 2\n  5.2%\r 10.4%\rdone", []string{"Pass 1", "Pass 2", "  5.2%", " 10.4%", "done"}},
	} {
		if d := cmp.Diff(tc.want, collect([]byte(tc.in))); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, d)
		}
	}
	long := strings.Repeat("x", maxLine+10)
	got := collect([]byte(long + "\nend"))
	if len(got) != 3 || got[0] != long[:maxLine] || got[1] != long[maxLine:] || got[2] != "end" {
		t.Errorf("a line longer than maxLine: %d pieces", len(got))
	}
}

// However a stream is cut into reads, the same lines come out.
func TestLineSplitterChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab \r\n%")
	for iter := 0; iter < 500; iter++ {
		in := make([]byte, rng.IntN(200))
		for i := range in {
			in[i] = alphabet[rng.IntN(len(alphabet))]
		}
		want := collect(in)
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if got := collect(chunks...); !slices.Equal(got, want) {
			t.Fatalf("%q in %d chunks: %q, want %q", in, len(chunks), got, want)
		}
		// And the reference: split on both terminators, drop empties.
		ref := strings.FieldsFunc(string(in), func(r rune) bool { return r == '\r' || r == '\n' })
		if len(ref) == 0 {
			ref = nil
		}
		if !slices.Equal(want, ref) {
			t.Fatalf("%q: %q, want %q", in, want, ref)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 300; iter++ {
		limit := 1 + rng.IntN(64)
		tb := tailBuffer{max: limit}
		var all []byte
		for w := rng.IntN(20); w > 0; w-- {
			p := pattern(rng.IntN(3 * limit))
			for i := range p {
				p[i] += byte(len(all))
			}
			tb.Write(p)
			all = append(all, p...)
		}
		got, trunc := tb.Bytes()
		want := all[max(0, len(all)-limit):]
		if !bytes.Equal(got, want) || trunc != (len(all) > limit) || (len(all) == 0) != (got == nil) {
			t.Fatalf("max %d after %d bytes: %d bytes kept, truncated %v", limit, len(all), len(got), trunc)
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"\n\n", ""},
		{"one\n", "one"},
		{"a\nb\nc\nd\n", "b; c; d"},
		{"  warn  \r\n\nerr: bad\n", "warn; err: bad"},
		{"x\r10%\r20%", "x; 10%; 20%"},
		{strings.Repeat("y", 600) + "\n", "..." + strings.Repeat("y", 512)},
	} {
		if got := lastLines([]byte(tc.in), 3, 512); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}
