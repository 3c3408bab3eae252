package safety

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"pgregory.net/rapid"
)

// fillParams is the intent of the model's mutations: every test range
// filled with one byte.
type fillParams struct {
	Fill byte `json:"fill"`
}

func fillRange(path string, r Range, fill byte) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteAt(bytes.Repeat([]byte{fill}, int(r.Length)), r.Offset)
	return err
}

func fillForward(_ context.Context, e Entry) error {
	var p fillParams
	if err := json.Unmarshal(e.Intent.Params, &p); err != nil {
		return err
	}
	for _, r := range e.Intent.Ranges {
		if err := fillRange(e.Intent.Target.Path, r, p.Fill); err != nil {
			return err
		}
	}
	return nil
}

type modelTarget struct {
	path    string
	id      Identity
	content []byte // what the file must hold
	before  []byte // content when the running or interrupted mutation began
	m       *Mutation
	fill    byte
	written int  // ranges the running mutation wrote
	pending bool // interrupted: a crash left it without outcome
	fwd     bool // its op kind rolls forward
}

// TestJournalModel drives the journal with random sequences of begin,
// write, step, done, undo, crash (close without outcome), reopen, recover
// and compact over three targets, and checks after every action that each
// target holds exactly what a model says and the journal agrees on what is
// interrupted.
func TestJournalModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		dir := t.TempDir()
		opts := []Option{WithStateDir(dir), WithRetention(2), WithCompactAt(0), WithRollForward("fwd", fillForward)}
		j, err := OpenJournal(ctx, opts...)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { j.Close() }()
		var ts []*modelTarget
		for i := 0; i < 3; i++ {
			path, id, old := target(t, 32768)
			ts = append(ts, &modelTarget{path: path, id: id, content: old})
		}
		fill := byte(1)
		check := func(what string) {
			for i, x := range ts {
				got := mustRead(t, x.path)
				if !bytes.Equal(got, x.content) {
					rt.Fatalf("after %s: target %d content differs from the model", what, i)
				}
			}
			pending := 0
			for _, x := range ts {
				if x.pending {
					pending++
				}
			}
			if n := len(j.Interrupted()); n != pending {
				rt.Fatalf("after %s: journal has %d interrupted, model %d", what, n, pending)
			}
		}
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for s := 0; s < steps; s++ {
			x := ts[rapid.IntRange(0, len(ts)-1).Draw(rt, "target")]
			action := rapid.SampledFrom([]string{"begin", "write", "done", "undo", "crash", "recover", "compact"}).Draw(rt, "action")
			switch action {
			case "begin":
				if x.m != nil {
					continue
				}
				op := rapid.SampledFrom([]string{"fwd", "back"}).Draw(rt, "op")
				p, _ := json.Marshal(fillParams{Fill: fill})
				m, err := j.Begin(ctx, Intent{Op: op, Target: x.id, Ranges: testRanges, Params: p})
				if x.pending {
					if err == nil {
						rt.Fatal("Begin accepted a target awaiting recovery")
					}
					continue
				}
				if err != nil {
					rt.Fatal(err)
				}
				x.m, x.fill, x.written, x.before, x.fwd = m, fill, 0, append([]byte(nil), x.content...), op == "fwd"
				fill++
			case "write":
				if x.m == nil || x.written == len(testRanges) {
					continue
				}
				r := testRanges[x.written]
				if err := fillRange(x.path, r, x.fill); err != nil {
					rt.Fatal(err)
				}
				copy(x.content[r.Offset:r.Offset+r.Length], bytes.Repeat([]byte{x.fill}, int(r.Length)))
				x.written++
				if err := x.m.Step(ctx, fmt.Sprint("range", x.written), ""); err != nil {
					rt.Fatal(err)
				}
			case "done":
				if x.m == nil {
					continue
				}
				if err := x.m.Done(ctx); err != nil {
					rt.Fatal(err)
				}
				x.m = nil
			case "undo":
				if x.m == nil {
					continue
				}
				if o, err := x.m.Undo(ctx, nil, nil); err != nil || o != OutcomeRolledBack {
					rt.Fatalf("undo: %v %v", o, err)
				}
				x.content, x.m = x.before, nil
			case "crash":
				j.Close()
				for _, y := range ts {
					if y.m != nil {
						y.m, y.pending = nil, true
					}
				}
				if j, err = OpenJournal(ctx, opts...); err != nil {
					rt.Fatal(err)
				}
			case "recover":
				if _, err := j.Recover(ctx); err != nil {
					rt.Fatal(err)
				}
				for _, y := range ts {
					if !y.pending {
						continue
					}
					y.pending = false
					if y.fwd {
						for _, r := range testRanges {
							copy(y.content[r.Offset:r.Offset+r.Length], bytes.Repeat([]byte{y.fill}, int(r.Length)))
						}
					} else {
						y.content = y.before
					}
				}
			case "compact":
				if _, err := j.Compact(ctx); err != nil {
					rt.Fatal(err)
				}
			}
			check(action)
		}
	})
}
