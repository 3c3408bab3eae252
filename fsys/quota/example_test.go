package quota_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/quota"
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
