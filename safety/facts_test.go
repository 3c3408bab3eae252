package safety

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func clean() *Facts {
	return &Facts{Path: "/dev/sdx", Exists: true, IsBlock: true, MajMin: "8:16", Size: 1 << 30}
}

func TestEvaluateRules(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		op    Op
		mod   func(*Facts)
		want  []Code
		notes bool
	}{
		{"clean", OpFormat, func(*Facts) {}, nil, false},
		{"missing", OpFormat, func(f *Facts) { f.Exists = false }, []Code{CodeNotFound}, false},
		{"file", OpFormat, func(f *Facts) { f.IsBlock = false }, []Code{CodeNotBlockDevice}, false},
		{"stat failed", OpFormat, func(f *Facts) { f.IsBlock, f.Unreadable = false, "stat: EACCES" }, []Code{CodeUnreadable}, false},
		{"mounted partition", OpPartition, func(f *Facts) {
			f.Mounts = []MountFact{{Device: "/dev/sdx1", MountPoint: "/srv"}}
		}, []Code{CodeMounted}, false},
		{"swap", OpWipe, func(f *Facts) { f.Swap = []string{"/dev/sdx2"} }, []Code{CodeSwapActive}, false},
		{"holders", OpResize, func(f *Facts) { f.Holders = []string{"dm-0 (vg-lv, lvm)"} }, []Code{CodeHasHolders}, false},
		{"busy", OpFormat, func(f *Facts) { f.Busy = true }, []Code{CodeInUse}, false},
		{"protected", OpWipe, func(f *Facts) { f.Protected = []string{"/ is mounted from /dev/sdx2"} }, []Code{CodeProtected}, false},
		{"ro", OpFormat, func(f *Facts) { f.ReadOnly = true }, []Code{CodeReadOnly}, false},
		{"fs on format", OpFormat, func(f *Facts) { f.Signatures = []Signature{{Type: "xfs", Offset: 0}} }, []Code{CodeNotEmpty}, false},
		{"fs on wipe is a note", OpWipe, func(f *Facts) { f.Signatures = []Signature{{Type: "xfs", Offset: 0}} }, nil, true},
		{"table", OpPartition, func(f *Facts) { f.PartTable = "gpt" }, []Code{CodeNotEmpty}, false},
		{"ambiguous", OpFormat, func(f *Facts) { f.Ambiguous = []string{"ext4", "xfs"} }, []Code{CodeNotEmpty}, false},
		{"kernel partitions", OpFormat, func(f *Facts) { f.Partitions = []string{"/dev/sdx1"} }, []Code{CodeNotEmpty}, false},
		{"unreadable is not empty", OpFormat, func(f *Facts) { f.Unreadable = "EIO" }, []Code{CodeUnreadable}, false},
		{"too small", OpPartition, func(f *Facts) { f.Size = 4096 }, []Code{CodeTooSmall}, false},
		{"zero size wipe", OpWipe, func(f *Facts) { f.Size = 0 }, []Code{CodeTooSmall}, false},
		{"lvm", OpWipe, func(f *Facts) { f.LVMMember = []string{"label"} }, []Code{CodeLVMMember}, false},
		{"md", OpWipe, func(f *Facts) { f.MDMember = []string{"sb"} }, []Code{CodeMDMember}, false},
		{"tools", OpFormat, func(f *Facts) { f.MissingTools = []string{"mkfs.zfs"} }, []Code{CodeToolMissing}, false},
		{"pending", OpWipe, func(f *Facts) { f.Pending = []string{"mutation m (x) interrupted"} }, []Code{CodePendingRecovery}, false},
		{"locked", OpResize, func(f *Facts) { f.Lockdown = &Lockdown{Reason: "undo failed"} }, []Code{CodeLockedDown}, false},
		{"online: mounted and held is expected", OpOnline, func(f *Facts) {
			f.Mounts = []MountFact{{Device: "/dev/sdx", MountPoint: "/srv"}}
			f.Busy = true
			f.Signatures = []Signature{{Type: "ext4"}}
		}, nil, true},
		{"online: everything else refuses", OpOnline, func(f *Facts) {
			f.Mounts = []MountFact{{Device: "/dev/sdx", MountPoint: "/"}}
			f.Busy = true
			f.Protected = []string{"/ is mounted from /dev/sdx"}
			f.ReadOnly = true
			f.Lockdown = &Lockdown{Reason: "undo failed"}
			f.Pending = []string{"mutation m (x) interrupted"}
		}, []Code{CodeLockedDown, CodePendingRecovery, CodeProtected, CodeReadOnly}, false},
		{"everything at once", OpFormat, func(f *Facts) {
			f.Mounts = []MountFact{{Device: "/dev/sdx", MountPoint: "/"}}
			f.Busy = true
			f.Signatures = []Signature{{Type: "ext4"}}
			f.Protected = []string{"/"}
		}, []Code{CodeMounted, CodeInUse, CodeProtected, CodeNotEmpty}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := clean()
			tc.mod(f)
			r, err := Evaluate(ctx, f, tc.op)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Codes(); !slices.Equal(got, tc.want) {
				t.Fatalf("codes %v, want %v\n%s", got, tc.want, r)
			}
			if r.Allowed != (len(tc.want) == 0) {
				t.Fatalf("allowed %v with %v", r.Allowed, tc.want)
			}
			if (len(r.Notes) > 0) != tc.notes {
				t.Fatalf("notes %v", r.Notes)
			}
			for _, x := range r.Reasons {
				if x.Message == "" {
					t.Fatalf("%s without a sentence", x.Code)
				}
			}
			if !r.Allowed && !errors.Is(r.Err(), ErrUnsafe) {
				t.Fatal("refusal error does not match ErrUnsafe")
			}
		})
	}
}

