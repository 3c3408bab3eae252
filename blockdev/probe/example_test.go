package probe_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// A squashfs 4.0 superblock is the magic "hsqs" and the version at byte 28.
func ExampleReaderAt() {
	img := make([]byte, 1<<20)
	copy(img, "hsqs")
	img[28] = 4
	r, err := probe.ReaderAt(context.Background(), bytes.NewReader(img), int64(len(img)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Type, r.Version, r.Usage)
	// Output: squashfs 4.0 filesystem
}

// Nothing found is an empty Result, not an error.
func ExampleResult_Empty() {
	img := make([]byte, 1<<20)
	r, err := probe.ReaderAt(context.Background(), bytes.NewReader(img), int64(len(img)))
	fmt.Println(r.Empty(), err)
	// Output: true <nil>
}
