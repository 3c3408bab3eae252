package probe

// Usage values, as blkid prints them in USAGE.
const (
	UsageFilesystem = "filesystem"
	UsageRaid       = "raid"
	UsageCrypto     = "crypto"
	UsageOther      = "other"
)

// sb is one superblock a prober recognised.
type sb struct {
	typ, usage, version, uuid, uuidSub, label string
	// tolerant signatures (iso9660) may share a device with another one
	// without making the result ambiguous, as in blkid.
	tolerant bool
}

// prober recognises one signature. It returns nil when the signature is
// absent or fails its consistency checks, and an error only for I/O failure
// or a cancelled context.
type prober struct {
	name  string
	usage string
	minSz int64
	fn    func(s *source) (*sb, error)
}

// probers are in blkid's order: RAID-like members and crypto containers come
// first and end the search (blkid does not look for filesystems under them),
// then filesystems, among which two matches are ambiguous.
var probers = []prober{
	{name: "LVM2_member", usage: UsageRaid, fn: probeLVM2},
	{name: "crypto_LUKS", usage: UsageCrypto, fn: probeLUKS},
	{name: "vfat", usage: UsageFilesystem, fn: probeVFAT},
	{name: "swap", usage: UsageOther, minSz: 10 * 4096, fn: probeSwap},
	{name: "xfs", usage: UsageFilesystem, fn: probeXFS},
	{name: "ext4", usage: UsageFilesystem, fn: probeExt4},
	{name: "ext3", usage: UsageFilesystem, fn: probeExt3},
	{name: "ext2", usage: UsageFilesystem, fn: probeExt2},
	{name: "jbd", usage: UsageOther, fn: probeJBD},
	{name: "iso9660", usage: UsageFilesystem, fn: probeISO9660},
	{name: "squashfs", usage: UsageFilesystem, fn: probeSquashfs},
	{name: "btrfs", usage: UsageFilesystem, fn: probeBtrfs},
}

// tinySize is blkid's floppy threshold: on devices this small the first
// signature wins and no ambiguity is reported.
const tinySize = 1440 * 1024

// probeSuperblocks runs the probers as blkid's safe probe does and fills r.
func probeSuperblocks(s *source, r *Result) error {
	if s.size <= 1024 {
		return nil // blkid ignores devices this small (extended partition stubs)
	}
	var found []*sb
	intolerant := 0
	for _, p := range probers {
		if p.minSz > 0 && s.size < p.minSz {
			continue
		}
		got, err := p.fn(s)
		if err != nil {
			if err == errBudget {
				continue
			}
			return err
		}
		if got == nil {
			continue
		}
		got.typ = p.name
		got.usage = p.usage
		if s.size <= tinySize && len(found) == 0 {
			found = append(found, got)
			break
		}
		found = append(found, got)
		if p.usage == UsageRaid || p.usage == UsageCrypto {
			break
		}
		if !got.tolerant {
			intolerant++
		}
	}
	if len(found) > 1 && intolerant > 0 {
		for _, f := range found {
			r.Ambiguous = append(r.Ambiguous, f.typ)
		}
		return nil
	}
	if len(found) == 0 {
		return nil
	}
	f := found[0]
	r.Type, r.Usage, r.Version = f.typ, f.usage, f.version
	r.UUID, r.UUIDSub, r.Label = f.uuid, f.uuidSub, f.label
	return nil
}
