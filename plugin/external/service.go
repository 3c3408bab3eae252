package external

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// serviceV1 is the gRPC service of protocol version 1. A version 2 gets its
// own service name, descriptor and client, registered under its number in
// the VersionedPlugins of both sides (see plugins in client.go and
// server.go); go-plugin then negotiates the newest version both offer.
const serviceV1 = "eosstorage.backend.v1.Backend"

// The methods of version 1.
const (
	mDescribe       = "Describe"
	mCapabilities   = "Capabilities"
	mPools          = "Pools"
	mVolumes        = "Volumes"
	mVolume         = "Volume"
	mSnapshots      = "Snapshots"
	mCreateVolume   = "CreateVolume"
	mResizeVolume   = "ResizeVolume"
	mDeleteVolume   = "DeleteVolume"
	mCreateSnapshot = "CreateSnapshot"
	mDeleteSnapshot = "DeleteSnapshot"
	mExecute        = "Execute" // server-streaming: executeEvents
	mRollback       = "Rollback"
)

func methodPath(m string) string { return "/" + serviceV1 + "/" + m }

// serviceDescV1 describes the service by hand, as protoc-gen-go-grpc would
// from a .proto file; the handlers decode with whatever codec the call
// names (the host always names eos-json).
func serviceDescV1() *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: serviceV1,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary(mDescribe, (*server).describe),
			unary(mCapabilities, (*server).capabilities),
			unary(mPools, (*server).pools),
			unary(mVolumes, (*server).volumes),
			unary(mVolume, (*server).volume),
			unary(mSnapshots, (*server).snapshots),
			unary(mCreateVolume, (*server).createVolume),
			unary(mResizeVolume, (*server).resizeVolume),
			unary(mDeleteVolume, (*server).deleteVolume),
			unary(mCreateSnapshot, (*server).createSnapshot),
			unary(mDeleteSnapshot, (*server).deleteSnapshot),
			unary(mRollback, (*server).rollback),
		},
		Streams: []grpc.StreamDesc{{
			StreamName:    mExecute,
			ServerStreams: true,
			Handler:       executeHandler,
		}},
		Metadata: "hand-written; see package doc",
	}
}

func unary[Req, Resp any](name string, f func(*server, context.Context, *Req) *Resp) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			req := new(Req)
			if err := dec(req); err != nil {
				return nil, status.Error(codes.InvalidArgument, err.Error())
			}
			s := srv.(*server)
			h := func(ctx context.Context, r any) (any, error) {
				return s.answer(name, f(s, ctx, r.(*Req))), nil
			}
			if icpt == nil {
				return h(ctx, req)
			}
			return icpt(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: methodPath(name)}, h)
		},
	}
}

func executeHandler(srv any, stream grpc.ServerStream) error {
	s := srv.(*server)
	var req executeRequest
	if err := stream.RecvMsg(&req); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	var mu sync.Mutex
	finished := false
	send := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			_ = stream.SendMsg(s.answer(mExecute, ev))
		}
	}
	progress := func(done, total int64, note string) {
		send(&executeEvent{Progress: &progressEvent{Done: done, Total: total, Note: note}})
	}
	err := s.execute(stream.Context(), req.Token, progress)
	mu.Lock()
	finished = true
	mu.Unlock()
	return stream.SendMsg(s.answer(mExecute, &executeEvent{Done: true, Error: toWire(err)}))
}
