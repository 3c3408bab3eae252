package partition

import (
	"context"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// A dos MBR (no 0xEE entry) in front of an intact GPT: what a tool that
// rewrites only sector 0 leaves behind. The kernel (efi.c requires a
// protective MBR), sfdisk and blkid all read dos here, so the partitions in
// use are the dos ones. We used to read the stale GPT, and an edit would
// then write it back and replace the table the kernel uses. We read dos, as
// they do, and Verify names the leftover GPT.
func TestDOSMBRBeforeStaleGPTReadsAsDOS(t *testing.T) {
	testenv.RequireTool(t, "sgdisk")
	testenv.RequireTool(t, "blkid")
	ctx := context.Background()
	img := image(t, 64<<20)
	testenv.Run(t, "sgdisk", "-n", "1:2048:+8M", "-n", "2:0:+8M", img)
	gptMBR := testenv.ReadFileAt(t, img, 0, 512)
	// sfdisk would wipe the GPT; write only its sector 0 over the GPT disk.
	other := image(t, 64<<20)
	if _, err := runStdin("sfdisk", "label: dos\nstart=4096, size=16384, type=83\n", "-q", other); err != nil {
		t.Fatal(err)
	}
	testenv.PatchFile(t, img, 0, testenv.ReadFileAt(t, other, 0, 512))
	if out := string(testenv.Run(t, "blkid", "-p", "-o", "export", img)); !strings.Contains(out, "PTTYPE=dos") {
		t.Fatalf("blkid does not read dos:\n%s", out)
	}
	d := openT(t, img)
	tab := mustRead(t, d)
	if tab.Label != LabelDOS {
		t.Fatalf("read %s, the kernel, sfdisk and blkid read dos", tab.Label)
	}
	sameAsSfdisk(t, img, tab)
	rep, err := d.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Has(ErrStaleGPT) {
		t.Errorf("Verify: %v, want ErrStaleGPT", rep.Problems)
	}
	// An edit of the dos table writes dos and clears the stale GPT, so no
	// reader can fall back to it later.
	next := tab.Clone()
	mustAdd(t, next, AddSpec{Size: mustSize(t, "4MiB")})
	if err := d.Write(ctx, next); err != nil {
		t.Fatal(err)
	}
	if rep, err := d.Verify(ctx); err != nil || !rep.OK() || rep.Label != LabelDOS {
		t.Errorf("after the edit: %v %v %v", rep.Label, rep.Problems, err)
	}
	sameAsSfdisk(t, img, mustRead(t, d))
	// Restoring the protective MBR makes the GPT the table again, for
	// sfdisk and for us.
	img2 := image(t, 64<<20)
	testenv.Run(t, "sgdisk", "-n", "1:2048:+8M", img2)
	testenv.PatchFile(t, img2, 0, testenv.ReadFileAt(t, other, 0, 512))
	testenv.PatchFile(t, img2, 0, gptMBR)
	if tab := mustRead(t, openT(t, img2)); tab.Label != LabelGPT {
		t.Errorf("with its protective MBR back: %s", tab.Label)
	}
}
