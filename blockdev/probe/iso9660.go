package probe

import "bytes"

const (
	isoPVDOff     = 0x8000
	isoSectorSize = 0x800
	isoVDMax      = 16
)

// probeISO9660 reads the primary volume descriptor at 32 KiB. blkid builds a
// UUID from the modification date (or the creation date when that is unset)
// and prefers a Joliet label when it says more than the PVD's.
func probeISO9660(s *source) (*sb, error) {
	pvd := s.headAt(isoPVDOff, isoSectorSize)
	if pvd == nil || !hasAt(pvd, 1, "CD001") {
		return nil, nil
	}
	r := &sb{tolerant: true}
	if u := isoDateUUID(pvd[830:847]); u != "" {
		r.uuid = u
	} else {
		r.uuid = isoDateUUID(pvd[813:830])
	}
	pvdLabel := pvd[40:72]
	for i := 0; i < isoVDMax; i++ {
		vd := s.headAt(isoPVDOff+isoSectorSize+int64(i)*isoSectorSize, isoSectorSize)
		if vd == nil || vd[0] == 0xff {
			break
		}
		if vd[0] != 2 {
			continue
		}
		esc := vd[88:91]
		if !(bytes.Equal(esc, []byte("%/@")) || bytes.Equal(esc, []byte("%/C")) || bytes.Equal(esc, []byte("%/E"))) {
			continue
		}
		r.version = "Joliet Extension"
		if !asciiEqUTF16BE(pvdLabel, vd[40:72]) {
			r.label = utf16Label(vd[40:72], true)
			return r, nil
		}
		break
	}
	r.label = label(pvdLabel)
	return r, nil
}

// isoDateUUID turns a 17-byte ISO 9660 date into blkid's pseudo-UUID
// "YYYY-MM-DD-hh-mm-ss-cc"; an unset date (all '0' and zero offset) gives "".
func isoDateUUID(d []byte) string {
	zeros := 0
	for _, c := range d[:16] {
		if c == '0' {
			zeros++
		}
	}
	if zeros == 16 && d[16] == 0 {
		return ""
	}
	return string(d[0:4]) + "-" + string(d[4:6]) + "-" + string(d[6:8]) + "-" +
		string(d[8:10]) + "-" + string(d[10:12]) + "-" + string(d[12:14]) + "-" + string(d[14:16])
}

func asciiEqUTF16BE(ascii, u []byte) bool {
	for a, i := 0, 0; i+1 < len(u); a, i = a+1, i+2 {
		if a >= len(ascii) || u[i] != 0 || ascii[a] != u[i+1] {
			return false
		}
	}
	return true
}
