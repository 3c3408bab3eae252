package probe

import (
	"context"
	"testing"
)

// zeroTail serves data at offset 0 and zeros after it up to size: a large
// device whose interesting bytes are all at the front, cheap to fuzz.
type zeroTail struct {
	data []byte
	size int64
}

func (z zeroTail) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	if off < int64(len(z.data)) {
		copy(p, z.data[off:])
	}
	return len(p), nil
}

func fuzzSource(t *testing.T, data []byte, at int, size int64) *source {
	buf := make([]byte, at+len(data))
	copy(buf[at:], data)
	s, err := newSource(context.Background(), zeroTail{buf, size}, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.release)
	return s
}

// fuzzProbers runs the named probers on data placed at offset at and checks
// they neither panic nor fail (a zeroTail never returns an I/O error).
func fuzzProbers(f *testing.F, at int, seeds [][]byte, fns ...func(*source) (*sb, error)) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzSource(t, data, at, 64<<20)
		for _, fn := range fns {
			if _, err := fn(s); err != nil && err != errBudget {
				t.Fatalf("prober error on in-memory data: %v", err)
			}
		}
	})
}

func region(b []byte, off, n int) []byte { return b[off : off+n] }

func FuzzExt(f *testing.F) {
	fuzzProbers(f, 1024, [][]byte{
		region(synthExt(4096, extCompatHasJournal, 0x42, 1, "e4"), 1024, 1024),
		region(synthExt(4096, 0, extIncompatJournalDev, 0, "j"), 1024, 1024),
	}, probeExt4, probeExt3, probeExt2, probeJBD)
}

func FuzzXFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{synthXFS(512, "x")}, probeXFS)
}

func FuzzBtrfs(f *testing.F) {
	fuzzProbers(f, 0x10000, [][]byte{region(synthBtrfs(0x11000, "b"), 0x10000, 4096)}, probeBtrfs)
}

func FuzzSwap(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthSwap(1<<20, "s"), 0, 0x1000)}, probeSwap)
}

func FuzzLVM(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthLVM(4096), 0, 2048)}, probeLVM2)
}

func FuzzLUKS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthLUKS(4096, 1, ""), 0, 512), region(synthLUKS(4096, 2, "l"), 0, 512)}, probeLUKS)
}

func FuzzSquashfs(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthSquashfs(4096), 0, 96)}, probeSquashfs)
}

func FuzzISO9660(f *testing.F) {
	fuzzProbers(f, 0x8000, [][]byte{
		region(synthISO(0xa000, "CD", ""), 0x8000, 0x1000),
		region(synthISO(0xa000, "CD", "Joliet"), 0x8000, 0x1800),
	}, probeISO9660)
}

func FuzzVFAT(f *testing.F) {
	// The boot sector plus the FAT16 root directory region, so the label
	// search and the FAT32 cluster walk both see fuzzed bytes.
	fat := synthFAT16(1<<20, "BOOT", "ROOT")
	fuzzProbers(f, 0, [][]byte{region(fat, 0, 512), region(fat, 0, 130*512)}, probeVFAT)
}

func FuzzTable(f *testing.F) {
	gpt := synthGPT(1<<20, gptDisk, []synthGPTPart{{gptLinuxType, testUUID, 40, 100, "p", 0}})
	dos := synthMBR(1<<20, 5, []synthPart{{2048, 100, 0x83, true}, {200, 1000, 0x05, false}}, []synthPart{{300, 10, 0x83, false}, {400, 10, 0x83, false}})
	f.Add(region(gpt, 0, 34*512), int64(1<<20), uint8(0))
	f.Add(region(dos, 0, 512*512), int64(1<<20), uint8(0))
	f.Add(region(gpt, 0, 34*512), int64(8<<20), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, size int64, sszLog uint8) {
		if size < 0 || size > 1<<40 {
			return
		}
		ssz := int64(512) << (sszLog % 4)
		s := fuzzSource(t, data, 0, size)
		tab, err := probeTable(s, ssz)
		if err != nil {
			t.Fatalf("in-memory table: %v", err)
		}
		if tab != nil && tab.Type == "dos" {
			for _, e := range tab.Entries {
				if e.Number < 1 {
					t.Fatalf("bad entry number %d", e.Number)
				}
			}
		}
	})
}

// FuzzProbe runs the whole probe, which also exercises conflict handling.
func FuzzProbe(f *testing.F) {
	const n = headSize
	for _, b := range [][]byte{
		synthExt(n, extCompatHasJournal, 0x42, 1, "e4"), synthXFS(n, "x"), synthBtrfs(n, "b"),
		synthSwap(n, "s"), synthLVM(n), synthLUKS(n, 2, "l"), synthSquashfs(n), synthISO(n, "CD", "J"),
		synthFAT16(n, "B", "R"), synthGPT(n, gptDisk, nil), synthMBR(n, 1, []synthPart{{1, 10, 0x83, false}}, nil),
	} {
		f.Add(b, int64(64<<20))
	}
	f.Fuzz(func(t *testing.T, data []byte, size int64) {
		if size < 0 || size > 1<<40 {
			return
		}
		r, err := ReaderAt(context.Background(), zeroTail{data, size}, size)
		if err != nil {
			t.Fatalf("in-memory probe: %v", err)
		}
		if len(r.Ambiguous) > 0 && r.Type != "" {
			t.Fatalf("ambiguous result with a type: %+v", r)
		}
		if len(r.Ambiguous) == 1 {
			t.Fatalf("ambiguity of one: %+v", r)
		}
	})
}
