// Package plugintest is the conformance suite every plugin.Backend runs,
// and Memory, an in-memory reference backend.
//
// Run exercises every capability the backend declares available on the
// pool it is given: create (thick, and thin with TechThin), resize up, and
// down with TechShrink, snapshots, clones, delete; idempotent repeats (the
// same create or delete again returns no operations); a conflicting repeat
// is ErrExists; names at Limits.MaxNameLen are accepted and one longer, and
// empty, ".", "..", "/", NUL, leading '-' and characters outside NameChars
// are ErrInvalid before anything runs; sizes of zero or below are
// ErrInvalid, beyond the pool ErrNoSpace; concurrent creates of distinct
// volumes through plugin.Apply all succeed and list; Volume, Volumes and
// Pools agree, with sizes rounded up to Granularity; data in a block
// volume's Device or a directory volume's Path survives a grow. A
// capability declared unavailable must be refused with ErrNotSupported. A
// capability declared but broken fails the suite: nothing skips.
//
// The suite's volumes are named "pt-<check>-..." and removed after each
// check, clones first, then snapshots, then volumes.
//
// # Tests
//
// The self-test runs the suite against Memory (with every technology, and
// with some turned off) and against deliberately broken variants (snapshots
// declared but failing, sizes not rounded, repeats not idempotent, a shrink
// done though declared unavailable, bad names accepted) and asserts that
// the checks concerned fail.
package plugintest
