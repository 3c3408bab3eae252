package blockdevtest

import (
	"os"
	"path/filepath"
)

func lstat(p string) (os.FileInfo, error) { return os.Lstat(p) }
func parentDir(p string) string           { return filepath.Dir(p) }
func baseName(p string) string            { return filepath.Base(p) }
