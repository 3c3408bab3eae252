// Package sgio is the raw SCSI generic (SG_IO) layer under blockdev/smart.
//
// It holds the kernel's struct sg_io_hdr (include/scsi/sg.h) as a Go struct
// with the same layout on every architecture, the SG_IO ioctl number, one
// function that issues a command (Do), builders for the read-only SCSI
// commands blockdev/smart sends (INQUIRY, LOG SENSE, MODE SENSE(6) and
// (10), READ DEFECT DATA(10) and (12)), and decoders for the sense data a
// command returns, including the ATA Status Return descriptor that carries the
// ATA registers back from an ATA PASS-THROUGH command (SAT).
//
// Lifetime hazard: the header holds raw pointers to the CDB, the data buffer
// and the sense buffer that the kernel dereferences during the ioctl. Do pins
// all of them with runtime.Pinner for the duration of the call and keeps them
// alive with runtime.KeepAlive, so neither the garbage collector nor a moving
// stack can invalidate them while the kernel writes into them.
//
// A successful ioctl does not mean the command succeeded: the SCSI status, the
// host and driver status and the sense data say that. Do returns them all in a
// Result and leaves their interpretation to the caller, with Sense.Err and
// Result.Err as the common-case helpers. ParseSense reads ATA registers
// from fixed-format sense only under ASC/ASCQ 00/1Dh, where any command's
// sense can be trusted to mean them; ATAFromFixedSense reads them whatever
// the ASC, for callers that know they sent ATA PASS-THROUGH (libata reports
// a failed pass-through command that way, with the ASC it translated).
package sgio
