package fsys

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// MakeOptions are the typed options of mkfs. The zero value asks for the
// tool's defaults. Validate checks them against the type before anything
// runs, so a bad option is ErrInvalid and never a half-made filesystem.
type MakeOptions struct {
	// Label is the volume label; its limit depends on the type (see
	// labelLimit). Empty means none.
	Label string
	// UUID is the filesystem UUID in canonical form, or for vfat the volume
	// id as 8 hex digits ("1a2b3c4d" or "1A2B-3C4D"). Empty means random.
	UUID string
	// BlockSize is the filesystem block in bytes: ext* -b, xfs -b size=,
	// btrfs nodesize (-n), vfat the cluster size (-s BlockSize/SectorSize).
	BlockSize int64
	// SectorSize is the filesystem's sector in bytes: xfs -s size=, btrfs
	// -s, vfat -S. mke2fs has no such option (ext* reject it).
	SectorSize int64
	// Features are switched on ("name") or off ("^name"); see ParseFeature
	// for the spelling per type.
	Features []string
	// NoDiscard keeps mkfs from discarding the device first (ext -E
	// nodiscard, xfs and btrfs -K; mkfs.fat and the swap writer never
	// discard).
	NoDiscard bool
	// Force lets the tool overwrite a signature it finds (mke2fs -F once,
	// mkfs.xfs/btrfs -f, mkfs.fat -I). It never means "on a mounted device":
	// mke2fs's second -F is never passed. Positive blankness is proved by
	// preflight before mkfs runs, not by the tools' own checks (mke2fs with
	// standard input not a terminal overwrites without asking).
	Force bool
	// PageSize is the swap page size (swap only); 0 is os.Getpagesize().
	PageSize int64
	// ExtUndoFile makes mke2fs save what it overwrites (-z FILE) so e2undo
	// can restore the device exactly (ext* only).
	ExtUndoFile string
}

// Feature is one parsed feature switch.
type Feature struct {
	// Name is the tool's own spelling: "metadata_csum", "reflink",
	// "no-holes", "fat32".
	Name string
	// Enable is false for "^name" (or xfs "name=0").
	Enable bool
	// Section is the mkfs.xfs option group the name belongs to ("m", "i",
	// "n"); empty for other types.
	Section string
}

// String renders f as the feature list entry it came from.
func (f Feature) String() string {
	if f.Enable {
		return f.Name
	}
	return "^" + f.Name
}

// extFeatures are mke2fs -O names we accept; mke2fs knows a few more, but
// these are the ones a caller has reason to flip and that this kernel mounts.
var extFeatures = []string{
	"64bit", "bigalloc", "dir_index", "ea_inode", "encrypt", "extent", "extents",
	"ext_attr", "filetype", "flex_bg", "has_journal", "huge_file", "inline_data",
	"large_dir", "large_file", "metadata_csum", "metadata_csum_seed", "mmp",
	"orphan_file", "project", "quota", "resize_inode", "sparse_super",
	"sparse_super2", "stable_inodes", "uninit_bg", "verity", "casefold",
}

// xfsFeatures maps a mkfs.xfs boolean option to its option group.
var xfsFeatures = map[string]string{
	"crc": "m", "finobt": "m", "reflink": "m", "rmapbt": "m", "bigtime": "m",
	"inobtcount": "m", "sparse": "i", "nrext64": "i", "ftype": "n",
}

// btrfsFeatures are mkfs.btrfs -O names (btrfs-progs 6.2).
var btrfsFeatures = []string{
	"mixed-bg", "extref", "raid56", "skinny-metadata", "no-holes",
	"free-space-tree", "block-group-tree", "raid1c34", "zoned",
}

// vfatFeatures pick the FAT size (mkfs.fat -F); only one may be given.
var vfatFeatures = []string{"fat12", "fat16", "fat32"}

