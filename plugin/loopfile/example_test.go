package loopfile_test

import (
	"context"
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
)

// Planning a volume needs no root: the operations run later, through a
// scheduler (plugin.Apply), as root.
func Example() {
	dir, _ := os.MkdirTemp("", "loopfile-example-")
	defer os.RemoveAll(dir)
	b, err := loopfile.New(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	ops, err := b.CreateVolume(context.Background(), plugin.CreateRequest{Name: "data", SizeBytes: 10<<20 + 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(ops), ops[0].Kind, ops[0].Resources[0].Mode)
	_, err = b.CreateVolume(context.Background(), plugin.CreateRequest{Name: "../etc", SizeBytes: 1 << 20})
	fmt.Println(err)
	// Output:
	// 1 loopfile.create exclusive
	// plugin: invalid name "../etc": must start with a letter or digit
}
