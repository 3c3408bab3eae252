package probe

import (
	"bytes"
	"math"
)

const (
	isoPVDOff     = 0x8000
	isoSectorSize = 0x800
	isoVDMax      = 16
	// isoVDLen is how much of each volume descriptor blkid reads: up to
	// the end of the modification date.
	isoVDLen = 847

	isoVDBoot          = 0
	isoVDPrimary       = 1
	isoVDSupplementary = 2
	isoVDEnd           = 0xff
)

// isoSessionOffset is where the session that blkid probes starts: 0, the
// first session, unless a "session_offset" hint says otherwise. blkid sets
// that hint itself only for a whole optical drive holding a multi-session
// XA disc (CDROMMULTISESSION: the last session); the source carries no
// such hint yet, so every device is probed at its first session, as blkid
// probes image files and loop devices.
func isoSessionOffset(*source) uint64 { return 0 }

// probeISO9660 reads the volume descriptor set at 32 KiB into the session
// (without a session hint, the first: a multi-session image reports its
// first session). blkid builds a UUID from the modification date (or the
// creation date when that is unset) and, with Joliet, takes the label from
// the Joliet descriptor, completed from the PVD's longer ASCII one when the
// two agree. High Sierra discs, which put their "CDROM" magic 8 bytes
// later, give only a label. A UDF bridge disc has all this too, but udf is
// probed first and both are tolerant, so the disc is reported as udf.
func probeISO9660(s *source) (*sb, error) { return isoProbeSession(s, isoSessionOffset(s)) }

// isoProbeSession is probeISO9660 for the session that starts at byte off.
// In the first session every descriptor it reads is in the head.
func isoProbeSession(s *source, off uint64) (*sb, error) {
	if off > math.MaxInt64-isoPVDOff-isoVDMax*isoSectorSize {
		return nil, nil
	}
	base := int64(off) + isoPVDOff
	// blkid compares magics within the 1 KiB block that holds them, so the
	// session must reach 33 KiB.
	m, err := s.at(base, 1024)
	if err != nil || m == nil {
		return nil, err
	}
	iso := hasAt(m, 1, "CD001")
	if !iso && !hasAt(m, 9, "CDROM") || off%isoSectorSize != 0 {
		return nil, nil
	}
	if !iso {
		return &sb{tolerant: true, version: "High Sierra", label: label(m[48:80])}, nil
	}
	var boot, pvd, joliet []byte
	for i := int64(0); i < isoVDMax && (boot == nil || pvd == nil || joliet == nil); i++ {
		vd := m[:isoVDLen] // the first descriptor is in the magic's block
		if i > 0 {
			if vd, err = s.at(base+i*isoSectorSize, isoVDLen); err != nil {
				return nil, err
			}
		}
		if vd == nil || vd[0] == isoVDEnd {
			break
		}
		// Only the type byte is checked, as in blkid: a UDF bridge's BEA01
		// or NSR02 after the set terminator is never reached, and one
		// before it counts as a boot record.
		switch {
		case boot == nil && vd[0] == isoVDBoot:
			boot = vd
		case pvd == nil && vd[0] == isoVDPrimary:
			pvd = vd
		case joliet == nil && vd[0] == isoVDSupplementary:
			if isoIsJoliet(vd[88:91]) {
				joliet = vd
			}
		}
	}
	if pvd == nil {
		return nil, nil
	}
	r := &sb{tolerant: true}
	if u, set := isoDateUUID(pvd[830:847]); set {
		r.uuid = u
	} else {
		r.uuid, _ = isoDateUUID(pvd[813:830])
	}
	if joliet == nil {
		r.label = label(pvd[40:72])
		return r, nil
	}
	r.version = "Joliet Extension"
	// Joliet holds at most 16 UTF-16 characters, the PVD 32 of restricted
	// ASCII with '_' for what it cannot represent: when Joliet's is a
	// prefix of the PVD's, blkid joins the two into the original name.
	if merged := isoMergeJoliet(joliet[40:72], pvd[40:72]); merged != nil {
		r.label = udfUTF8Label(udfEncUTF16BE, merged)
	} else {
		r.label = udfUTF8Label(udfEncUTF16BE, joliet[40:72])
	}
	return r, nil
}

// isoIsJoliet reports whether an SVD's escape sequences name UCS-2 level 1,
// 2 or 3.
func isoIsJoliet(esc []byte) bool {
	return bytes.Equal(esc, []byte("%/@")) || bytes.Equal(esc, []byte("%/C")) || bytes.Equal(esc, []byte("%/E"))
}

// isoDateUUID turns a 17-byte ISO 9660 date into blkid's pseudo-UUID
// "YYYY-MM-DD-hh-mm-ss-cc". set is false for an unset date (every digit '0'
// and a zero offset), and then blkid tries the next date. A date of sixteen
// NUL bytes counts as set but gives no UUID; bytes after a NUL are not
// printed by blkid, so the string ends there.
func isoDateUUID(d []byte) (uuid string, set bool) {
	zeros := 0
	for _, c := range d[:16] {
		if c == '0' {
			zeros++
		}
	}
	if zeros == 16 && d[16] == 0 {
		return "", false
	}
	u := string(d[0:4]) + "-" + string(d[4:6]) + "-" + string(d[6:8]) + "-" +
		string(d[8:10]) + "-" + string(d[10:12]) + "-" + string(d[12:14]) + "-" + string(d[14:16])
	if i := bytes.IndexByte([]byte(u), 0); i >= 0 {
		u = u[:i]
	}
	return u, true
}

// isoMergeJoliet rebuilds a label as UTF-16BE from a Joliet field and the
// PVD's ASCII field of the same size when the Joliet one is a prefix of the
// ASCII one: a '_' in the ASCII takes Joliet's character (surrogate pairs
// included), a '_' in Joliet takes the ASCII one, letters may differ in
// case (the Joliet spelling wins over an upper-case ASCII letter), and the
// ASCII characters past Joliet's end are appended. It returns nil when they
// disagree.
func isoMergeJoliet(utf16, ascii []byte) []byte {
	n := len(ascii)
	out := make([]byte, 0, 2*n+len(utf16))
	a, u := 0, 0
	for ; u+1 < n && a < n; a, u = a+1, u+2 {
		if utf16[u] >= 0xd8 && utf16[u] <= 0xdb && u+3 < n && utf16[u+2] >= 0xdc && utf16[u+2] <= 0xdf {
			out = append(out, utf16[u], utf16[u+1])
			u += 2
		}
		switch {
		case ascii[a] == '_':
			out = append(out, utf16[u], utf16[u+1])
		case utf16[u] == 0 && utf16[u+1] == '_':
			out = append(out, 0, ascii[a])
		case utf16[u] == 0 && isoUpper(ascii[a]) == isoUpper(utf16[u+1]):
			if ascii[a] >= 'A' && ascii[a] <= 'Z' {
				out = append(out, 0, utf16[u+1])
			} else {
				out = append(out, 0, ascii[a])
			}
		default:
			return nil
		}
	}
	for ; a < n; a++ {
		out = append(out, 0, ascii[a])
	}
	return out
}

func isoUpper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
