package testenv

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// PatchFile writes b at off in the file (or device) at path and syncs it
// (damaging an image on purpose, or data a snapshot must see); any
// failure fails the test.
func PatchFile(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// ReadFileAt returns n bytes at off of the file at path; a short read fails
// the test.
func ReadFileAt(t testing.TB, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

// UtilLinuxTestsEnv names the directory of util-linux's own test data that
// scripts/util-linux-tests.sh prepares; DefaultUtilLinuxTests is where it
// puts it.
const (
	UtilLinuxTestsEnv     = "EOS_STORAGE_UTIL_LINUX_TESTS"
	DefaultUtilLinuxTests = "/var/cache/eos-storage/util-linux-tests"
)

// UtilLinuxTests returns the directory of util-linux's test data (blkid/,
// lsblk/: see scripts/util-linux-tests.sh), skipping (or failing under
// strict) when the script has not prepared it.
func UtilLinuxTests(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(UtilLinuxTestsEnv)
	if dir == "" {
		dir = DefaultUtilLinuxTests
	}
	if _, err := os.Stat(filepath.Join(dir, "stamp")); err != nil {
		Skip(t, "no util-linux test data in %s (make test runs scripts/util-linux-tests.sh): %v", dir, err)
	}
	return dir
}

// BlkidCorpus returns the decompressed images of util-linux's blkid test
// corpus (images-fs and images-pt), sorted by name.
func BlkidCorpus(t testing.TB) []string {
	t.Helper()
	dir := UtilLinuxTests(t)
	var imgs []string
	for _, sub := range []string{"images-fs", "images-pt"} {
		m, _ := filepath.Glob(filepath.Join(dir, "blkid", sub, "*.img"))
		imgs = append(imgs, m...)
	}
	if len(imgs) == 0 {
		Skip(t, "no blkid images under %s", dir)
	}
	sort.Strings(imgs)
	return imgs
}
