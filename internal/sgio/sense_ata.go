package sgio

// ATAFromFixedSense reads the ATA registers out of fixed-format sense data
// (response code 70h/71h) that answered an ATA PASS-THROUGH command, whatever
// its ASC. SAT-3 puts ERROR, STATUS, DEVICE and COUNT(7:0) in INFORMATION and
// the flags and LBA(23:0) in COMMAND-SPECIFIC INFORMATION both for CK_COND
// (ASC 00/1Dh) and for a command the drive failed, and Linux libata, whose
// default is fixed format, sends the failure with the ASC it translated from
// the ATA error (ABRT is ABORTED COMMAND 00/00h). ParseSense only trusts those
// fields under 00/1Dh because for any other command they mean something else;
// a caller that knows it sent ATA PASS-THROUGH uses this instead.
// It returns nil for descriptor sense or sense too short to hold the fields.
func ATAFromFixedSense(b []byte) *ATAStatus {
	if len(b) < 12 || (b[0]&0x7f != 0x70 && b[0]&0x7f != 0x71) || b[7] < 4 {
		return nil
	}
	return &ATAStatus{
		Error:     b[3],
		Status:    b[4],
		Device:    b[5],
		Count:     uint16(b[6]),
		Extend:    b[8]&0x80 != 0,
		Truncated: b[8]&0x60 != 0,
		LBA:       uint64(b[9]) | uint64(b[10])<<8 | uint64(b[11])<<16,
	}
}
