// Package testenv holds the test-tier helpers every package's tests share.
//
// Tests that need root, a Debian tool, or a real loop device call the Require
// helpers. Normally they skip with the reason; when EOS_STORAGE_STRICT=1 (CI sets
// it through .ci/run) they fail instead, so a tier cannot silently stop running.
//
// Loop attaches a sparse image as a loop device and registers a cleanup that
// deletes every partition node added to it (the host kernel does not parse
// tables, and BLKPG partitions outlive losetup -d), unmounts anything mounted
// from it, and detaches it, even when the test fails.
package testenv
