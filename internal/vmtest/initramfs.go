package vmtest

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// tree is the guest's initramfs before it is written: guest path to entry.
// Parents are added implicitly, so callers name only what they care about,
// and the archive is written in sorted order so every directory precedes
// its contents (the kernel's unpacker does not create missing parents).
type tree struct {
	entries map[string]*node
}

type nodeKind int

const (
	kindDir nodeKind = iota
	kindData
	kindHost
	kindLink
	kindChar
)

type node struct {
	kind         nodeKind
	perm         fs.FileMode
	data         []byte // kindData
	src          string // kindHost: host file to copy
	target       string // kindLink
	major, minor uint32 // kindChar
}

func newTree() *tree { return &tree{entries: map[string]*node{}} }

// clean turns a guest path into the archive's relative form ("bin/sh").
func clean(p string) string {
	return strings.TrimPrefix(path.Clean("/"+p), "/")
}

func (t *tree) parents(p string) {
	for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if _, ok := t.entries[d]; !ok {
			t.entries[d] = &node{kind: kindDir, perm: 0o755}
		}
	}
}

func (t *tree) put(p string, n *node) {
	p = clean(p)
	if p == "" {
		return
	}
	t.parents(p)
	t.entries[p] = n
}

func (t *tree) Dir(p string) { t.put(p, &node{kind: kindDir, perm: 0o755}) }
func (t *tree) Data(p string, b []byte, perm fs.FileMode) {
	t.put(p, &node{kind: kindData, perm: perm, data: b})
}
func (t *tree) Host(p, src string, perm fs.FileMode) {
	t.put(p, &node{kind: kindHost, perm: perm, src: src})
}
func (t *tree) Link(p, target string) { t.put(p, &node{kind: kindLink, target: target}) }
func (t *tree) Char(p string, perm fs.FileMode, major, minor uint32) {
	t.put(p, &node{kind: kindChar, perm: perm, major: major, minor: minor})
}

// HostTree copies a host directory under guest directory dst, keeping
// regular files and symlinks.
func (t *tree) HostTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		g := path.Join(dst, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			t.Dir(g)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			t.Link(g, target)
		case d.Type().IsRegular():
			t.Host(g, p, 0o644)
		}
		return nil
	})
}

// WriteTo writes the tree as a newc archive.
func (t *tree) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	names := make([]string, 0, len(t.entries))
	for p := range t.entries {
		names = append(names, p)
	}
	sort.Strings(names)
	cw := newCPIOWriter(bw)
	for _, p := range names {
		n := t.entries[p]
		var err error
		switch n.kind {
		case kindDir:
			err = cw.Dir(p, n.perm)
		case kindData:
			err = cw.File(p, n.perm, int64(len(n.data)), strings.NewReader(string(n.data)))
		case kindHost:
			err = copyHost(cw, p, n)
		case kindLink:
			err = cw.Symlink(p, n.target)
		case kindChar:
			err = cw.CharDev(p, n.perm, n.major, n.minor)
		}
		if err != nil {
			return cw.off, err
		}
	}
	if err := cw.Close(); err != nil {
		return cw.off, err
	}
	return cw.off, bw.Flush()
}

func copyHost(cw *cpioWriter, p string, n *node) error {
	f, err := os.Open(n.src)
	if err != nil {
		return fmt.Errorf("vmtest: initramfs %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("vmtest: initramfs %s: %s is not a regular file", p, n.src)
	}
	perm := n.perm
	if fi.Mode()&0o111 != 0 {
		perm |= 0o755
	}
	return cw.File(p, perm, fi.Size(), f)
}
