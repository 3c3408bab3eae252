package probe

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// badSectorReader fails any read that covers the sector at bad.
type badSectorReader struct {
	r   *bytes.Reader
	bad int64
	n   int
}

func (b *badSectorReader) ReadAt(p []byte, off int64) (int, error) {
	b.n++
	if off <= b.bad && b.bad < off+int64(len(p)) {
		return 0, errors.New("medium error")
	}
	return b.r.ReadAt(p, off)
}

func TestSourceBlocks(t *testing.T) {
	img := make([]byte, 8<<20)
	for i := range img {
		img[i] = byte(i / 512)
	}
	ctx := context.Background()
	t.Run("a block serves later reads", func(t *testing.T) {
		br := &badSectorReader{r: bytes.NewReader(img), bad: -1}
		s, err := newSource(ctx, br, int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		a, _ := s.at(1<<20, 512)
		b, _ := s.at(1<<20+1024, 1024)
		if br.n != 2 || !bytes.Equal(a, img[1<<20:1<<20+512]) || !bytes.Equal(b, img[1<<20+1024:1<<20+2048]) {
			t.Fatalf("%d reads, or wrong bytes", br.n)
		}
		// A range that crosses into the next block is read again, whole.
		c, _ := s.at(1<<20+4000, 200)
		if br.n != 3 || !bytes.Equal(c, img[1<<20+4000:1<<20+4200]) {
			t.Fatalf("%d reads, or wrong bytes", br.n)
		}
	})
	t.Run("a bad sector beside the range is not an error", func(t *testing.T) {
		br := &badSectorReader{r: bytes.NewReader(img), bad: 1<<20 + 3584}
		s, err := newSource(ctx, br, int64(len(img)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		got, err := s.at(1<<20, 512)
		if err != nil || !bytes.Equal(got, img[1<<20:1<<20+512]) {
			t.Fatalf("got %v, %v: the exact range reads fine", got != nil, err)
		}
		if _, err := s.at(1<<20+3584, 512); !errors.Is(err, ErrRead) {
			t.Fatalf("the bad sector itself: %v, want ErrRead", err)
		}
	})
	t.Run("the last block is clipped to the device", func(t *testing.T) {
		small := img[:3<<20+100] // not a multiple of 4 KiB, larger than head+tail
		br := &badSectorReader{r: bytes.NewReader(small), bad: -1}
		s, err := newSource(ctx, br, int64(len(small)))
		if err != nil {
			t.Fatal(err)
		}
		defer s.release()
		off := int64(len(small)) - tailSize - 600
		got, err := s.at(off, 512)
		if err != nil || !bytes.Equal(got, small[off:off+512]) {
			t.Fatalf("%v", err)
		}
	})
}

// TestByteBudget: large reads stop at maxExtraTotal even when the count
// budget would allow more.
func TestByteBudget(t *testing.T) {
	const size = 64 << 20
	s, err := newSource(context.Background(), zeroTail{nil, size}, size)
	if err != nil {
		t.Fatal(err)
	}
	defer s.release()
	n := 0
	for off := int64(1 << 20); off < 48<<20; off += maxExtraBytes {
		if _, err := s.at(off, maxExtraBytes); err == errBudget {
			break
		}
		n++
	}
	if n != maxExtraTotal/maxExtraBytes {
		t.Fatalf("%d reads of 1 MiB before the budget, want %d", n, maxExtraTotal/maxExtraBytes)
	}
}
