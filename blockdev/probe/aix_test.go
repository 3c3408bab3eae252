package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAIX(t *testing.T) {
	img := make([]byte, 1<<20)
	copy(img, aixMagic)
	if diff := cmp.Diff(&Table{Type: "aix"}, ptTable(t, img, 512)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if r := probeBytes(t, img); r.PTType != "aix" || r.PTUUID != "" {
		t.Errorf("probe: %+v", r)
	}
	if got := ptTable(t, img[:1023], 512); got != nil {
		t.Errorf("short: %+v", got)
	}
	img[3]++
	if got := ptTable(t, img, 512); got != nil {
		t.Errorf("no magic: %+v", got)
	}
}

func FuzzAIX(f *testing.F) {
	b := make([]byte, 1024)
	copy(b, aixMagic)
	ptFuzz(f, b)
}
