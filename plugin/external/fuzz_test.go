package external

import "testing"

// FuzzAnswers feeds arbitrary bytes to the decoding and checking of every
// answer kind: it must end in a value or a typed error (ErrMalformed for
// anything the checks reject), never a panic.
func FuzzAnswers(f *testing.F) {
	seeds := []string{
		`{"operations":[{"id":"a","kind":"k","token":"t","resources":[{"key":"vg:x/lv:y","mode":"exclusive"}],"has_rollback":true}]}`,
		`{"operations":[{"id":"a","token":"t","resources":[{"key":"a//b","mode":"shared"}]}]}`,
		`{"operations":[{"id":"a","token":"t","dependencies":["a"]}]}`,
		`{"volumes":[{"id":"mem/a","pool":"mem","size_bytes":-1}]}`,
		`{"capabilities":[{"technology":"teleport","mode":"create"}]}`,
		`{"pools":[{"name":"p","capacity_bytes":1,"free_bytes":2}]}`,
		`{"snapshots":[{"id":"s","source_id":"v","size_bytes":3}]}`,
		`{"error":{"code":"invalid","message":"m","invalid":{"field":"name"}}}`,
		`{"name":"x","limits":{"max_name_len":-3}}`,
		`{"volumes": [`, "\x00", `null`, `[]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	b := &Backend{name: "fuzz"}
	c := jsonCodec{}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ops opsResponse
		if c.Unmarshal(data, &ops) == nil {
			if got, err := b.operations(&proc{}, ops.Operations); err == nil {
				for _, op := range got {
					for _, r := range op.Resources {
						if r.Mode != 1 && r.Mode != 2 {
							t.Fatalf("mode %v accepted", r.Mode)
						}
					}
				}
			}
			_ = b.remote("x", ops.Error)
		}
		var v volumesResponse
		if c.Unmarshal(data, &v) == nil {
			if checkVolumes(v.Volumes, "") == nil {
				for _, x := range v.Volumes {
					if x.SizeBytes < 0 || x.ID == "" {
						t.Fatalf("bad volume accepted: %+v", x)
					}
				}
			}
		}
		var cp capabilitiesResponse
		if c.Unmarshal(data, &cp) == nil && checkCapabilities(cp.Capabilities) == nil {
			for _, x := range cp.Capabilities {
				if !knownTech[x.Technology] || !knownMode[x.Mode] {
					t.Fatalf("bad capability accepted: %+v", x)
				}
			}
		}
		var p poolsResponse
		if c.Unmarshal(data, &p) == nil {
			_ = checkPools(p.Pools)
		}
		var s snapshotsResponse
		if c.Unmarshal(data, &s) == nil {
			_ = checkSnapshots(s.Snapshots, "v")
		}
		var d describeResponse
		if c.Unmarshal(data, &d) == nil {
			_ = checkDescribe(&d)
		}
		var ev executeEvent
		_ = c.Unmarshal(data, &ev)
		_, _, _, _ = parseHCLogLine(data)
	})
}
