package smart

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// VPD page codes this package reads (SPC-4 7.8, SBC-3 6.6).
const (
	vpdSupported      = 0x00
	vpdUnitSerial     = 0x80
	vpdDeviceID       = 0x83
	vpdATAInformation = 0x89 // SAT-3 10.3.2: present on a SCSI/ATA translation
	vpdBlockDevChar   = 0xb1
	vpdProvisioning   = 0xb2
)

// Mode page codes (SPC-4 7.5).
const (
	modePageControl = 0x0a
	modePageIEC     = 0x1c
)

// inquiryLen is the standard INQUIRY length asked for. 36 bytes is what
// every device must return, and what fragile USB bridges survive.
const inquiryLen = 36

// SCSIInquiry is the standard INQUIRY data (SPC-4 6.6.2).
type SCSIInquiry struct {
	Qualifier  uint8 // PERIPHERAL QUALIFIER: 0 a device is connected
	DeviceType uint8 // PERIPHERAL DEVICE TYPE: 00h disk, 05h CD/DVD, 14h host managed zoned
	Removable  bool
	Version    uint8 // VERSION: 5 SPC-3, 6 SPC-4, 7 SPC-5
	Protect    bool  // the logical unit supports protection information
	Vendor     string
	Product    string
	Revision   string
	// ATAVendor is set when T10 VENDOR IDENTIFICATION is exactly "ATA"
	// padded with spaces, the mark libata and most SATLs put on an ATA
	// device, and smartctl's cue to try SAT.
	ATAVendor bool
}

// ParseSCSIInquiry decodes standard INQUIRY data; fewer than 36 valid
// bytes (by the ADDITIONAL LENGTH or the buffer) are ErrMalformed, as
// there is then no product identification.
func ParseSCSIInquiry(b []byte) (*SCSIInquiry, error) {
	const what = "INQUIRY"
	if len(b) < 5 {
		return nil, malformed(what, "%d bytes", len(b))
	}
	n := min(int(b[4])+5, len(b))
	if n < inquiryLen {
		return nil, malformed(what, "%d bytes of standard data, want %d", n, inquiryLen)
	}
	return &SCSIInquiry{
		Qualifier:  b[0] >> 5,
		DeviceType: b[0] & 0x1f,
		Removable:  b[1]&0x80 != 0,
		Version:    b[2],
		Protect:    b[5]&0x01 != 0,
		Vendor:     idString(b[8:16]),
		Product:    idString(b[16:32]),
		Revision:   idString(b[32:36]),
		ATAVendor:  string(b[8:16]) == "ATA     ",
	}, nil
}

// SPCVersion is "SPC-2".."SPC-5" from the low three bits of VERSION, as
// smartctl prints it, or "" for older or unknown versions.
func (q *SCSIInquiry) SPCVersion() string {
	if v := q.Version & 7; v > 3 {
		return fmt.Sprintf("SPC-%d", v-2)
	}
	return ""
}

// ModelName is vendor and product joined by a space (smartctl's
// scsi_model_name).
func (q *SCSIInquiry) ModelName() string {
	if q.Vendor != "" && q.Product != "" {
		return q.Vendor + " " + q.Product
	}
	return q.Vendor + q.Product
}

// IsDisk reports device types that hold addressable blocks and keep the
// disk log pages: direct access (00h), simplified direct access (0Eh) and
// host managed zoned (14h).
func (q *SCSIInquiry) IsDisk() bool {
	return q.DeviceType == 0x00 || q.DeviceType == 0x0e || q.DeviceType == 0x14
}

var peripheralTypes = [32]string{
	"disk", "tape", "printer", "processor", "optical disk(4)", "CD/DVD", "scanner", "optical disk(7)",
	"medium changer", "communications", "graphics(10)", "graphics(11)", "storage array", "enclosure",
	"simplified disk", "optical card reader", "reserved [0x10]", "object based storage",
	"automation/driver interface", "security manager device", "host managed zoned block device",
	"reserved [0x15]", "reserved [0x16]", "reserved [0x17]", "reserved [0x18]", "reserved [0x19]",
	"reserved [0x1a]", "reserved [0x1b]", "reserved [0x1c]", "reserved [0x1d]", "well known logical unit",
	"unknown or no device type",
}

