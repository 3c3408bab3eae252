package partition

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Dump is a table in the shape of `sfdisk --json`, so scripts written against
// sfdisk read ours unchanged.
type Dump struct {
	PartitionTable DumpTable `json:"partitiontable"`
}

// DumpTable is the "partitiontable" object of sfdisk --json.
type DumpTable struct {
	Label      Label           `json:"label"`
	ID         string          `json:"id"`
	Device     string          `json:"device"`
	Unit       string          `json:"unit"`
	FirstLBA   uint64          `json:"firstlba,omitempty"`
	LastLBA    uint64          `json:"lastlba,omitempty"`
	SectorSize int             `json:"sectorsize"`
	Partitions []DumpPartition `json:"partitions,omitempty"`
}

// DumpPartition is one entry of "partitions".
type DumpPartition struct {
	Node     string `json:"node"`
	Start    uint64 `json:"start"`
	Size     uint64 `json:"size"`
	Type     string `json:"type"`
	UUID     string `json:"uuid,omitempty"`
	Name     string `json:"name,omitempty"`
	Attrs    string `json:"attrs,omitempty"`
	Bootable bool   `json:"bootable,omitempty"`
}

// PartitionNode names partition n of device as the kernel and sfdisk do:
// a "p" between a device name ending in a digit and the number.
func PartitionNode(device string, n int) string {
	if device != "" && device[len(device)-1] >= '0' && device[len(device)-1] <= '9' {
		return device + "p" + strconv.Itoa(n)
	}
	return device + strconv.Itoa(n)
}

// AttrString renders GPT attribute bits as sfdisk does: the three named
// UEFI bits, then "GUID:" and the type-specific bits 48-63.
func AttrString(a uint64) string {
	var parts []string
	for bit, name := range []string{"RequiredPartition", "NoBlockIOProtocol", "LegacyBIOSBootable"} {
		if a&(1<<bit) != 0 {
			parts = append(parts, name)
		}
	}
	var guid []string
	for bit := 48; bit < 64; bit++ {
		if a&(1<<bit) != 0 {
			guid = append(guid, strconv.Itoa(bit))
		}
	}
	if len(guid) > 0 {
		parts = append(parts, "GUID:"+strings.Join(guid, ","))
	}
	return strings.Join(parts, " ")
}

// ParseAttrs reads AttrString's form back (also plain bit numbers).
func ParseAttrs(s string) (uint64, error) {
	var a uint64
	for _, f := range strings.Fields(strings.ReplaceAll(s, ",", " , ")) {
		switch {
		case f == ",":
		case f == "RequiredPartition":
			a |= AttrRequired
		case f == "NoBlockIOProtocol":
			a |= AttrNoBlockIO
		case f == "LegacyBIOSBootable":
			a |= AttrLegacyBIOS
		default:
			n, err := strconv.Atoi(strings.TrimPrefix(f, "GUID:"))
			if err != nil || n < 0 || n > 63 {
				return 0, fmt.Errorf("%w: attribute %q", ErrInvalidArgument, f)
			}
			a |= 1 << n
		}
	}
	return a, nil
}

// Dump returns t in sfdisk --json form for device (the path printed).
func (t *Table) Dump(device string) Dump {
	d := DumpTable{Label: t.Label, Device: device, Unit: "sectors", SectorSize: t.SectorSize}
	if t.Label == LabelGPT {
		d.ID = t.DiskGUID.String()
		d.FirstLBA, d.LastLBA = t.FirstUsable, t.LastUsable
	} else {
		d.ID = fmt.Sprintf("0x%08x", t.DiskID)
	}
	for _, p := range t.Partitions {
		dp := DumpPartition{Node: PartitionNode(device, p.Number), Start: p.Start, Size: p.Size}
		if t.Label == LabelGPT {
			dp.Type, dp.UUID, dp.Name, dp.Attrs = p.Type.String(), p.UUID.String(), p.Name, AttrString(p.Attrs)
		} else {
			dp.Type, dp.Bootable = strconv.FormatUint(uint64(p.MBRType), 16), p.Bootable
		}
		d.Partitions = append(d.Partitions, dp)
	}
	return Dump{PartitionTable: d}
}

// MarshalIndent renders d as sfdisk prints it closely enough for any JSON reader.
func (d Dump) MarshalIndent() ([]byte, error) { return json.MarshalIndent(d, "", "   ") }
