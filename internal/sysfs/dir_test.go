package sysfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("size", " 2048\n")
	write("queue/rotational", "1\n")
	write("page", strings.Repeat("x", MaxAttrSize))
	write("big", strings.Repeat("x", 3*MaxAttrSize))
	if err := os.Symlink("loop", filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../x/0:0:0:0", filepath.Join(dir, "device")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, err := d.ReadAttr("size"); err != nil || v != "2048" {
		t.Errorf("size = %q, %v", v, err)
	}
	if v, err := d.ReadAttr("queue/rotational"); err != nil || v != "1" {
		t.Errorf("queue/rotational = %q, %v", v, err)
	}
	if v, err := d.ReadAttr("page"); err != nil || len(v) != MaxAttrSize {
		t.Errorf("a full page: len %d, %v", len(v), err)
	}
	if _, err := d.ReadAttr("big"); !errors.Is(err, ErrAttrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if _, err := d.ReadAttr("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := d.ReadAttr("loop"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("loop: %v", err)
	}
	if _, err := d.ReadAttr("queue"); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("directory: %v", err)
	}
	if l, err := d.Readlink("device"); err != nil || l != "../../x/0:0:0:0" {
		t.Errorf("readlink = %q, %v", l, err)
	}
	q, err := d.Sub("queue")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := q.ReadAttr("rotational"); err != nil || v != "1" || q.Path() != filepath.Join(dir, "queue") {
		t.Errorf("sub: %q, %v, %s", v, err, q.Path())
	}
	q.Close()
	if _, err := d.Sub("size"); err == nil {
		t.Error("Sub on a file succeeded")
	}
	if !d.Exists("loop") || d.Exists("nothing") {
		t.Error("Exists wrong")
	}
	names, err := d.Names()
	slices.Sort(names)
	if err != nil || !slices.Equal(names, []string{"big", "device", "loop", "page", "queue", "size"}) {
		t.Errorf("names = %v, %v", names, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if _, err := OpenDir(filepath.Join(dir, "size")); err == nil {
		t.Error("OpenDir on a file succeeded")
	}
}

func TestDirLiveSysfs(t *testing.T) {
	d, err := OpenDir("/sys/block")
	if err != nil {
		t.Skip("no sysfs")
	}
	defer d.Close()
	names, err := d.Names()
	if err != nil || len(names) == 0 {
		t.Fatalf("names %v, %v", names, err)
	}
	if _, err := d.ReadAttr(names[0] + "/size"); err != nil {
		t.Errorf("%s/size: %v", names[0], err)
	}
}

// TestDirNamesTwice: the second listing must rewind; without it the
// directory is at its end and the listing comes back empty.
func TestDirNamesTwice(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range 3 {
		names, err := d.Names()
		slices.Sort(names)
		if err != nil || !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Errorf("listing %d: %v, %v", i+1, names, err)
		}
	}
}

// TestReadFile: whole files of any size, the same bytes os.ReadFile gives,
// and errors that match fs.ErrNotExist.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 4097, 300 << 10} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i*7 + i/251)
		}
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("size %d: got %d bytes, %v", size, len(got), err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadFile(dir); err == nil {
		t.Error("reading a directory succeeded")
	}
	if data, err := ReadFile("/proc/self/mountinfo"); err != nil || len(data) == 0 {
		t.Errorf("mountinfo: %d bytes, %v", len(data), err)
	}
}

// TestAttrRereads: an Attr read again sees the file's current content (of a
// file changed in place), and a closed Attr fails instead of reading a
// descriptor number the process may have reused.
func TestAttrRereads(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "size")
	if err := os.WriteFile(p, []byte("8192\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, err := d.OpenAttr("size")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Read(); err != nil || v != "8192" {
		t.Errorf("first read %q, %v", v, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("16\n")
	f.Close()
	if v, err := a.Read(); err != nil || v != "16" {
		t.Errorf("second read %q, %v, want the new value", v, err)
	}
	if err := os.WriteFile(p, []byte(strings.Repeat("x", MaxAttrSize+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Read(); !errors.Is(err, ErrAttrTooLarge) {
		t.Errorf("oversized: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Read(); err == nil {
		t.Error("read after close succeeded")
	}
	if _, err := d.OpenAttr("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// TestReadAttrRaw: only the newline that ends a value goes; padding stays,
// as util-linux's ul_path_read_string keeps it; the bound is ReadAttr's.
func TestReadAttrRaw(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"model":  "KINGSTON SKC1000240G                    \n",
		"vendor": "ATA     \n",
		"two":    "a\n\n",
		"none":   "  x",
		"empty":  "",
		"big":    strings.Repeat("x", MaxAttrSize+1),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for name, want := range map[string]string{
		"model": "KINGSTON SKC1000240G                    ", "vendor": "ATA     ", "two": "a\n", "none": "  x", "empty": "",
	} {
		if v, err := d.ReadAttrRaw(name); err != nil || v != want {
			t.Errorf("ReadAttrRaw(%s) = %q, %v; want %q", name, v, err, want)
		}
		a, err := d.OpenAttr(name)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := a.ReadRaw(); err != nil || v != want {
			t.Errorf("Attr(%s).ReadRaw = %q, %v; want %q", name, v, err, want)
		}
		if v, err := a.Read(); err != nil || v != strings.TrimSpace(want) {
			t.Errorf("Attr(%s).Read = %q, %v", name, v, err)
		}
		a.Close()
	}
	if _, err := d.ReadAttrRaw("big"); !errors.Is(err, ErrAttrTooLarge) {
		t.Errorf("big: %v", err)
	}
	if _, err := d.ReadAttrRaw("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
