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

// probers are in blkid 2.38's order (superblocks.c): RAID-like members and
// crypto containers come first and end the search (blkid does not look for
// filesystems under them), then filesystems, among which two matches are
// ambiguous unless the later ones are tolerant (hfs, iso9660, udf). minSz
// is blkid's own minimum device size for the type.
var probers = []prober{
	// RAIDs (raid.go; mdraid.go)
	{name: "linux_raid_member", usage: UsageRaid, fn: probeLinuxRaid},
	{name: "ddf_raid_member", usage: UsageRaid, fn: probeDDFRaid},
	{name: "isw_raid_member", usage: UsageRaid, fn: probeISWRaid},
	{name: "lsi_mega_raid_member", usage: UsageRaid, fn: probeLSIRaid},
	{name: "via_raid_member", usage: UsageRaid, fn: probeVIARaid},
	{name: "silicon_medley_raid_member", usage: UsageRaid, fn: probeSilRaid},
	{name: "nvidia_raid_member", usage: UsageRaid, fn: probeNVRaid},
	{name: "promise_fasttrack_raid_member", usage: UsageRaid, fn: probePDCRaid},
	{name: "hpt45x_raid_member", usage: UsageRaid, fn: probeHPT45xRaid},
	{name: "hpt37x_raid_member", usage: UsageRaid, fn: probeHPT37xRaid},
	{name: "adaptec_raid_member", usage: UsageRaid, fn: probeAdaptecRaid},
	{name: "jmicron_raid_member", usage: UsageRaid, fn: probeJMRaid},

	// Containers and other members
	{name: "bcache", usage: UsageOther, minSz: 8192, fn: probeBcache},
	{name: "ceph_bluestore", usage: UsageOther, fn: probeBluestore},
	{name: "drbd", usage: UsageRaid, fn: probeDRBD},
	{name: "drbdmanage_control_volume", usage: UsageOther, minSz: 64 * 1024, fn: probeDRBDManage},
	{name: "drbdproxy_datalog", usage: UsageFilesystem, minSz: 16 * 1024, fn: probeDRBDProxyDatalog},
	{name: "LVM2_member", usage: UsageRaid, fn: probeLVM2},
	{name: "LVM1_member", usage: UsageRaid, fn: probeLVM1},
	{name: "DM_snapshot_cow", usage: UsageOther, fn: probeSnapCOW},
	{name: "DM_verity_hash", usage: UsageCrypto, fn: probeVerityHash},
	{name: "DM_integrity", usage: UsageCrypto, fn: probeIntegrity},
	{name: "crypto_LUKS", usage: UsageCrypto, fn: probeLUKS},
	{name: "VMFS_volume_member", usage: UsageRaid, fn: probeVMFSVolume},
	{name: "ubi", usage: UsageRaid, fn: probeUBI},
	{name: "vdo", usage: UsageOther, fn: probeVDO},
	{name: "stratis", usage: UsageRaid, minSz: 8192, fn: probeStratis},
	{name: "BitLocker", usage: UsageCrypto, fn: probeBitLocker},

	// Filesystems
	{name: "vfat", usage: UsageFilesystem, fn: probeVFAT},
	{name: "swsuspend", usage: UsageOther, minSz: 10 * 4096, fn: probeSwsuspend},
	{name: "swap", usage: UsageOther, minSz: 10 * 4096, fn: probeSwap},
	{name: "xfs", usage: UsageFilesystem, fn: probeXFS},
	{name: "xfs_external_log", usage: UsageOther, minSz: 10 << 20, fn: probeXFSLog},
	{name: "exfs", usage: UsageFilesystem, fn: probeEXFS},
	{name: "ext4dev", usage: UsageFilesystem, fn: probeExt4dev},
	{name: "ext4", usage: UsageFilesystem, fn: probeExt4},
	{name: "ext3", usage: UsageFilesystem, fn: probeExt3},
	{name: "ext2", usage: UsageFilesystem, fn: probeExt2},
	{name: "jbd", usage: UsageOther, fn: probeJBD},
	{name: "reiserfs", usage: UsageFilesystem, minSz: 128 * 1024, fn: probeReiserfs},
	{name: "reiser4", usage: UsageFilesystem, minSz: 128 * 1024, fn: probeReiser4},
	{name: "jfs", usage: UsageFilesystem, minSz: 16 << 20, fn: probeJFS},
	{name: "udf", usage: UsageFilesystem, fn: probeUDF},
	{name: "iso9660", usage: UsageFilesystem, fn: probeISO9660},
	{name: "zfs_member", usage: UsageFilesystem, minSz: 64 << 20, fn: probeZFS},
	{name: "hfsplus", usage: UsageFilesystem, fn: probeHFSPlus},
	{name: "hfs", usage: UsageFilesystem, fn: probeHFS},
	{name: "ufs", usage: UsageFilesystem, fn: probeUFS},
	{name: "hpfs", usage: UsageFilesystem, fn: probeHPFS},
	{name: "sysv", usage: UsageFilesystem, fn: probeSysV},
	{name: "xenix", usage: UsageFilesystem, fn: probeXenix},
	{name: "ntfs", usage: UsageFilesystem, fn: probeNTFS},
	{name: "ReFS", usage: UsageFilesystem, fn: probeReFS},
	{name: "cramfs", usage: UsageFilesystem, fn: probeCramfs},
	{name: "romfs", usage: UsageFilesystem, fn: probeRomfs},
	{name: "minix", usage: UsageFilesystem, fn: probeMinix},
	{name: "gfs", usage: UsageFilesystem, minSz: 32 << 20, fn: probeGFS},
	{name: "gfs2", usage: UsageFilesystem, minSz: 32 << 20, fn: probeGFS2},
	{name: "ocfs", usage: UsageFilesystem, minSz: 14000 * 1024, fn: probeOCFS},
	{name: "ocfs2", usage: UsageFilesystem, minSz: 14000 * 1024, fn: probeOCFS2},
	{name: "oracleasm", usage: UsageFilesystem, fn: probeOracleASM},
	{name: "vxfs", usage: UsageFilesystem, fn: probeVxFS},
	{name: "squashfs", usage: UsageFilesystem, fn: probeSquashfs},
	{name: "squashfs3", usage: UsageFilesystem, fn: probeSquashfs3},
	{name: "nss", usage: UsageFilesystem, fn: probeNetware},
	{name: "btrfs", usage: UsageFilesystem, fn: probeBtrfs},
	{name: "ubifs", usage: UsageFilesystem, fn: probeUBIFS},
	{name: "bfs", usage: UsageFilesystem, fn: probeBFS},
	{name: "VMFS", usage: UsageFilesystem, fn: probeVMFS},
	{name: "befs", usage: UsageFilesystem, minSz: 1024 * 1440, fn: probeBeFS},
	{name: "nilfs2", usage: UsageFilesystem, minSz: 1 << 20, fn: probeNilfs2},
	{name: "exfat", usage: UsageFilesystem, fn: probeExFAT},
	{name: "f2fs", usage: UsageFilesystem, fn: probeF2FS},
	{name: "mpool", usage: UsageFilesystem, fn: probeMpool},
	{name: "apfs", usage: UsageFilesystem, fn: probeAPFS},
	{name: "zonefs", usage: UsageFilesystem, fn: probeZonefs},
	{name: "erofs", usage: UsageFilesystem, fn: probeErofs},
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
		// No RAID on floppies, and no RAID, swap or journal on optical media.
		if p.usage == UsageRaid && s.size <= tinySize {
			continue
		}
		if s.cdrom && (p.usage == UsageRaid || p.usage == UsageOther) {
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
