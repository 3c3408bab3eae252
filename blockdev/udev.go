package blockdev

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
)

// UdevRecord is the part of a udev database record (/run/udev/data/b<maj>:<min>)
// discovery uses.
type UdevRecord struct {
	Properties map[string]string // E: lines
	Keys       []string          // the keys of Properties in the record's order
	Links      []string          // S: lines, relative to /dev
	Tags       []string          // G: and Q: lines
}

// ParseUdevRecord parses a udev database file. Unknown line kinds are
// skipped; a line without the "K:" shape is a syntax error.
func ParseUdevRecord(data []byte) (*UdevRecord, error) {
	r := &UdevRecord{Properties: map[string]string{}}
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for s.Scan() {
		n++
		line := s.Text()
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			return nil, fmt.Errorf("%w: udev record line %d: %q", ErrSyntax, n, line)
		}
		v := line[2:]
		switch line[0] {
		case 'E':
			k, val, ok := strings.Cut(v, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%w: udev property line %d: %q", ErrSyntax, n, line)
			}
			if _, dup := r.Properties[k]; !dup {
				r.Keys = append(r.Keys, k)
			}
			r.Properties[k] = val
		case 'S':
			r.Links = append(r.Links, v)
		case 'G', 'Q':
			r.Tags = append(r.Tags, v)
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%w: udev record: %w", ErrSyntax, err)
	}
	return r, nil
}

// udev enriches devices from the udev database when the machine has one,
// and in a fake tree from the property files lsblk --sysroot reads.
// udev knows serials and WWNs that sysfs does not show (ATA IDENTIFY data read
// by udev's helpers), so its values win for those; sysfs wins for the rest.
func (x *discovery) udev() {
	dir := x.root.Run("udev", "data")
	db := true
	if _, err := os.Stat(dir); err != nil {
		db = false // no udev on this machine: discovery is complete without it
	}
	files := !x.root.IsLive()
	if !db && !files {
		return
	}
	for _, d := range x.g.devs {
		if !x.isFresh(d) {
			continue
		}
		var rec *UdevRecord
		if db && d.MajMin.Major != 0 {
			rec = x.udevRecord(d, dir+"/b"+d.MajMin.String())
		}
		if files {
			if fr := x.propertyFile(d); fr != nil {
				if rec == nil {
					rec = fr
				} else {
					// The file's values win; its keys follow the record's.
					for _, k := range fr.Keys {
						if _, dup := rec.Properties[k]; !dup {
							rec.Keys = append(rec.Keys, k)
						}
					}
					maps.Copy(rec.Properties, fr.Properties)
				}
			}
		}
		if rec == nil {
			continue
		}
		d.Udev, d.UdevKeys = rec.Properties, rec.Keys
		props := rec.Properties
		if v := props["ID_SERIAL_SHORT"]; v != "" {
			d.Serial = v
		}
		if v := props["ID_WWN_WITH_EXTENSION"]; v != "" {
			d.WWN = v
		} else if v := props["ID_WWN"]; v != "" {
			d.WWN = v
		}
		if d.Model == "" {
			d.Model = props["ID_MODEL"]
		}
	}
}

// udevRecord reads the E: lines of one udev database record; nil when
// there is none (or it is unreadable: then an *AttrError says so).
func (x *discovery) udevRecord(d *Device, p string) *UdevRecord {
	data, err := readBoundedFile(p, 1<<20)
	x.opens++
	if err != nil {
		if !os.IsNotExist(err) {
			d.addErr("udev "+p, err)
		}
		return nil
	}
	rec, err := ParseUdevRecord(data)
	if err != nil {
		d.addErr("udev "+p, err)
		return nil
	}
	return rec
}

// maxPropertyFile bounds a fake tree's property file; a larger /dev entry
// is an image for the signature probe, not properties.
const maxPropertyFile = 1 << 20

// propertyFile reads the udev properties of a device in a fake tree from
// DIR/<Path> (DIR/dev/sda, DIR/dev/mapper/vg-lv), where util-linux's lsblk
// test dumps keep them (udevadm info --query=property output, KEY=VALUE
// lines) and lsblk --sysroot reads them. The tree's /dev entries are
// otherwise empty placeholders or images for the probe: an empty file, one
// larger than maxPropertyFile, or one holding a NUL byte has no properties
// (nil).
func (x *discovery) propertyFile(d *Device) *UdevRecord {
	p := x.root.Path(d.Path)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > maxPropertyFile {
		return nil
	}
	x.opens++
	data, err := readBoundedFile(p, maxPropertyFile)
	if err != nil {
		d.addErr("udev "+p, err)
		return nil
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil
	}
	rec := ParseUdevProperties(data)
	if len(rec.Keys) == 0 {
		return nil
	}
	return rec
}

// ParseUdevProperties parses KEY=VALUE lines, the output of udevadm info
// --query=property and the property files of util-linux's lsblk test
// dumps, as lsblk reads them: a line without '=' or with an empty value is
// skipped, and the first line with a value for a key wins. The record has
// Properties and Keys only.
func ParseUdevProperties(data []byte) *UdevRecord {
	r := &UdevRecord{Properties: map[string]string{}}
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSuffix(line, "\n")
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || v == "" {
			continue
		}
		if _, dup := r.Properties[k]; !dup {
			r.Properties[k] = v
			r.Keys = append(r.Keys, k)
		}
	}
	return r
}

// readBoundedFile reads at most max bytes of path.
func readBoundedFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > max {
		return nil, fmt.Errorf("%w: %s larger than %d bytes", ErrSyntax, path, max)
	}
	return b.Bytes(), nil
}
