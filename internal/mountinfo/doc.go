// Package mountinfo parses lines of /proc/<pid>/mountinfo (proc(5)) and
// decodes the kernel's octal escapes of mount paths, which /proc/mounts and
// /proc/swaps use too. blockdev (mounts of devices), perf (filesystem usage)
// and the test helpers share this one parser.
package mountinfo