// ParseFeature parses one entry of MakeOptions.Features for t:
//
//	ext2/3/4  "name" or "^name", a mke2fs -O feature ("^has_journal", "bigalloc")
//	xfs       "name", "^name", "name=1" or "name=0" for the boolean options
//	          of -m (crc, finobt, reflink, rmapbt, bigtime, inobtcount),
//	          -i (sparse, nrext64) and -n (ftype)
//	btrfs     "name" or "^name", a mkfs.btrfs -O feature ("no-holes")
//	vfat      "fat12", "fat16" or "fat32" (the FAT size; default automatic)
//	swap      none
func ParseFeature(t Type, s string) (Feature, error) {
	bad := func(why string) (Feature, error) {
		return Feature{}, fmt.Errorf("%w: %s feature %q: %s", ErrInvalid, t, s, why)
	}
	f := Feature{Name: s, Enable: true}
	if rest, ok := strings.CutPrefix(s, "^"); ok {
		f.Name, f.Enable = rest, false
	}
	if t == XFS {
		if name, v, ok := strings.Cut(f.Name, "="); ok {
			if !f.Enable {
				return bad("both ^ and =")
			}
			switch v {
			case "1":
			case "0":
				f.Enable = false
			default:
				return bad("value must be 0 or 1")
			}
			f.Name = name
		}
	}
	switch {
	case t.IsExt():
		if !slices.Contains(extFeatures, f.Name) {
			return bad("not a mke2fs feature fsys knows")
		}
	case t == XFS:
		sec, ok := xfsFeatures[f.Name]
		if !ok {
			return bad("not a mkfs.xfs boolean option fsys knows")
		}
		f.Section = sec
	case t == Btrfs:
		if !slices.Contains(btrfsFeatures, f.Name) {
			return bad("not a mkfs.btrfs feature fsys knows")
		}
	case t == VFAT:
		if !slices.Contains(vfatFeatures, f.Name) || !f.Enable {
			return bad("want fat12, fat16 or fat32")
		}
	default:
		return bad("this type has no features")
	}
	return f, nil
}

// features parses o.Features for t, refusing a name given twice.
func (o MakeOptions) features(t Type) ([]Feature, error) {
	var out []Feature
	seen := map[string]bool{}
	for _, s := range o.Features {
		f, err := ParseFeature(t, s)
		if err != nil {
			return nil, err
		}
		key := f.Name
		if t == VFAT {
			key = "fat" // one FAT size
		}
		if seen[key] {
			return nil, fmt.Errorf("%w: %s feature %q given twice", ErrInvalid, t, f.Name)
		}
		seen[key] = true
		out = append(out, f)
	}
	return out, nil
}

// Validate checks o for t without touching anything.
func (o MakeOptions) Validate(t Type) error {
	if !t.Valid() {
		return fmt.Errorf("%w: unknown filesystem type %q", ErrInvalid, t)
	}
	if err := validateLabel(t, o.Label); err != nil {
		return err
	}
	if o.UUID != "" {
		if err := validateUUID(t, o.UUID); err != nil {
			return err
		}
	}
	if _, err := o.features(t); err != nil {
		return err
	}
	if err := o.validateSizes(t); err != nil {
		return err
	}
	if o.ExtUndoFile != "" && !t.IsExt() {
		return fmt.Errorf("%w: an undo file is an ext* (mke2fs -z) option, not %s", ErrInvalid, t)
	}
	if o.ExtUndoFile != "" && strings.ContainsAny(o.ExtUndoFile, "\x00") {
		return fmt.Errorf("%w: undo file name contains NUL", ErrInvalid)
	}
	return nil
}

func pow2In(n, lo, hi int64) bool { return n >= lo && n <= hi && n&(n-1) == 0 }

