// Package uevent reads the kernel's device events (uevents) from the
// NETLINK_KOBJECT_UEVENT socket: a device was added, removed or changed,
// with its sysfs path, subsystem, device number and the rest of the
// environment the kernel sends.
//
// Listen opens the socket on the kernel's multicast group 1, which needs no
// privilege and no udev daemon (these machines have none). Conn.Next
// returns one typed Event at a time, optionally filtered by subsystem
// (WithSubsystem("block")). Parse decodes one raw datagram and is usable on
// its own; Marshal is its inverse for tests.
//
// Lifecycle: a Conn owns a socket and an eventfd. Next blocks in poll(2) on
// both; cancelling Next's context or calling Close writes the eventfd, so a
// blocked Next returns at once and no goroutine is left behind. Close waits
// for a Next in progress to leave the descriptors before closing them, so a
// descriptor number is never reused under a reader.
//
// The kernel drops events when the receive buffer is full; Next then
// returns ErrOverrun once and carries on. A consumer keeping a device graph
// must treat that as "rescan": events are deltas, and a lost delta cannot
// be recovered from the stream.
//
// Messages from any sender but the kernel (netlink port 0) are ignored, and
// messages in udevd's libudev format (which group 1 never carries) are
// dropped unless WithUdevMessages is given. FakeSource feeds a Conn from a
// test without a socket.
package uevent