// DeviceTypeName is smartctl's name for the peripheral device type.
func (q *SCSIInquiry) DeviceTypeName() string { return peripheralTypes[q.DeviceType&0x1f] }

// idString turns a fixed-width identification field into text: up to the
// first NUL, without the space padding around it.
func idString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSpace(string(b))
}

// parseVPD checks a VPD page's header and returns its payload. A page
// longer than the buffer is cut to what was transferred: the callers read
// only whole fields from it.
func parseVPD(b []byte, page uint8) ([]byte, error) {
	what := fmt.Sprintf("VPD page %02Xh", page)
	if len(b) < 4 {
		return nil, malformed(what, "%d bytes", len(b))
	}
	if b[1] != page {
		return nil, malformed(what, "the device returned page %02Xh", b[1])
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	return b[4:min(4+n, len(b))], nil
}

// parseSupportedVPD decodes the Supported VPD Pages page (00h).
func parseSupportedVPD(b []byte) ([]uint8, error) {
	p, err := parseVPD(b, vpdSupported)
	if err != nil {
		return nil, err
	}
	return append([]uint8(nil), p...), nil
}

// parseUnitSerial decodes the Unit Serial Number page (80h).
func parseUnitSerial(b []byte) (string, error) {
	p, err := parseVPD(b, vpdUnitSerial)
	if err != nil {
		return "", err
	}
	return idString(p), nil
}

// deviceID is what the Device Identification page (83h) says.
type deviceID struct {
	// LogicalUnit is the logical unit's designator as smartctl prints it
	// (an NAA or EUI-64 in hex with 0x, else a SCSI name string), "" when
	// the page has none of those.
	LogicalUnit string
	// Transport is the PROTOCOL IDENTIFIER of the first port designator
	// that declares one (SPC-4 table 444: 6 SAS, 0 Fibre Channel...), -1
	// when none does.
	Transport int
}

// parseDeviceID decodes designation descriptors (SPC-4 7.8.6). A
// descriptor that claims more bytes than the page holds ends the walk.
func parseDeviceID(b []byte) (*deviceID, error) {
	p, err := parseVPD(b, vpdDeviceID)
	if err != nil {
		return nil, err
	}
	id := &deviceID{Transport: -1}
	var numeric, name string
	for off := 0; off+4 <= len(p); {
		d := p[off:]
		n := int(d[3])
		if 4+n > len(d) {
			break
		}
		v := d[4 : 4+n]
		codeSet, piv, assoc, typ := d[0]&0xf, d[1]&0x80 != 0, (d[1]>>4)&3, d[1]&0xf
		off += 4 + n
		if assoc != 0 {
			if piv && id.Transport < 0 {
				id.Transport = int(d[0] >> 4)
			}
			continue
		}
		switch typ {
		case 2: // EUI-64 based
			if numeric == "" && (n == 8 || n == 12 || n == 16) {
				numeric = fmt.Sprintf("0x%x", v)
			}
		case 3: // NAA
			if numeric != "" || codeSet != 1 || n == 0 {
				continue
			}
			switch naa := v[0] >> 4; {
			case (naa == 2 || naa == 3 || naa == 5) && n == 8, naa == 6 && n == 16:
				numeric = fmt.Sprintf("0x%x", v)
			}
		case 8: // SCSI name string, UTF-8
			if name == "" && codeSet == 3 {
				name = idString(v)
			}
		}
	}
	id.LogicalUnit = numeric
	if id.LogicalUnit == "" {
		id.LogicalUnit = name
	}
	return id, nil
}

// blockDevChar is the Block Device Characteristics page (B1h, SBC-3
// 6.6.2).
type blockDevChar struct {
	RotationRate uint16 // 0 not reported, 1 non-rotating, 0401h-FFFEh rpm
	FormFactor   uint8  // 1 5.25", 2 3.5", 3 2.5", 4 1.8", 5 under 1.8"
}

func parseBlockDevChar(b []byte) (*blockDevChar, error) {
	p, err := parseVPD(b, vpdBlockDevChar)
	if err != nil {
		return nil, err
	}
	if len(p) < 4 {
		return nil, malformed("VPD page B1h", "%d bytes, want 4", len(p))
	}
	return &blockDevChar{RotationRate: binary.BigEndian.Uint16(p), FormFactor: p[3] & 0xf}, nil
}

// parseProvisioningVPD returns the Logical Block Provisioning page's
// (B2h, SBC-3 6.6.4) PROVISIONING TYPE and LBPRZ field (byte 5 bits 4:2
// since SBC-4; bit 2 alone in SBC-3, which reads the same for 0 and 1).
func parseProvisioningVPD(b []byte) (provType, lbprz uint8, err error) {
	p, err := parseVPD(b, vpdProvisioning)
	if err != nil {
		return 0, 0, err
	}
	if len(p) < 3 {
		return 0, 0, malformed("VPD page B2h", "%d bytes, want 3", len(p))
	}
	return p[2] & 0x7, (p[1] >> 2) & 0x7, nil
}

// modePage finds the page in a MODE SENSE(6) or, with ten set, MODE
// SENSE(10) response, after the header and any block descriptors, and
// returns it from its first byte, cut to its PAGE LENGTH and to what was
// transferred.
func modePage(b []byte, ten bool, page uint8) ([]byte, error) {
	what := fmt.Sprintf("mode page %02Xh", page)
	var total, off int
	switch {
	case ten && len(b) >= 8:
		total = int(binary.BigEndian.Uint16(b)) + 2
		off = 8 + int(binary.BigEndian.Uint16(b[6:]))
	case !ten && len(b) >= 4:
		total = int(b[0]) + 1
		off = 4 + int(b[3])
	default:
		return nil, malformed(what, "mode parameter header of %d bytes", len(b))
	}
	end := min(total, len(b))
	if off+2 > end {
		return nil, malformed(what, "no page after the %d-byte header and block descriptors", off)
	}
	if got := b[off] & 0x3f; got != page {
		return nil, malformed(what, "the device returned page %02Xh", got)
	}
	n := 2 + int(b[off+1])
	if b[off]&0x40 != 0 { // SPF: the sub_page format has a 16-bit length
		if off+4 > end {
			return nil, malformed(what, "truncated sub_page header")
		}
		n = 4 + int(binary.BigEndian.Uint16(b[off+2:]))
	}
	return b[off:min(off+n, end)], nil
}

// SCSIExceptionControl is the Informational Exceptions Control mode page
// (1Ch, SPC-4 7.5.8): whether the device reports failure predictions.
type SCSIExceptionControl struct {
	// Enabled is DEXCPT clear: informational exceptions are reported
	// (smartctl's "SMART support is: Enabled").
	Enabled bool
	// TemperatureWarning is EWASC: temperature warnings are reported.
	TemperatureWarning bool
	MRIE               uint8 // method of reporting informational exceptions
}

func parseIECPage(b []byte, ten bool) (*SCSIExceptionControl, error) {
	p, err := modePage(b, ten, modePageIEC)
	if err != nil {
		return nil, err
	}
	if len(p) < 4 {
		return nil, malformed("mode page 1Ch", "%d bytes, want 4", len(p))
	}
	return &SCSIExceptionControl{Enabled: p[2]&0x08 == 0, TemperatureWarning: p[2]&0x10 != 0, MRIE: p[3] & 0xf}, nil
}

// parseControlPage returns the EXTENDED SELF-TEST COMPLETION TIME of the
// Control mode page (0Ah, SPC-4 7.5.7), in seconds.
func parseControlPage(b []byte, ten bool) (uint16, error) {
	p, err := modePage(b, ten, modePageControl)
	if err != nil {
		return 0, err
	}
	if len(p) < 12 {
		return 0, malformed("mode page 0Ah", "%d bytes, want 12", len(p))
	}
	return binary.BigEndian.Uint16(p[10:]), nil
}

var transportNames = [16]string{
	"Fibre channel (FCP-4)", "Parallel SCSI (SPI-4)", "SSA", "IEEE 1394 (SBP-3)", "RDMA (SRP)", "iSCSI",
	"SAS (SPL-4)", "ADT", "ATA (ACS-2)", "UAS", "SOP", "PCIe", "0xc", "0xd", "0xe", "None given [0xf]",
}

var formFactors = map[uint8]string{1: "5.25 inches", 2: "3.5 inches", 3: "2.5 inches", 4: "1.8 inches", 5: "< 1.8 inches"}
