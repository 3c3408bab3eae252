package storage

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/CodeMonkeyCybersecurity/eos-storage"

// TestBlockdevImportsNothingAbove proves the layering the partsafety move
// restored: every file under blockdev/ (tests included) imports, of this
// module, only blockdev/... and internal/....
func TestBlockdevImportsNothingAbove(t *testing.T) {
	n := 0
	err := filepath.WalkDir("blockdev", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			rest, ours := strings.CutPrefix(p, module+"/")
			if !ours {
				continue
			}
			if !strings.HasPrefix(rest, "blockdev/") && rest != "blockdev" && !strings.HasPrefix(rest, "internal/") {
				t.Errorf("%s imports %s, which is above blockdev", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d Go files under blockdev: is the test running at the module root?", n)
	}
}
