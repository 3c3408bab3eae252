package partition

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// dos tables damaged by hand (sfdisk will not write them): our Verify flags
// each, and whatever sfdisk -V complains about, we complain about too.
func TestDOSDamageAgainstSfdisk(t *testing.T) {
	testenv.RequireTool(t, "sfdisk")
	const script = "label: dos\nstart=2048, size=8192, type=83\nstart=10240, size=40960, type=5\nstart=12288, size=8192, type=83\nstart=22528, size=8192, type=82\nstart=61440, size=8192, type=83\n"
	entry := func(i int) int64 { return 446 + 16*int64(i) }
	u32 := func(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }
	for _, c := range []struct {
		name  string
		apply func(t *testing.T, p string)
		want  error
	}{
		{"primaries overlap", func(t *testing.T, p string) { testenv.PatchFile(t, p, entry(2)+8, u32(4096)) }, ErrOverlap},
		{"primary past the end", func(t *testing.T, p string) { testenv.PatchFile(t, p, entry(2)+12, u32(1<<20)) }, ErrDiskShrank},
		{"primary overlaps the extended", func(t *testing.T, p string) { testenv.PatchFile(t, p, entry(2)+8, u32(30000)) }, ErrOverlap},
		// The second EBR links back to the first: a loop.
		{"EBR chain loops", func(t *testing.T, p string) {
			tab := mustRead(t, openT(t, p))
			l6, _ := tab.Partition(6)
			link := make([]byte, 16) // the last EBR links back to the head: type 5, start 0
			link[4] = 0x05
			copy(link[12:], u32(8192))
			testenv.PatchFile(t, p, int64(l6.ebr)*512+446+16, link)
		}, ErrBadEBRChain},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			img := image(t, 64<<20)
			if _, err := runStdin("sfdisk", script, "-q", img); err != nil {
				t.Fatal(err)
			}
			c.apply(t, img)
			out, err := testenv.RunErr("sfdisk", "-V", img)
			// sfdisk -V says "No errors detected" and then warns when the
			// partitions add up to more than the disk: count the warning.
			sfBad := err != nil || !strings.Contains(string(out), "No errors detected") || strings.Contains(string(out), "greater than the maximum")
			rep, verr := openT(t, img).Verify(context.Background())
			if verr != nil {
				t.Fatalf("Verify: %v", verr)
			}
			if !rep.Has(c.want) {
				t.Errorf("Verify missed %v: %v", c.want, rep.Problems)
			}
			if sfBad && rep.OK() {
				t.Errorf("sfdisk -V finds problems we do not:\n%s %v", out, err)
			}
			t.Logf("sfdisk -V problems=%v; ours: %v", sfBad, rep.Problems)
		})
	}
}
