package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzReadSpec: any input is a Spec or a typed error (ErrInvalid, or a
// *RefusedError from Validate), never a panic; a Spec read plans against a
// small inventory without panicking either.
func FuzzReadSpec(f *testing.F) {
	f.Add(`{"disks":[{"id":"b","serial":"SN-B","partitions":[{"number":1,"size_bytes":4294967296},{"number":2}]}],
	  "filesystems":[{"device":"b#1","type":"ext4"},{"device":"b#2","type":"xfs","size_bytes":1}],
	  "mounts":[{"device":"b#1","target":"/srv"}]}`)
	f.Add(`{"volume_groups":[{"name":"v","pvs":["/dev/sdb1"],"thin_pools":[{"name":"p","size_bytes":1}],"lvs":[{"name":"l","size_bytes":1,"pool":"p"}]}],
	  "filesystems":[{"device":"/dev/v/l","type":"btrfs"}]}`)
	f.Add(`{"overrides":[{"code":"drive_failing","reason":"x"}],"backend_volumes":[{"backend":"b","pool":"p","name":"n","size_bytes":3}]}`)
	f.Add(`{"disks":[{"id":"#"}]}`)
	f.Add(`[]`)
	f.Add(``)
	e, err := New()
	if err != nil {
		f.Fatal(err)
	}
	inv := newFake().gpt().part(1, 4*gib).fs("/dev/sdb1", "ext4", 4*gib).inv
	e.minSizeFn = func(context.Context, string) (int64, error) { return mib, nil }
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ReadSpec(strings.NewReader(in))
		if err != nil {
			var re *RefusedError
			if !errors.Is(err, ErrInvalid) && !errors.As(err, &re) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if _, err := e.PlanFor(context.Background(), inv, s); err != nil && !errors.Is(err, ErrRefused) {
			t.Fatalf("plan error not a refusal: %v", err)
		}
	})
}
