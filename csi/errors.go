package csi

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// toStatus maps the library's typed errors to the gRPC codes the CSI spec
// names for them.
func toStatus(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && status.Code(err) != codes.Unknown {
		return err
	}
	c := codes.Internal
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		c = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		c = codes.Canceled
	case errors.Is(err, plugin.ErrNotFound):
		c = codes.NotFound
	case errors.Is(err, plugin.ErrExists):
		c = codes.AlreadyExists
	case errors.Is(err, plugin.ErrNoSpace):
		c = codes.ResourceExhausted
	case errors.Is(err, plugin.ErrInvalid), errors.Is(err, fsys.ErrInvalid):
		c = codes.InvalidArgument
	case errors.Is(err, plugin.ErrNotSupported), errors.Is(err, fsys.ErrNotSupported):
		c = codes.InvalidArgument
	case errors.Is(err, plugin.ErrInUse), errors.Is(err, fsys.ErrBusy), errors.Is(err, fsys.ErrMounted):
		c = codes.FailedPrecondition
	case errors.Is(err, fsys.ErrRefused):
		c = codes.FailedPrecondition
	}
	return status.Errorf(c, "%s: %v", what, err)
}
