package sysfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Root locates /sys, /proc, /dev and /run. The zero value reads the live system.
type Root struct {
	base string // "" means the live root "/"
}

// Live is the Root of the running system.
var Live = Root{}

// New returns a Root for dir. "" and "/" mean the live system. dir must exist.
func New(dir string) (Root, error) {
	if dir == "" || dir == "/" {
		return Root{}, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Root{}, fmt.Errorf("sysfs root %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Root{}, fmt.Errorf("sysfs root: %w", err)
	}
	if !fi.IsDir() {
		return Root{}, fmt.Errorf("sysfs root %q: not a directory", dir)
	}
	return Root{base: abs}, nil
}

// IsLive reports whether r reads the running system rather than a fake tree.
func (r Root) IsLive() bool { return r.base == "" }

// Dir is the directory standing for "/" ("/" for the live system).
func (r Root) Dir() string {
	if r.base == "" {
		return "/"
	}
	return r.base
}

// Path joins an absolute system path (such as "/sys/block") onto the root.
func (r Root) Path(abs string) string {
	if r.base == "" {
		return filepath.Clean("/" + abs)
	}
	return filepath.Join(r.base, abs)
}

func (r Root) join(top string, elem []string) string {
	p := make([]string, 0, len(elem)+2)
	p = append(p, r.Dir(), top)
	p = append(p, elem...)
	return filepath.Join(p...)
}

// Sys returns the path of /sys/elem... under the root.
func (r Root) Sys(elem ...string) string { return r.join("sys", elem) }

// Proc returns the path of /proc/elem... under the root.
func (r Root) Proc(elem ...string) string { return r.join("proc", elem) }

// Dev returns the path of /dev/elem... under the root.
func (r Root) Dev(elem ...string) string { return r.join("dev", elem) }

// Run returns the path of /run/elem... under the root.
func (r Root) Run(elem ...string) string { return r.join("run", elem) }

// MaxAttrSize bounds one attribute read. sysfs attributes are at most a page.
const MaxAttrSize = 4096

// ErrAttrTooLarge is returned when an attribute file holds more than MaxAttrSize bytes.
var ErrAttrTooLarge = errors.New("sysfs: attribute larger than one page")

// ReadAttr reads one attribute file with a single bounded read and returns it
// with surrounding white space trimmed. A file larger than MaxAttrSize is an
// error (ErrAttrTooLarge), never a partial value.
func ReadAttr(path string) (string, error) {
	var buf [MaxAttrSize + 1]byte
	n, err := readBounded(path, buf[:])
	if err != nil {
		return "", err
	}
	if n > MaxAttrSize {
		return "", &os.PathError{Op: "read", Path: path, Err: ErrAttrTooLarge}
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// readBounded fills buf from the start of path with as few reads as it takes
// (sysfs answers in one) and returns how many bytes it got.
func readBounded(path string, buf []byte) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
	}
	return n, nil
}
