package smart

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestReadAll(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := fakeTree(t)
	devs := []string{"/dev/sda", "/dev/vda", "/dev/sdz", "/dev/loop0", "/dev/nvme0n1"}
	res, err := ReadAll(context.Background(), devs, 2, WithRoot(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []error{ErrNotSupported, ErrNotSupported, ErrNotFound, ErrNotSupported, ErrNotSupported}
	for i, r := range res {
		if r.Device != devs[i] || !errors.Is(r.Err, want[i]) || r.Report != nil {
			t.Errorf("%d: %+v, want %v", i, r, want[i])
		}
	}
	if _, err := ReadAll(context.Background(), devs, 0); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("0 workers: %v", err)
	}
	if _, err := ReadAll(context.Background(), devs, 1, WithProtocol(9)); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("bad option: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err = ReadAll(ctx, devs, 3, WithRoot(dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("cancelled: %+v", r)
		}
	}
	if res, _ := ReadAll(context.Background(), nil, 4); len(res) != 0 {
		t.Errorf("no devices: %v", res)
	}
}
