package uevent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Action is what happened to a device, as the kernel names it.
type Action string

// The actions the kernel sends (lib/kobject_uevent.c).
const (
	ActionAdd     Action = "add"
	ActionRemove  Action = "remove"
	ActionChange  Action = "change"
	ActionMove    Action = "move"
	ActionOnline  Action = "online"
	ActionOffline Action = "offline"
	ActionBind    Action = "bind"
	ActionUnbind  Action = "unbind"
)

// Known reports whether a is one of the kernel's actions.
func (a Action) Known() bool {
	switch a {
	case ActionAdd, ActionRemove, ActionChange, ActionMove, ActionOnline, ActionOffline, ActionBind, ActionUnbind:
		return true
	}
	return false
}

// Event is one uevent. The typed fields are parsed from Env, which keeps
// every KEY=VALUE pair the message carried.
type Event struct {
	Action    Action
	DevPath   string // sysfs path below /sys, e.g. /devices/virtual/block/loop0
	Subsystem string // "block", "net", ...
	DevType   string // "disk" or "partition" for block devices
	DevName   string // node name below /dev, e.g. "loop0"
	// Major and Minor are valid when HasDevNum is true.
	Major, Minor uint32
	HasDevNum    bool
	DiskSeq      uint64 // DISKSEQ (kernel 5.15+), 0 when absent
	Seqnum       uint64 // SEQNUM, the kernel's event counter
	// FromUdev is true for a message re-broadcast by udevd (libudev format)
	// rather than sent by the kernel.
	FromUdev bool
	Env      map[string]string
}

// MajMin is "major:minor", or "" when the event names no device number.
func (e Event) MajMin() string {
	if !e.HasDevNum {
		return ""
	}
	return fmt.Sprintf("%d:%d", e.Major, e.Minor)
}

// ErrMalformed marks a message that is not a well-formed uevent.
var ErrMalformed = errors.New("uevent: malformed message")

// maxMessage bounds what Parse accepts; the kernel's own limit is 2 KiB of
// environment plus the header, udev's is 8 KiB.
const maxMessage = 64 << 10

// libudev header, as udevd sends on its own netlink group.
const (
	udevPrefix    = "libudev\x00"
	udevMagic     = 0xfeedcafe
	udevHeaderMin = 40
)

// Parse decodes one netlink datagram: the kernel format
// "ACTION@DEVPATH\0KEY=VALUE\0..." or udevd's libudev format (a binary
// header, then KEY=VALUE pairs). Anything else is ErrMalformed.
func Parse(msg []byte) (Event, error) {
	if len(msg) == 0 || len(msg) > maxMessage {
		return Event{}, fmt.Errorf("%w: length %d", ErrMalformed, len(msg))
	}
	if bytes.HasPrefix(msg, []byte(udevPrefix)) {
		return parseUdev(msg)
	}
	head, rest, ok := bytes.Cut(msg, []byte{0})
	if !ok {
		rest = nil
	}
	action, devpath, ok := strings.Cut(string(head), "@")
	if !ok || action == "" || devpath == "" {
		return Event{}, fmt.Errorf("%w: header %q", ErrMalformed, truncate(head))
	}
	e, err := fromEnv(rest)
	if err != nil {
		return Event{}, err
	}
	// The header and the environment say the same thing twice; a message
	// where they disagree was not written by the kernel.
	if a, ok := e.Env["ACTION"]; ok && a != action {
		return Event{}, fmt.Errorf("%w: header action %q, ACTION=%q", ErrMalformed, action, a)
	}
	if p, ok := e.Env["DEVPATH"]; ok && p != devpath {
		return Event{}, fmt.Errorf("%w: header devpath %q, DEVPATH=%q", ErrMalformed, devpath, p)
	}
	e.Action, e.DevPath = Action(action), devpath
	return e, nil
}

func parseUdev(msg []byte) (Event, error) {
	if len(msg) < udevHeaderMin {
		return Event{}, fmt.Errorf("%w: short libudev header", ErrMalformed)
	}
	// The magic is stored in network byte order; the offsets are native
	// (little endian on every architecture this library builds for).
	if binary.BigEndian.Uint32(msg[8:]) != udevMagic {
		return Event{}, fmt.Errorf("%w: libudev magic", ErrMalformed)
	}
	hdrSize, off, n := binary.LittleEndian.Uint32(msg[12:]), binary.LittleEndian.Uint32(msg[16:]), binary.LittleEndian.Uint32(msg[20:])
	if hdrSize < udevHeaderMin || uint64(off)+uint64(n) > uint64(len(msg)) || off < hdrSize {
		return Event{}, fmt.Errorf("%w: libudev offsets", ErrMalformed)
	}
	e, err := fromEnv(msg[off : off+n])
	if err != nil {
		return Event{}, err
	}
	e.FromUdev = true
	e.Action, e.DevPath = Action(e.Env["ACTION"]), e.Env["DEVPATH"]
	if e.Action == "" || e.DevPath == "" {
		return Event{}, fmt.Errorf("%w: libudev message without ACTION or DEVPATH", ErrMalformed)
	}
	return e, nil
}

func fromEnv(b []byte) (Event, error) {
	e := Event{Env: map[string]string{}}
	for len(b) > 0 {
		var kv []byte
		kv, b, _ = bytes.Cut(b, []byte{0})
		if len(kv) == 0 {
			continue // trailing NULs
		}
		k, v, ok := strings.Cut(string(kv), "=")
		if !ok || k == "" {
			return Event{}, fmt.Errorf("%w: field %q", ErrMalformed, truncate(kv))
		}
		e.Env[k] = v
	}
	e.Subsystem, e.DevType, e.DevName = e.Env["SUBSYSTEM"], e.Env["DEVTYPE"], e.Env["DEVNAME"]
	var err error
	num := func(key string, bits int) uint64 {
		v, ok := e.Env[key]
		if !ok || err != nil {
			return 0
		}
		n, perr := strconv.ParseUint(v, 10, bits)
		if perr != nil {
			err = fmt.Errorf("%w: %s=%q", ErrMalformed, key, v)
		}
		return n
	}
	_, hasMaj := e.Env["MAJOR"]
	_, hasMin := e.Env["MINOR"]
	e.Major, e.Minor = uint32(num("MAJOR", 32)), uint32(num("MINOR", 32))
	e.HasDevNum = hasMaj && hasMin
	e.DiskSeq, e.Seqnum = num("DISKSEQ", 64), num("SEQNUM", 64)
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

// Marshal encodes e in the kernel's format, from Action, DevPath and Env
// (the typed fields are not re-encoded: Env is the source of truth). Fakes
// and tests use it to make messages Parse accepts.
func Marshal(e Event) []byte {
	var b bytes.Buffer
	b.WriteString(string(e.Action) + "@" + e.DevPath)
	b.WriteByte(0)
	env := map[string]string{"ACTION": string(e.Action), "DEVPATH": e.DevPath}
	for k, v := range e.Env {
		env[k] = v
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + "=" + env[k])
		b.WriteByte(0)
	}
	return b.Bytes()
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}
