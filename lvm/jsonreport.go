package lvm

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// jsonReport is lvm's JSON report: "report" holds one object per VG (for
// fullreport) or one object (pvs, vgs, lvs), each mapping a row kind
// ("pv", "vg", "lv", "pvseg", "seg") to rows; "log" holds the command log.
// A row is field name to value. In "json" every value is a string; in
// "json_std" numbers are JSON numbers and unknown values null, so both are
// read into strings here (a number as its literal, null as "").
type jsonReport struct {
	Report []map[string][]row
	Log    []row
}

type row map[string]string

func parseJSONReport(b []byte) (*jsonReport, error) {
	var raw struct {
		Report []map[string][]map[string]json.RawMessage `json:"report"`
		Log    []map[string]json.RawMessage              `json:"log"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, malformed("lvm JSON report", dec.InputOffset(), "%v", err)
	}
	if raw.Report == nil && raw.Log == nil {
		return nil, malformed("lvm JSON report", 0, "no report and no log")
	}
	out := &jsonReport{}
	for _, o := range raw.Report {
		m := map[string][]row{}
		for kind, rows := range o {
			for _, r := range rows {
				cr, err := convertRow(r)
				if err != nil {
					return nil, err
				}
				m[kind] = append(m[kind], cr)
			}
		}
		out.Report = append(out.Report, m)
	}
	for _, r := range raw.Log {
		cr, err := convertRow(r)
		if err != nil {
			return nil, err
		}
		out.Log = append(out.Log, cr)
	}
	return out, nil
}

func convertRow(r map[string]json.RawMessage) (row, error) {
	out := make(row, len(r))
	for k, v := range r {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) == 0 || string(v) == "null":
			out[k] = ""
		case v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, malformed("lvm JSON field "+k, 0, "%v", err)
			}
			out[k] = s
		case v[0] == '[': // json_std lists (tags, layout)
			var ss []string
			if err := json.Unmarshal(v, &ss); err != nil {
				return nil, malformed("lvm JSON field "+k, 0, "%v", err)
			}
			out[k] = strings.Join(ss, ",")
		case v[0] == '-' || v[0] >= '0' && v[0] <= '9':
			out[k] = string(v)
		default:
			return nil, malformed("lvm JSON field "+k, 0, "unexpected value %.20s", v)
		}
	}
	return out, nil
}

// Field conversions. lvm prints "" for "not applicable" and -1 for an
// unknown number; both become the zero or -1 given.
func (r row) int64(k string) int64 {
	n, err := strconv.ParseInt(r[k], 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(r[k], 64); ferr == nil {
			return int64(f)
		}
		return 0
	}
	return n
}

func (r row) intOr(k string, def int) int {
	n, err := strconv.Atoi(r[k])
	if err != nil {
		return def
	}
	return n
}

func (r row) percent(k string) float64 {
	f, err := strconv.ParseFloat(r[k], 64)
	if err != nil {
		return -1
	}
	return f
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
