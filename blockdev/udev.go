package blockdev

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// UdevRecord is the part of a udev database record (/run/udev/data/b<maj>:<min>)
// discovery uses.
type UdevRecord struct {
	Properties map[string]string // E: lines
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

// udev enriches devices from the udev database when the machine has one.
// udev knows serials and WWNs that sysfs does not show (ATA IDENTIFY data read
// by udev's helpers), so its values win for those; sysfs wins for the rest.
func (x *discovery) udev() {
	dir := x.root.Run("udev", "data")
	if _, err := os.Stat(dir); err != nil {
		return // no udev on this machine: discovery is complete without it
	}
	for _, d := range x.g.devs {
		if d.MajMin.Major == 0 || !x.isFresh(d) {
			continue
		}
		p := dir + "/b" + d.MajMin.String()
		data, err := readBoundedFile(p, 1<<20)
		x.opens++
		if err != nil {
			if !os.IsNotExist(err) {
				d.addErr("udev "+p, err)
			}
			continue
		}
		rec, err := ParseUdevRecord(data)
		if err != nil {
			d.addErr("udev "+p, err)
			continue
		}
		d.Udev = rec.Properties
		pr := rec.Properties
		if v := pr["ID_SERIAL_SHORT"]; v != "" {
			d.Serial = v
		}
		if v := pr["ID_WWN_WITH_EXTENSION"]; v != "" {
			d.WWN = v
		} else if v := pr["ID_WWN"]; v != "" {
			d.WWN = v
		}
		if d.Model == "" {
			d.Model = pr["ID_MODEL"]
		}
	}
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
