package quota

import (
	"testing"
	"time"
)

// TestGuestCrashMatrix is the crash matrix of the journaled quota
// mutations only a kernel with ext4 and xfs quotas has: user, group and
// project limits and grace times on ext4 (usrquota,grpquota,prjquota) and
// xfs (uquota,gquota,pquota), and ext4 project ids. vmtest.TestGuestQuota
// runs it.
func TestGuestCrashMatrix(t *testing.T) {
	for _, fs := range []string{"ext4", "xfs"} {
		t.Run(fs, func(t *testing.T) {
			var mnt string
			if fs == "ext4" {
				mnt, _ = quotaExt4(t)
			} else {
				mnt, _ = quotaXFS(t)
			}
			m := newManager(t)
			for _, k := range []Kind{User, Group, Project} {
				t.Run("limits-"+k.String(), func(t *testing.T) {
					const id = 4321
					old, new := Limits{BlockSoft: 64 << 10, BlockHard: 128 << 10, InodeSoft: 10, InodeHard: 20}, Limits{BlockSoft: 1 << 20, BlockHard: 2 << 20, InodeSoft: 100, InodeHard: 200}
					reset := func(t *testing.T) {
						if err := m.SetLimits(bg, mnt, k, id, old); err != nil {
							t.Fatal(err)
						}
					}
					reset(t)
					runCrashMatrix(t, crashCase{
						name: fs + " set-limits " + k.String(),
						spec: crashSpec{Op: OpSetLimits, Target: mnt, Kind: k, ID: id, Limits: new},
						state: func(t *testing.T) string {
							u, err := m.Get(bg, mnt, k, id)
							if err != nil {
								t.Fatal(err)
							}
							return stateOf(u.Limits, old, new)
						},
						reset: reset,
					})
				})
				t.Run("grace-"+k.String(), func(t *testing.T) {
					old, new := Grace{Block: time.Hour, Inode: 2 * time.Hour}, Grace{Block: 3 * time.Hour, Inode: 4 * time.Hour}
					reset := func(t *testing.T) {
						if err := m.SetGrace(bg, mnt, k, old); err != nil {
							t.Fatal(err)
						}
					}
					reset(t)
					runCrashMatrix(t, crashCase{
						name: fs + " set-grace " + k.String(),
						spec: crashSpec{Op: OpSetGrace, Target: mnt, Kind: k, Grace: new},
						state: func(t *testing.T) string {
							g, err := m.GetGrace(bg, mnt, k)
							if err != nil {
								t.Fatal(err)
							}
							return stateOf(g, old, new)
						},
						reset: reset,
					})
				})
			}
			if fs == "ext4" {
				t.Run("project", func(t *testing.T) { projectMatrix(t, "ext4", mnt) })
			}
		})
	}
}