func (o MakeOptions) validateSizes(t Type) error {
	size := func(what string, n, lo, hi int64) error {
		if n != 0 && !pow2In(n, lo, hi) {
			return fmt.Errorf("%w: %s %s %d: want a power of two from %d to %d", ErrInvalid, t, what, n, lo, hi)
		}
		return nil
	}
	none := func(what string, n int64) error {
		if n != 0 {
			return fmt.Errorf("%w: %s has no %s option", ErrInvalid, t, what)
		}
		return nil
	}
	var errs []error
	switch {
	case t.IsExt():
		// mke2fs: 1 KiB to 64 KiB.
		errs = append(errs, size("block size", o.BlockSize, 1024, 65536), none("sector size", o.SectorSize))
	case t == XFS:
		// mkfs.xfs: blocks 512 B to 64 KiB (1 KiB minimum with crc), sectors 512 B to 32 KiB.
		errs = append(errs, size("block size", o.BlockSize, 512, 65536), size("sector size", o.SectorSize, 512, 32768))
		if o.BlockSize != 0 && o.SectorSize != 0 && o.SectorSize > o.BlockSize {
			errs = append(errs, fmt.Errorf("%w: xfs sector size %d over block size %d", ErrInvalid, o.SectorSize, o.BlockSize))
		}
	case t == Btrfs:
		// mkfs.btrfs: nodesize 4 KiB to 64 KiB, sectorsize 4 KiB to 64 KiB
		// (the kernel mounts a sectorsize other than the page size only on 5.15+).
		errs = append(errs, size("node size", o.BlockSize, 4096, 65536), size("sector size", o.SectorSize, 4096, 65536))
		if o.BlockSize != 0 && o.SectorSize != 0 && o.BlockSize < o.SectorSize {
			errs = append(errs, fmt.Errorf("%w: btrfs node size %d under sector size %d", ErrInvalid, o.BlockSize, o.SectorSize))
		}
	case t == VFAT:
		// mkfs.fat: -S 512..32768, cluster = 1..128 sectors.
		errs = append(errs, size("sector size", o.SectorSize, 512, 32768), size("cluster size", o.BlockSize, 512, 128*32768))
		if o.BlockSize != 0 {
			ss := o.SectorSize
			if ss == 0 {
				ss = 512
			}
			if o.BlockSize < ss || o.BlockSize/ss > 128 {
				errs = append(errs, fmt.Errorf("%w: vfat cluster size %d: want 1 to 128 sectors of %d bytes", ErrInvalid, o.BlockSize, ss))
			}
		}
	case t == Swap:
		errs = append(errs, none("block size", o.BlockSize), none("sector size", o.SectorSize),
			size("page size", o.PageSize, 4096, 65536))
	}
	if t != Swap && o.PageSize != 0 {
		errs = append(errs, fmt.Errorf("%w: page size is a swap option, not %s", ErrInvalid, t))
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// labelLimit is the longest label, in bytes, each type stores as given.
func labelLimit(t Type) int {
	switch {
	case t.IsExt():
		return 16
	case t == Swap:
		// The header has 16 bytes, but mkswap and swaplabel keep the label
		// NUL-terminated (util-linux xstrncpy): a 16th byte is silently cut.
		return 15
	case t == XFS:
		return 12
	case t == Btrfs:
		return 255
	case t == VFAT:
		return 11
	}
	return 0
}

// fatForbidden are the characters a FAT short name (and so the volume
// label) may not hold, besides control characters.
const fatForbidden = `"*+,./:;<=>?[\]|`

// validateLabel checks label's length and characters for t. A label is
// UTF-8 without NUL or line breaks (the tools would cut or mangle it); FAT
// labels are 8-bit short names: printable ASCII, none of fatForbidden, not
// starting with a space. Lower case is accepted (mkfs.fat stores it as is
// and warns that some systems show it oddly).
func validateLabel(t Type, label string) error {
	if label == "" {
		return nil
	}
	if n := labelLimit(t); len(label) > n {
		return fmt.Errorf("%w: %s label %q is %d bytes, at most %d", ErrInvalid, t, label, len(label), n)
	}
	if !utf8.ValidString(label) || strings.ContainsAny(label, "\x00\n\r") {
		return fmt.Errorf("%w: %s label %q: not UTF-8 or holds NUL or a line break", ErrInvalid, t, label)
	}
	if t == VFAT {
		if label[0] == ' ' {
			return fmt.Errorf("%w: vfat label %q starts with a space", ErrInvalid, label)
		}
		for _, c := range []byte(label) {
			if c < 0x20 || c > 0x7e || strings.IndexByte(fatForbidden, c) >= 0 {
				return fmt.Errorf("%w: vfat label %q: %q not allowed in a FAT label", ErrInvalid, label, c)
			}
		}
	}
	if t == XFS && strings.HasPrefix(label, "-") {
		// xfs_admin -L takes "--" to mean "clear"; keep labels that look like options out.
		return fmt.Errorf("%w: xfs label %q starts with '-'", ErrInvalid, label)
	}
	return nil
}

// validateUUID checks u's syntax for t: the canonical 8-4-4-4-12 hex form,
// or for vfat 8 hex digits, optionally as XXXX-XXXX.
func validateUUID(t Type, u string) error {
	if t == VFAT {
		if _, err := fatVolumeID(u); err != nil {
			return err
		}
		return nil
	}
	if !t.Valid() {
		return fmt.Errorf("%w: unknown filesystem type %q", ErrInvalid, t)
	}
	if !canonicalUUID(u) {
		return fmt.Errorf("%w: %s uuid %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", ErrInvalid, t, u)
	}
	return nil
}

func canonicalUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i, c := range []byte(u) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// fatVolumeID normalises a FAT volume id to 8 lower-case hex digits, the
// form mkfs.fat -i and fatlabel -i take.
func fatVolumeID(u string) (string, error) {
	s := u
	if len(s) == 9 && s[4] == '-' {
		s = s[:4] + s[5:]
	}
	if len(s) != 8 {
		return "", fmt.Errorf("%w: vfat volume id %q: want 8 hex digits", ErrInvalid, u)
	}
	for _, c := range []byte(s) {
		if !isHex(c) {
			return "", fmt.Errorf("%w: vfat volume id %q: want 8 hex digits", ErrInvalid, u)
		}
	}
	return strings.ToLower(s), nil
}
