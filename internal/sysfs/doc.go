// Package sysfs is the one root seam of eos-storage (DESIGN.md principle 1).
//
// Every path the library reads under /sys, /proc, /dev and /run is built from a
// Root value, passed explicitly. A Root for "/" reads the live system; a Root for
// any other directory reads a fake tree laid out the same way (DIR/sys, DIR/proc,
// DIR/dev, DIR/run), which is what makes fake-tree tests, lsblk-style --sysroot
// and containers work. There is no global and no context value.
//
// ReadAttr is the bounded, single-read attribute reader used for sysfs files: it
// never reads more than a page, so a huge or endless file cannot stall or bloat
// discovery.
package sysfs
