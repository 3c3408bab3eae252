package probe

import "fmt"

// VMFS keeps its volume (LVM) header at 1 MiB and its filesystem
// superblock at 2 MiB: both lie past the head buffer, one small read each.
const (
	vmfsVolumeOff = 1 << 20
	vmfsFSOff     = 2 << 20
)

// vmfsUUID formats VMFS's 16-byte id as blkid does: 8-8-4-12 hex digits,
// the first three groups read as little-endian 32, 32 and 16-bit numbers.
func vmfsUUID(u []byte) string {
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		u[3], u[2], u[1], u[0], u[7], u[6], u[5], u[4], u[9], u[8],
		u[10], u[11], u[12], u[13], u[14], u[15])
}

// probeVMFSVolume finds a VMFS volume member. Its own id is UUID_SUB
// (printed even when zero, as blkid does); UUID is the text id of the
// logical volume it belongs to, 532 bytes into the header.
func probeVMFSVolume(s *source) (*sb, error) {
	b, err := containerMagic(s, vmfsVolumeOff>>10, 0, "\x0d\xd0\x01\xc0")
	if b == nil {
		return nil, err
	}
	// magic u32, ver u32, 122 bytes, uuid[16]; the LVM info at 512 holds
	// its uuid text 20 bytes in.
	r := &sb{uuidSub: vmfsUUID(b[130:146]), version: itoa(le.Uint32(b[4:]))}
	if b[532] != 0 {
		r.uuid = label(b[532:567])
	}
	return r, nil
}

// probeVMFS finds a VMFS filesystem superblock: UUID, label and the
// one-byte version.
func probeVMFS(s *source) (*sb, error) {
	b, err := containerMagic(s, vmfsFSOff>>10, 0, "\x5e\xf1\xab\x2f")
	if b == nil {
		return nil, err
	}
	// magic u32, volume_version u32, version u8, uuid[16], mode u32, label[128]
	r := &sb{version: itoa(uint32(b[8])), label: label(b[29:157])}
	if u := b[9:25]; !isZero(u) {
		r.uuid = vmfsUUID(u)
	}
	return r, nil
}
