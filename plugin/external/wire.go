package external

import (
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
)

// Protocol version 1: the messages of service eosstorage.backend.v1.Backend.
// Every message is one JSON object (see codec.go). Field names are part of
// the protocol: renaming one is a new protocol version. Unknown fields are
// ignored, so a minor addition (a new optional field) stays version 1.
//
// Answers carry their error in the body (Error) rather than in the gRPC
// status, so that the host can tell "the backend said no" (a typed plugin
// error, passed on as the same sentinel) from "the plugin process failed"
// (a gRPC status, a *PluginError).

// ProtocolVersion is the newest protocol version this package speaks.
const ProtocolVersion = 1

type (
	// describeRequest asks for the backend's name and limits; the host
	// sends it once after every start of the process.
	describeRequest  struct{}
	describeResponse struct {
		Name   string        `json:"name"`
		Limits plugin.Limits `json:"limits"`
		// Instance is random per process: it tells a restarted plugin
		// from the one that handed out older tokens.
		Instance string     `json:"instance"`
		Error    *wireError `json:"error,omitempty"`
	}

	capabilitiesRequest  struct{}
	capabilitiesResponse struct {
		Capabilities []plugin.Capability `json:"capabilities"`
		Error        *wireError          `json:"error,omitempty"`
	}

	poolsRequest  struct{}
	poolsResponse struct {
		Pools []plugin.Pool `json:"pools"`
		Error *wireError    `json:"error,omitempty"`
	}

	volumesRequest struct {
		Pool string `json:"pool"`
	}
	volumesResponse struct {
		Volumes []plugin.Volume `json:"volumes"`
		Error   *wireError      `json:"error,omitempty"`
	}

	volumeRequest struct {
		ID string `json:"id"`
	}
	volumeResponse struct {
		Volume *plugin.Volume `json:"volume"`
		Error  *wireError     `json:"error,omitempty"`
	}

	snapshotsRequest struct {
		VolumeID string `json:"volume_id"`
	}
	snapshotsResponse struct {
		Snapshots []plugin.Snapshot `json:"snapshots"`
		Error     *wireError        `json:"error,omitempty"`
	}

	createVolumeRequest struct {
		Request plugin.CreateRequest `json:"request"`
	}
	resizeVolumeRequest struct {
		ID       string `json:"id"`
		NewBytes int64  `json:"new_bytes"`
	}
	deleteVolumeRequest struct {
		ID string `json:"id"`
	}
	createSnapshotRequest struct {
		VolumeID string `json:"volume_id"`
		Name     string `json:"name"`
	}
	deleteSnapshotRequest struct {
		SnapshotID string `json:"snapshot_id"`
	}

	// opsResponse answers every mutating call: the operations the plugin
	// holds, by token, until the host executes or rolls them back.
	opsResponse struct {
		Operations []opDescriptor `json:"operations"`
		Error      *wireError     `json:"error,omitempty"`
	}

	// executeRequest runs one pending operation. The answer is a stream
	// of executeEvents: progress events, then one final event with Done
	// set (and Error when Execute failed).
	executeRequest struct {
		Token string `json:"token"`
	}
	executeEvent struct {
		Progress *progressEvent `json:"progress,omitempty"`
		Done     bool           `json:"done,omitempty"`
		Error    *wireError     `json:"error,omitempty"`
	}
	progressEvent struct {
		Done  int64  `json:"done"`
		Total int64  `json:"total"`
		Note  string `json:"note,omitempty"`
	}

	rollbackRequest struct {
		Token string `json:"token"`
	}
	rollbackResponse struct {
		Error *wireError `json:"error,omitempty"`
	}
)

// opDescriptor is a sched.Operation without its functions: what the host
// needs to plan and lock, plus the token that names the pending operation
// inside the plugin process.
type opDescriptor struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Token is opaque to the host; it is valid only in the process that
	// issued it.
	Token     string         `json:"token"`
	Priority  int            `json:"priority,omitempty"`
	Resources []wireResource `json:"resources"`
	// Dependencies are IDs of other operations in the same answer.
	Dependencies []string `json:"dependencies,omitempty"`
	HasRollback  bool     `json:"has_rollback"`
	// TimeoutMS is the operation's own per-attempt bound (0: none).
	TimeoutMS int64 `json:"timeout_ms,omitempty"`
}

// wireResource is a sched.Resource: Key is sched.Key.String, Mode is
// "shared" or "exclusive".
type wireResource struct {
	Key  string `json:"key"`
	Mode string `json:"mode"`
}

func (d opDescriptor) timeout() time.Duration { return time.Duration(d.TimeoutMS) * time.Millisecond }

// Error codes on the wire, one per plugin sentinel.
const (
	codeNotFound     = "not_found"
	codeExists       = "exists"
	codeNoSpace      = "no_space"
	codeInvalid      = "invalid"
	codeNotSupported = "not_supported"
	codeInUse        = "in_use"
	codeBackend      = "backend"
	codeUnknownToken = "unknown_token"
	codeCanceled     = "canceled"
	codeDeadline     = "deadline_exceeded"
)

// wireError is a backend error in transit. Invalid and Unavailable carry
// the fields of *plugin.InvalidError and *plugin.UnavailableError so that
// the host rebuilds the same typed error.
type wireError struct {
	Code        string           `json:"code"`
	Message     string           `json:"message"`
	Invalid     *wireInvalid     `json:"invalid,omitempty"`
	Unavailable *wireUnavailable `json:"unavailable,omitempty"`
}

type wireInvalid struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

type wireUnavailable struct {
	Backend     string `json:"backend"`
	Technology  string `json:"technology"`
	Mode        string `json:"mode"`
	Reason      string `json:"reason"`
	MissingTool string `json:"missing_tool,omitempty"`
}
