package probe

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

const lvm1TestSize = 2 << 20

// synthLVM1 is an LVM1 PV header: "HM", the version and the 128-byte id.
func synthLVM1(version uint16, id string) *oddfsImage {
	img := newOddfsImage(lvm1TestSize)
	b := img.at(0, 512)
	copy(b, "HM")
	binary.LittleEndian.PutUint16(b[2:], version)
	copy(b[44:44+128], id)
	return img
}

// synthVerity is a dm-verity superblock as veritysetup writes it.
func synthVerity(version uint32, uuid []byte) *oddfsImage {
	img := newOddfsImage(lvm1TestSize)
	b := img.at(0, 512)
	copy(b, "verity\x00\x00")
	binary.LittleEndian.PutUint32(b[8:], version)
	binary.LittleEndian.PutUint32(b[12:], 1)
	copy(b[16:], uuid)
	copy(b[32:], "sha256")
	binary.LittleEndian.PutUint32(b[64:], 4096)
	binary.LittleEndian.PutUint32(b[68:], 4096)
	binary.LittleEndian.PutUint64(b[72:], 2048)
	return img
}

// synthIntegrity is a dm-integrity superblock: magic and version byte.
func synthIntegrity(version byte) *oddfsImage {
	img := newOddfsImage(lvm1TestSize)
	b := img.at(0, 512)
	copy(b, "integrt\x00")
	b[8] = version
	b[9] = 15                                // log2 interleave sectors
	binary.LittleEndian.PutUint16(b[10:], 4) // tag size
	return img
}

func synthSnapCOW() *oddfsImage {
	img := newOddfsImage(lvm1TestSize)
	b := img.at(0, 16)
	copy(b, "SnAp")
	binary.LittleEndian.PutUint32(b[4:], 1) // valid
	binary.LittleEndian.PutUint32(b[8:], 1) // version
	binary.LittleEndian.PutUint32(b[12:], 8)
	return img
}

func TestLVM1AndDM(t *testing.T) {
	const id = "abcdefghijklmnopqrstuvwxyzABCDEFtail beyond the 32 bytes"
	raid := func(uuid string) *Result { return &Result{Type: "LVM1_member", Usage: UsageRaid, UUID: uuid} }
	oddfsCheck(t, []oddfsCase{
		{"lvm1 v1", synthLVM1(1, id), raid("abcdef-ghij-klmn-opqr-stuv-wxyz-ABCDEF")},
		{"lvm1 v2", synthLVM1(2, id), raid("abcdef-ghij-klmn-opqr-stuv-wxyz-ABCDEF")},
		// the id stops at its NUL, after the dash that comes before it
		{"lvm1 short id", synthLVM1(1, "abcdefghij"), raid("abcdef-ghij-")},
		{"lvm1 id past 32 only", synthLVM1(1, "\x00"+id), raid("")},
		{"lvm1 v3", synthLVM1(3, id), nil},
		{"lvm1 v0", synthLVM1(0, id), nil},
		{"snapshot cow", synthSnapCOW(), &Result{Type: "DM_snapshot_cow", Usage: UsageOther}},
		{"verity", synthVerity(1, testUUID), &Result{Type: "DM_verity_hash", Usage: UsageCrypto, Version: "1", UUID: testUUIDString}},
		{"verity no uuid", synthVerity(1, nil), &Result{Type: "DM_verity_hash", Usage: UsageCrypto, Version: "1"}},
		{"verity v2", synthVerity(2, testUUID), nil},
		{"integrity v1", synthIntegrity(1), &Result{Type: "DM_integrity", Usage: UsageCrypto, Version: "1"}},
		{"integrity v5", synthIntegrity(5), &Result{Type: "DM_integrity", Usage: UsageCrypto, Version: "5"}},
		{"integrity v255", synthIntegrity(255), &Result{Type: "DM_integrity", Usage: UsageCrypto, Version: "255"}},
		{"integrity v0", synthIntegrity(0), nil},
	})
	// Magics that are almost right.
	for name, tc := range map[string]struct {
		img *oddfsImage
		fn  func(*source) (*sb, error)
	}{
		"lvm1 hm":        {oddfsPatched(synthLVM1(1, id), 0, "hM"), probeLVM1},
		"cow snap":       {oddfsPatched(synthSnapCOW(), 0, "Snap"), probeSnapCOW},
		"verity no nul":  {oddfsPatched(synthVerity(1, testUUID), 6, "x"), probeVerityHash},
		"integrity nul":  {oddfsPatched(synthIntegrity(1), 7, "t"), probeIntegrity},
		"tiny lvm1":      {oddfsTruncated(synthLVM1(1, id), 1000), probeLVM1},
		"tiny verity":    {oddfsTruncated(synthVerity(1, testUUID), 1000), probeVerityHash},
		"tiny integrity": {oddfsTruncated(synthIntegrity(1), 1000), probeIntegrity},
		"tiny snapcow":   {oddfsTruncated(synthSnapCOW(), 1000), probeSnapCOW},
	} {
		oddfsNone(t, name, tc.img, tc.fn)
	}
}

var lvm1UUIDLine = regexp.MustCompile(`(?m)^UUID:\s+(\S+)$`)

// TestDifferentialVerity formats real dm-verity hash devices with
// veritysetup (which needs no device-mapper for format) and compares with
// blkid; the UUID is also the one veritysetup printed.
func TestDifferentialVerity(t *testing.T) {
	testenv.RequireTool(t, "veritysetup")
	dir := t.TempDir()
	data := filepath.Join(dir, "data.img")
	if err := truncateFile(data, 8<<20); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		uuid bool
	}{
		{"default", nil, true},
		{"sha1 1k blocks", []string{"--hash", "sha1", "--data-block-size", "1024", "--hash-block-size", "1024"}, true},
		{"chrome os type", []string{"--format", "0", "--salt", "-"}, true},
		{"zero uuid", []string{"--uuid", "00000000-0000-0000-0000-000000000000"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hash := filepath.Join(dir, tc.name+".hash")
			if err := truncateFile(hash, 2<<20); err != nil {
				t.Fatal(err)
			}
			out := testenv.Run(t, "veritysetup", append(append([]string{"format"}, tc.args...), data, hash)...)
			r := compareWithBlkid(t, hash)
			if r.Type != "DM_verity_hash" || r.Version != "1" {
				t.Errorf("got %+v", r)
			}
			m := lvm1UUIDLine.FindSubmatch(out)
			if tc.uuid && (m == nil || string(m[1]) != r.UUID) {
				t.Errorf("UUID %q, veritysetup said %q", r.UUID, m)
			}
			if !tc.uuid && r.UUID != "" {
				t.Errorf("UUID %q for a zero UUID", r.UUID)
			}
		})
	}
	// --no-superblock leaves nothing to find.
	hash := filepath.Join(dir, "nosb.hash")
	if err := os.WriteFile(hash, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "veritysetup", "format", "--no-superblock", data, hash)
	if r := compareWithBlkid(t, hash); r.Type != "" {
		t.Errorf("no superblock: %+v", r)
	}
}

func FuzzLVM1(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{
		synthLVM1(2, "abcdefghijklmnopqrstuvwxyzABCDEF").bytes()[:512],
		synthVerity(1, testUUID).bytes()[:512],
		synthIntegrity(1).bytes()[:512],
		synthSnapCOW().bytes()[:16],
	}, probeLVM1, probeSnapCOW, probeVerityHash, probeIntegrity)
}
