package smart

import "fmt"

// USBBridge is the USB device a SCSI disk sits behind, read from sysfs
// (idVendor, idProduct, bcdDevice of the USB device above the SCSI host),
// and what is known of its pass-through.
type USBBridge struct {
	VendorID, ProductID, Revision uint16
	// Known is set when the bridge is in this package's table.
	Known bool
	// Name is the bridge chip or product, when known.
	Name string
	// PassThrough is how the bridge passes ATA or NVMe commands, in
	// smartctl's -d spelling: "sat" (SAT ATA PASS-THROUGH, which this
	// package speaks), "sat,12" (only the 12-byte form), "usbjmicron",
	// "usbcypress", "usbsunplus", "usbprolific" (vendor ATA tunnels),
	// "sntjmicron", "sntasmedia", "sntrealtek" (vendor NVMe tunnels), or ""
	// for a bridge known to pass none.
	PassThrough string
}

// ID is the bridge's identity as smartctl prints it:
// [0xVVVV:0xPPPP (0xRRR)].
func (u *USBBridge) ID() string {
	return fmt.Sprintf("[0x%04x:0x%04x (0x%03x)]", u.VendorID, u.ProductID, u.Revision)
}

// usbBridge is one row of the table: a vendor, a product (anyProduct for
// all of the vendor's bridges not listed before it) and, when the same
// product id changed behaviour between firmware versions, the revision.
type usbBridge struct {
	vendor, product uint16
	revision        int // -1 any
	name, pass      string
}

const anyProduct = 0xffff

// usbBridges lists the common USB-to-SATA and USB-to-NVMe bridge chips and
// the enclosure vendors whose whole range speaks SAT, with what each
// passes. Rows are searched in order, so a vendor's exceptions come before
// its catch-all row. The facts are those smartmontools' drive database
// records for these ids; a bridge not listed is unknown, and an unknown
// bridge is never probed (some hang on commands they do not know), just
// as smartctl refuses it without -d.
var usbBridges = []usbBridge{
	{0x04b4, 0x6830, 0x0001, "Cypress CY7C68300A (AT2)", ""},
	{0x04b4, 0x6830, 0x0240, "Cypress CY7C68300B/C (AT2LP)", "usbcypress"},
	{0x04fc, 0x0c05, -1, "SunPlus", "usbsunplus"},
	{0x04fc, 0x0c15, -1, "SunPlus SPDIF215", "usbsunplus"},
	{0x04fc, 0x0c25, -1, "SunPlus SPDIF225", "usbsunplus"},
	{0x05e3, 0x0702, -1, "Genesys Logic GL881E", ""},
	{0x05e3, 0x0731, -1, "Genesys Logic GL3310", "sat"},
	{0x05e3, 0x0735, -1, "Genesys Logic", "sat"},
	{0x067b, 0x2571, -1, "Prolific PL2571", "usbprolific"},
	{0x067b, 0x2771, -1, "Prolific PL2771", "usbprolific"},
	{0x067b, 0x2773, -1, "Prolific PL2773", "usbprolific"},
	{0x067b, 0x2775, -1, "Prolific PL2775", "usbprolific"},
	{0x0bc2, 0x0503, -1, "Seagate External Drive (Cypress)", "usbcypress"},
	{0x0bc2, 0x3008, -1, "Seagate FreeAgent", "sat,12"},
	{0x0bc2, 0x5031, -1, "Seagate FreeAgent", "sat,12"},
	{0x0bc2, 0x50a1, -1, "Seagate FreeAgent", "sat,12"},
	{0x0bc2, anyProduct, -1, "Seagate", "sat"},
	{0x0bda, 0x9210, -1, "Realtek RTL9210 (NVMe)", "sntrealtek"},
	{0x1058, 0x0701, -1, "WD My Passport (IDE, Cypress)", "usbcypress"},
	{0x1058, anyProduct, -1, "Western Digital", "sat"},
	{0x13fd, 0x0540, -1, "Initio 316000", ""},
	{0x13fd, 0x1040, -1, "Initio", ""},
	{0x13fd, 0x1150, -1, "Initio", ""},
	{0x13fd, 0x1640, -1, "Initio", "sat,12"},
	{0x13fd, 0x1650, -1, "Initio", "sat,12"},
	{0x13fd, anyProduct, -1, "Initio", "sat"},
	{0x152d, 0x0561, -1, "JMicron", "sat"},
	{0x152d, 0x0562, -1, "JMicron JM562", "sat"},
	{0x152d, 0x0565, -1, "JMicron", "sat"},
	{0x152d, 0x0567, -1, "JMicron JMS567", "sat"},
	{0x152d, 0x0578, -1, "JMicron JMS578", "sat"},
	{0x152d, 0x0579, -1, "JMicron", "sat"},
	{0x152d, 0x0583, -1, "JMicron JMS583 (NVMe)", "sntjmicron"},
	{0x152d, 0x0602, -1, "JMicron JMF601", ""},
	{0x152d, 0x1337, -1, "JMicron", "sat"},
	{0x152d, 0x1561, -1, "JMicron JMS561", "sat"},
	{0x152d, 0x9561, -1, "JMicron JMS561", "sat"},
	{0x152d, 0x2329, -1, "JMicron JM20329", "usbjmicron"},
	{0x152d, 0x2336, -1, "JMicron JM20336", "usbjmicron,x"},
	{0x152d, 0x2337, -1, "JMicron", "usbjmicron"},
	{0x152d, 0x2338, -1, "JMicron JM20337/8", "usbjmicron"},
	{0x152d, 0x2339, -1, "JMicron JM20339", "usbjmicron,x"},
	{0x152d, 0x2351, -1, "JMicron", "sat"},
	{0x152d, 0x2352, -1, "JMicron", "usbjmicron,x"},
	{0x152d, 0x2509, -1, "JMicron", "usbjmicron,x"},
	{0x152d, 0x2566, -1, "JMicron JMS566", "usbjmicron,x"},
	{0x152d, 0x2567, -1, "JMicron JMS567", "sat"},
	{0x152d, 0x2590, -1, "JMicron", "sat"},
	{0x174c, 0x2362, -1, "ASMedia ASM2362 (NVMe)", "sntasmedia"},
	{0x174c, anyProduct, -1, "ASMedia", "sat"},
	{0x1f75, 0x0611, -1, "Innostor IS611", "sat"},
	{0x1f75, 0x0621, -1, "Innostor IS621", "sat"},
	{0x1f75, 0x0888, -1, "Innostor IS888", "sat"},
	{0x2109, 0x0701, -1, "VIA VL701", "sat"},
	{0x2109, 0x0711, -1, "VIA VL711", "sat"},
	{0x2109, 0x0715, -1, "VIA VL715", "sat"},
	{0x2109, 0x0716, -1, "VIA VL716", "sat"},
}

// lookupUSBBridge fills in what the table knows of a bridge.
func lookupUSBBridge(vendor, product, revision uint16) *USBBridge {
	u := &USBBridge{VendorID: vendor, ProductID: product, Revision: revision}
	for _, b := range usbBridges {
		if b.vendor != vendor || (b.product != anyProduct && b.product != product) ||
			(b.revision >= 0 && uint16(b.revision) != revision) {
			continue
		}
		u.Known, u.Name, u.PassThrough = true, b.name, b.pass
		break
	}
	return u
}
