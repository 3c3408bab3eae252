package fsys_test

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// The capability matrix says what a type can do and how.
func ExampleManager_Features() {
	r, _ := command.NewReplayer() // no tool runs; a real Manager also reports which are installed
	m, err := fsys.New(fsys.WithRunner(r))
	if err != nil {
		panic(err)
	}
	f, _ := m.Features(context.Background(), fsys.XFS)
	for _, c := range []fsys.Capability{fsys.CapOnlineGrow, fsys.CapOfflineGrow, fsys.CapOfflineShrink} {
		s := f.Caps[c]
		fmt.Printf("%s: %v (%s)\n", c, s.Supported, s.Note)
	}
	// Output:
	// online_grow: true (XFS_IOC_FSGROWFSDATA with the current imaxpct)
	// offline_grow: true (a private temporary mount, then XFS_IOC_FSGROWFSDATA)
	// offline_shrink: false (XFS cannot shrink)
}
