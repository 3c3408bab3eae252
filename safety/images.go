package safety

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Range is a byte range of a target that a mutation will overwrite.
type Range struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// Image is one saved before-image: the bytes of Range as they were before the
// mutation, in a file under the state directory, with their SHA-256.
type Image struct {
	// File is relative to the state directory: images/<mutation-id>/sfdisk-<dev>-0x<offset>.bak.
	File   string `json:"file"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	SHA256 string `json:"sha256"`
}

// ImageName is the file name sfdisk --backup gives the bytes of dev at
// offset: sfdisk-<basename>-0x<offset as at least 8 hex digits>.bak. A person
// with only coreutils restores it with
//
//	dd if=FILE of=DEV seek=$((0xOFFSET)) bs=1 conv=notrunc
func ImageName(dev string, offset int64) string {
	return fmt.Sprintf("sfdisk-%s-0x%08x.bak", filepath.Base(dev), offset)
}

// maxImageRange bounds one before-image: they are for table sectors and
// superblocks, not for copying disks.
const maxImageRange = 256 << 20

func validateRanges(rs []Range) error {
	for _, r := range rs {
		if r.Offset < 0 || r.Length <= 0 || r.Length > maxImageRange || r.Offset > (1<<62) {
			return fmt.Errorf("%w: before-image range offset %d length %d", ErrInvalid, r.Offset, r.Length)
		}
	}
	return nil
}

// imageRanges merges ranges that start at the same offset (they would
// share a file name) into the longest of them. Overlapping ranges at
// different offsets stay apart: every image is taken before the first
// write, so their common bytes are the same and restoring both is harmless.
func imageRanges(rs []Range) []Range {
	var out []Range
	at := map[int64]int{}
	for _, r := range rs {
		if i, ok := at[r.Offset]; ok {
			if r.Length > out[i].Length {
				out[i].Length = r.Length
			}
			continue
		}
		at[r.Offset] = len(out)
		out = append(out, r)
	}
	return out
}

// saveImages copies each range of dev into dir (relative to the state
// directory), fsyncing every file and the directory, and returns the images.
func (j *Journal) saveImages(ctx context.Context, devPath, rel string, rs []Range) ([]Image, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	dev, err := j.open(devPath, os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("safety: before-image: open %s: %w", devPath, err)
	}
	defer dev.Close()
	abs := filepath.Join(j.dir, rel)
	if err := mkdirDurable(j.fs, abs, 0o700); err != nil {
		return nil, fmt.Errorf("safety: before-image dir: %w", err)
	}
	rs = imageRanges(rs)
	imgs := make([]Image, 0, len(rs))
	buf := make([]byte, 1<<20)
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := filepath.Join(rel, ImageName(devPath, r.Offset))
		f, err := j.fs.OpenFile(filepath.Join(j.dir, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("safety: before-image: %w", err)
		}
		h := sha256.New()
		err = copyRange(f, h, dev, r, buf)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("safety: before-image of %s at %d: %w", devPath, r.Offset, err)
		}
		imgs = append(imgs, Image{File: name, Offset: r.Offset, Length: r.Length, SHA256: hex.EncodeToString(h.Sum(nil))})
	}
	if err := j.fs.SyncDir(abs); err != nil {
		return nil, fmt.Errorf("safety: before-image dir sync: %w", err)
	}
	return imgs, nil
}

func copyRange(w io.Writer, h io.Writer, src io.ReaderAt, r Range, buf []byte) error {
	for done := int64(0); done < r.Length; {
		n := int64(len(buf))
		if r.Length-done < n {
			n = r.Length - done
		}
		m, err := src.ReadAt(buf[:n], r.Offset+done)
		if int64(m) < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if _, err := w.Write(buf[:m]); err != nil {
			return err
		}
		h.Write(buf[:m])
		done += int64(m)
	}
	return nil
}

// readImage loads and verifies one image file.
func (j *Journal) readImage(img Image) ([]byte, error) {
	f, err := j.fs.OpenFile(filepath.Join(j.dir, img.File), os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("safety: before-image %s: %w", img.File, err)
	}
	defer f.Close()
	if img.Length < 0 || img.Length > maxImageRange {
		return nil, fmt.Errorf("%w: %s: length %d", ErrImageMismatch, img.File, img.Length)
	}
	data := make([]byte, img.Length+1)
	n, err := io.ReadFull(f, data)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("safety: before-image %s: %w", img.File, err)
	}
	data = data[:n]
	sum := sha256.Sum256(data)
	if int64(n) != img.Length || hex.EncodeToString(sum[:]) != img.SHA256 {
		return nil, fmt.Errorf("%w: %s", ErrImageMismatch, img.File)
	}
	return data, nil
}

// restoreImages writes every image back to devPath, syncs, and reads the
// bytes back to prove the restore is byte-identical. All images are verified
// before the first byte is written, so a damaged image set writes nothing.
// Restoring is idempotent, so a crash during it is repaired by doing it again.
func (j *Journal) restoreImages(ctx context.Context, devPath string, imgs []Image) error {
	datas := make([][]byte, len(imgs))
	for i, img := range imgs {
		d, err := j.readImage(img)
		if err != nil {
			return err
		}
		datas[i] = d
	}
	dev, err := j.open(devPath, os.O_RDWR)
	if err != nil {
		return fmt.Errorf("safety: restore: open %s: %w", devPath, err)
	}
	defer dev.Close()
	for i, img := range imgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := dev.WriteAt(datas[i], img.Offset); err != nil {
			return fmt.Errorf("safety: restore %s at %d: %w", devPath, img.Offset, err)
		}
	}
	if err := dev.Sync(); err != nil {
		return fmt.Errorf("safety: restore %s: sync: %w", devPath, err)
	}
	for i, img := range imgs {
		got := make([]byte, len(datas[i]))
		if _, err := dev.ReadAt(got, img.Offset); err != nil {
			return fmt.Errorf("safety: restore %s: read back at %d: %w", devPath, img.Offset, err)
		}
		if string(got) != string(datas[i]) {
			return fmt.Errorf("safety: restore %s: read back at %d differs from the before-image", devPath, img.Offset)
		}
	}
	return nil
}

// pruneImages keeps the before-images of the newest j.retain finished
// mutations and of every unfinished one; image directories no intent refers
// to (a crash between saving images and journaling the intent) go too.
func (j *Journal) pruneImagesLocked() {
	root := filepath.Join(j.dir, "images")
	ents, err := j.fs.ReadDir(root)
	if err != nil {
		return
	}
	type fin struct {
		id  string
		seq uint64
	}
	var finished []fin
	for id, e := range j.entries {
		if e.Outcome != "" && len(e.Images) > 0 {
			finished = append(finished, fin{id, e.endSeq})
		}
	}
	sort.Slice(finished, func(a, b int) bool { return finished[a].seq > finished[b].seq })
	pinned := j.pinnedLocked()
	drop := map[string]bool{}
	for i, f := range finished {
		if i >= j.retain && !pinned[f.id] {
			drop[f.id] = true
		}
	}
	for _, de := range ents {
		id := de.Name()
		e, known := j.entries[id]
		if _, inflight := j.inflight[id]; inflight || (known && !drop[id]) {
			continue
		}
		if known && e.Outcome == "" {
			continue
		}
		if err := j.fs.RemoveAll(filepath.Join(root, id)); err != nil {
			j.log.Warn("safety: prune before-images", "dir", id, "err", err)
		}
	}
}

func imageDir(id string) string { return filepath.Join("images", id) }

// validID keeps mutation ids usable as directory names.
func validID(id string) bool {
	return id != "" && len(id) <= 64 && !strings.ContainsAny(id, "/\\.\x00")
}

// Restore writes before-images back to target, byte-identical, verifying
// every checksum first and reading the bytes back after a sync. It is what
// Undo and recovery do, for callers (and operators) restoring by hand; it is
// not journaled by itself.
func (j *Journal) Restore(ctx context.Context, target string, imgs []Image) error {
	if target == "" || len(imgs) == 0 {
		return fmt.Errorf("%w: restore needs a target and images", ErrInvalid)
	}
	return j.restoreImages(ctx, target, imgs)
}

// ImagePath is the absolute path of a before-image file, for an operator's
// dd: dd if=PATH of=DEV seek=OFFSET bs=1 conv=notrunc.
func (j *Journal) ImagePath(img Image) string { return filepath.Join(j.dir, img.File) }
