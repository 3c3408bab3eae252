package quota_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/quota"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// A filesystem without quotas answers with the reason, never with an
// empty report; xfs takes its quotas from mount options.
func Example() {
	m, err := quota.New()
	if err != nil {
		panic(err)
	}
	_, err = m.List(context.Background(), "/proc", quota.User)
	fmt.Println(errors.Is(err, quota.ErrNotSupported), errors.Is(err, quota.ErrNotEnabled))
	fmt.Println(err)
	opts, _ := quota.MountOptions("xfs")
	fmt.Println(opts)
	// Output:
	// true false
	// quota: user quotas not supported on /proc (magic 0x9fa0): quotas are managed for ext4, xfs and btrfs only
	// [uquota gquota pquota]
}

// The journal a program opens names quota.RollForward's handlers, so its
// Recover settles quota changes a crash interrupted: each is finished
// (rolled_forward) or put back to the old state the journal holds
// (rolled_back). A fresh journal has nothing to settle.
func ExampleRollForward() {
	dir, err := os.MkdirTemp("", "quota-journal-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	j, err := safety.OpenJournal(context.Background(), append(quota.RollForward(), safety.WithStateDir(dir))...)
	if err != nil {
		panic(err)
	}
	defer j.Close()
	rec, err := j.Recover(context.Background())
	fmt.Println(len(rec), err)
	// Output:
	// 0 <nil>
}
