// Package partsafety connects blockdev/partition to the safety package:
// the write-ahead journal (intent and before-images before the first write,
// roll-forward of an interrupted write at recovery) and the preflight
// (editing a partition that is mounted, swap or held is refused with the
// reasons; editing another partition of the same disk is allowed).
//
// It is a separate package, above safety and beside the root package that
// composes everything, so that nothing under blockdev depends on safety
// (which depends on blockdev): the partition package only knows its small
// Journal interface.
//
// A typical edit:
//
//	j, _ := safety.OpenJournal(ctx, safety.WithStateDir(dir), partsafety.RollForward())
//	d, _ := partition.Open(ctx, "/dev/sdb", partition.WithJournal(partsafety.Journal(j)))
//	t, _ := d.Read(ctx)
//	t.Resize(2, partition.Size{Rest: true})
//	if err := partsafety.Preflight(ctx, d, t); err != nil { ... } // reasons in err
//	d.Write(ctx, t)
//	d.SyncKernel(ctx, t)
//
// After a crash, j.Recover(ctx) finishes the write (every step is re-applied;
// writing the same bytes again is idempotent), or puts the before-images back
// when the target can no longer be written.
package partsafety
