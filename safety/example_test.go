package safety_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// Preflight rules are a pure function of the facts: this is how a caller
// sees why a format would be refused, and how an operator overrides one
// reason (and only that one).
func ExampleEvaluate() {
	f := &safety.Facts{
		Path: "/dev/sdb", Exists: true, IsBlock: true, Size: 1 << 30,
		Signatures: []safety.Signature{{Type: "gpt", Offset: 1<<30 - 512, Where: "GPT backup header (512-byte sectors)"}},
	}
	r, _ := safety.Evaluate(context.Background(), f, safety.OpFormat)
	fmt.Println(r.Summary())
	r, _ = safety.Evaluate(context.Background(), f, safety.OpFormat,
		safety.WithOverride(safety.CodeNotEmpty, "stale table on a new disk", "ops"))
	fmt.Println(r.Summary())
	// Output:
	// format on /dev/sdb refused: not_empty
	// format on /dev/sdb allowed
}

// A journaled mutation: Begin saves the before-images and the intent
// (fsynced) before the first write; Done records the outcome.
func ExampleJournal_Begin() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "safety-example")
	defer os.RemoveAll(dir)
	disk := filepath.Join(dir, "disk.img")
	os.WriteFile(disk, make([]byte, 1<<20), 0o600)

	j, err := safety.OpenJournal(ctx, safety.WithStateDir(filepath.Join(dir, "state")))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer j.Close()
	id, _ := safety.IdentityOf(ctx, disk)
	m, err := j.Begin(ctx, safety.Intent{Op: "example.write", Target: id,
		Ranges: []safety.Range{{Offset: 0, Length: 512}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... write sector 0 here, calling m.Step after each crash-relevant step ...
	m.Step(ctx, "sector0", "")
	m.Done(ctx)
	fmt.Println(filepath.Base(m.Images()[0].File))
	e, _ := j.Entry(m.ID())
	fmt.Println(e.Outcome, e.Outcome.State())
	// Output:
	// sfdisk-disk.img-0x00000000.bak
	// done new
}
