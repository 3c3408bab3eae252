package lvm

import (
	"context"
	"errors"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// PoolGrower extends a thin pool. dataBytes and metaBytes are the new sizes
// of the pool's data and metadata (0 keeps one); the policy never asks for
// less than the current size. The lifecycle Manager implements it as a
// guarded operation (ThinPoolExtendOp); ToolGrower runs lvextend directly.
type PoolGrower interface {
	GrowPool(ctx context.Context, vg, pool string, dataBytes, metaBytes int64) error
}

// FullModeSetter switches a pool's behaviour when full. A PoolGrower that
// also implements it lets the policy switch a pool that can no longer grow
// to error-when-full (lvchange --errorwhenfull y).
type FullModeSetter interface {
	SetErrorWhenFull(ctx context.Context, vg, pool string, on bool) error
}

// ToolGrower runs lvextend and lvchange through a Tool: the data as
// `lvextend -L <bytes>b vg/pool`, the metadata as `lvextend
// --poolmetadatasize <bytes>b vg/pool`, each a separate command (lvm
// resizes one of them per command). It is not a guarded operation: no
// journal, no before-image; use the Manager for that.
type ToolGrower struct{ t *Tool }

// NewToolGrower grows pools through t.
func NewToolGrower(t *Tool) (*ToolGrower, error) {
	if t == nil {
		return nil, errors.New("lvm: nil tool")
	}
	return &ToolGrower{t: t}, nil
}

// GrowPool implements PoolGrower. The metadata is grown first: running out
// of it is the failure that needs an offline repair (lvmthin(7), "Metadata
// space exhaustion").
func (g *ToolGrower) GrowPool(ctx context.Context, vg, pool string, dataBytes, metaBytes int64) error {
	if dataBytes < 0 || metaBytes < 0 {
		return errors.New("lvm: negative pool size")
	}
	lv := vg + "/" + pool
	if metaBytes > 0 {
		if err := g.t.policyRun(ctx, "lvextend", "--poolmetadatasize", strconv.FormatInt(metaBytes, 10)+"b", lv); err != nil {
			return err
		}
	}
	if dataBytes > 0 {
		if err := g.t.policyRun(ctx, "lvextend", "-L", strconv.FormatInt(dataBytes, 10)+"b", lv); err != nil {
			return err
		}
	}
	return nil
}

// SetErrorWhenFull implements FullModeSetter.
func (g *ToolGrower) SetErrorWhenFull(ctx context.Context, vg, pool string, on bool) error {
	v := "n"
	if on {
		v = "y"
	}
	return g.t.policyRun(ctx, "lvchange", "--errorwhenfull", v, vg+"/"+pool)
}

// policyRun runs one mutating lvm command with the Tool's scope and config
// and returns its typed *Error on failure. --reportformat json puts the
// command log (where lvm 2.03.26+ writes its errors) on stdout as JSON.
func (t *Tool) policyRun(ctx context.Context, sub string, args ...string) error {
	argv := t.argv(sub, append([]string{"--reportformat", "json"}, args...)...)
	res, err := t.r.Run(ctx, command.Cmd{Tool: "lvm", Args: argv, Env: t.env()})
	if err == nil {
		return nil
	}
	if res == nil {
		return err
	}
	rep, _ := parseJSONReport(res.Stdout)
	return t.lvmError(argv, res, rep, err)
}
