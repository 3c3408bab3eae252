package external

import (
	"encoding/json"
	"fmt"

	"google.golang.org/grpc/encoding"
)

// codecName is the gRPC content-subtype of protocol messages
// ("application/grpc+eos-json").
const codecName = "eos-json"

// jsonCodec marshals protocol messages as JSON. There is no protoc on the
// build machines and the messages are plain Go structs, so the service is
// described by hand (service.go) and the codec is JSON.
type jsonCodec struct{}

// rawMessage is sent verbatim: only tests use it, to make a plugin answer
// bytes that no honest server would produce.
type rawMessage []byte

func (jsonCodec) Marshal(v any) ([]byte, error) {
	if r, ok := v.(rawMessage); ok {
		return r, nil
	}
	return json.Marshal(v)
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

func (jsonCodec) Name() string { return codecName }

// The client forces the codec on every call (grpc.ForceCodec); the server
// finds it by the call's content-subtype, which gRPC looks up only in its
// own codec registry. This registration of an immutable value is the one
// piece of package-level state, and gRPC requires it.
func init() { encoding.RegisterCodec(jsonCodec{}) }
