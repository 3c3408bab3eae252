package btrfs

import (
	"errors"
	"os"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// seedItems adds every recorded item of testdata to f, and short and
// empty ones.
func seedItems(f *testing.F, typ uint32) {
	for _, name := range []string{"roottree.items", "quotatree.items", "devtree.items", "chunktree.items"} {
		raw, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		items, err := DecodeItems(raw)
		if err != nil {
			f.Fatal(err)
		}
		for _, it := range items {
			if typ == 0 || it.Type == typ {
				f.Add(it.Data)
				f.Add(it.Data[:len(it.Data)/2])
			}
		}
	}
	f.Add([]byte{})
	f.Add(make([]byte, 7))
}

func typed(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrMalformed) {
		t.Fatalf("untyped error %v", err)
	}
}

func FuzzParseRootItem(f *testing.F) {
	seedItems(f, fsioctl.BtrfsRootItemKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseRootItem(b)
		typed(t, err)
		if err == nil && len(b) < rootItemV1Size {
			t.Fatal("short root item accepted")
		}
	})
}

func FuzzParseRootRef(f *testing.F) {
	seedItems(f, fsioctl.BtrfsRootBackrefKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRootRef(b)
		typed(t, err)
		if err == nil && (r.Name == "" || len(r.Name)+rootRefSize > len(b)) {
			t.Fatalf("name %q from %d bytes", r.Name, len(b))
		}
	})
}

func FuzzParseDirItems(f *testing.F) {
	seedItems(f, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ParseDirItems(b)
		typed(t, err)
	})
}

func FuzzParseQgroupItems(f *testing.F) {
	seedItems(f, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, e1 := ParseQgroupStatus(b)
		_, e2 := ParseQgroupInfo(b)
		_, e3 := ParseQgroupLimit(b)
		typed(t, e1)
		typed(t, e2)
		typed(t, e3)
	})
}

func FuzzParseDevExtent(f *testing.F) {
	seedItems(f, fsioctl.BtrfsDevExtentKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDevExtent(b)
		typed(t, err)
		if err == nil && d.Length == 0 {
			t.Fatal("empty dev extent accepted")
		}
	})
}

func FuzzParseChunk(f *testing.F) {
	seedItems(f, fsioctl.BtrfsChunkItemKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseChunk(b)
		typed(t, err)
		if err == nil && len(c.Stripes) != int(c.NumStripes) {
			t.Fatal("stripes miscounted")
		}
	})
}

// FuzzDecodeItems: any buffer decodes to items covering it exactly, or a
// typed error; the qgroup merge of whatever decodes never panics.
func FuzzDecodeItems(f *testing.F) {
	for _, name := range []string{"roottree.items", "quotatree.items", "devtree.items", "chunktree.items"} {
		raw, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)-3])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := DecodeItems(b)
		typed(t, err)
		if err != nil {
			return
		}
		n := 0
		for _, it := range items {
			n += fsioctl.SizeofBtrfsSearchHeader + len(it.Data)
		}
		if n != len(b) {
			t.Fatalf("items cover %d of %d bytes", n, len(b))
		}
		_, err = QgroupsFromItems(items)
		typed(t, err)
	})
}

func TestParsersOnFixtures(t *testing.T) {
	raw, err := os.ReadFile("testdata/devtree.items")
	if err != nil {
		t.Fatal(err)
	}
	items, err := DecodeItems(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		d, err := ParseDevExtent(it.Data)
		if err != nil || d.ChunkTree != fsioctl.BtrfsChunkTreeObjectID || d.Length == 0 {
			t.Errorf("dev extent %+v %v", d, err)
		}
	}
	raw, _ = os.ReadFile("testdata/chunktree.items")
	items, _ = DecodeItems(raw)
	types := map[string]bool{}
	for _, it := range items {
		c, err := ParseChunk(it.Data)
		if err != nil {
			t.Fatal(err)
		}
		types[ChunkType(c.Type)+","+Profile(c.Type)] = true
	}
	for _, want := range []string{"data,single", "metadata,dup", "system,dup"} {
		if !types[want] {
			t.Errorf("no %s chunk in %v", want, types)
		}
	}
	for _, s := range []string{"0/257", "1/100", "258"} {
		q, err := ParseQgroupID(s)
		if err != nil {
			t.Fatal(err)
		}
		if s == "258" {
			s = "0/258"
		}
		if q.String() != s {
			t.Errorf("%s -> %s", s, q)
		}
	}
	if _, err := ParseQgroupID("x/1"); !errors.Is(err, ErrInvalid) {
		t.Error(err)
	}
}