func TestOverridesArePerReason(t *testing.T) {
	ctx := context.Background()
	f := clean()
	f.Signatures = []Signature{{Type: "ext4"}}
	f.Busy = true
	r, err := Evaluate(ctx, f, OpFormat, WithOverride(CodeNotEmpty, "scratch disk, re-format on purpose", "ops"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Allowed || !slices.Equal(r.Codes(), []Code{CodeInUse}) || !r.Has(CodeNotEmpty) {
		t.Fatalf("one override let through more than its code:\n%s", r)
	}
	r, _ = Evaluate(ctx, f, OpFormat, WithOverride(CodeNotEmpty, "x", ""), WithOverride(CodeInUse, "y", ""))
	if !r.Allowed || !strings.Contains(r.String(), "overridden") {
		t.Fatalf("both overridden but refused:\n%s", r)
	}
	for _, c := range []Code{CodeNotFound, CodeNotBlockDevice, CodeReadOnly, CodeToolMissing, CodeLockedDown, CodePendingRecovery} {
		if _, err := Evaluate(ctx, f, OpFormat, WithOverride(c, "please", "")); !errors.Is(err, ErrInvalid) {
			t.Errorf("override of %s accepted", c)
		}
	}
	if _, err := Evaluate(ctx, f, OpFormat, WithOverride(CodeMounted, "", "")); !errors.Is(err, ErrInvalid) {
		t.Error("override without reason accepted")
	}
}

func TestCallerChecksAndOptions(t *testing.T) {
	ctx := context.Background()
	health := func(_ context.Context, f *Facts, op Op) []Reason {
		return []Reason{{Code: "unhealthy", Message: "SMART says the drive is failing", Evidence: []string{f.Path}}}
	}
	r, err := Evaluate(ctx, clean(), OpFormat, WithCheck(health), WithMinSize(2<<30))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Codes(), []Code{CodeTooSmall, "unhealthy"}) {
		t.Fatalf("%v", r.Codes())
	}
	if _, err := Evaluate(ctx, clean(), "mkfs"); !errors.Is(err, ErrInvalid) {
		t.Fatal("unknown op accepted")
	}
	for i, o := range []CheckOption{WithCheck(nil), WithMinSize(0), WithTools("a/b"), WithProtected(""),
		WithJournal(nil), WithReader(nil), WithProbeTimeout(0), WithRoot("/nonexistent-root")} {
		if _, err := Evaluate(ctx, clean(), OpFormat, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("option %d: %v", i, err)
		}
	}
	if _, err := Evaluate(ctx, nil, OpFormat); !errors.Is(err, ErrInvalid) {
		t.Fatal("nil facts")
	}
}
