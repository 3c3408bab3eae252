package probe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// imageCase is a synthetic image and the answer worked out by hand for it
// (nil: nothing found).
type imageCase struct {
	name string
	img  []byte
	want *Result
}

// checkImages probes each image in memory against its hand-worked answer,
// then writes it to a file and checks that blkid -p says the same: that
// proves the synthetic builders are faithful and covers corners no tool
// makes.
func checkImages(t *testing.T, cases []imageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = &Result{}
			}
			if diff := cmp.Diff(want, probeBytes(t, tc.img)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			compareWithBlkid(t, writeImage(t, "case.img", tc.img))
		})
	}
}
