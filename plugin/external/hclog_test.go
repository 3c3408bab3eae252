package external

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// go-plugin's messages reach slog with their level, logger name and
// arguments, including malformed argument lists.
func TestHCLogAdapter(t *testing.T) {
	rec := &recorder{}
	var l hclog.Logger = newHCLogger(slog.New(rec), "go-plugin")
	l = l.Named("client").With("id", 7)
	l.Warn("starting", "path", "/x", "odd")
	l.Log(hclog.Error, "bad key", 3, "v")
	l.StandardLogger(nil).Print("from log")
	for _, want := range []string{
		"WARN starting logger=go-plugin.client id=7 path=/x EXTRA_VALUE_AT_END=odd",
		"ERROR bad key logger=go-plugin.client id=7 BAD_KEY=v",
		"INFO from log",
	} {
		if !rec.find(want) {
			t.Errorf("no record %q in %q", want, rec.recs)
		}
	}
	if l.GetLevel() != hclog.Off {
		t.Error("GetLevel must be Off so go-plugin never parses plugin stderr itself")
	}
}

// Plugin stderr: lines split across writes are joined, over-long lines
// are cut, hclog JSON keeps its level and attributes, anything else is
// text.
func TestStderrLog(t *testing.T) {
	rec := &recorder{}
	w := stderrLog(slog.New(rec).With("plugin", "p"))
	w.Write([]byte(`{"@level":"warn","@message":"disk `))
	w.Write([]byte(`full","@timestamp":"2026-01-02T03:04:05.000000Z","dev":"loop0"}` + "\nplain line\n"))
	w.Write([]byte("panic: boom\n\tstack\n"))
	w.Write(bytes.Repeat([]byte("x"), maxLogLine+10))
	w.Write([]byte("\n"))
	for _, want := range []string{
		"WARN disk full dev=loop0 plugin=p",
		"DEBUG plain line stream=stderr plugin=p",
		"WARN panic: boom",
		"WARN \tstack",
	} {
		if !rec.find(want) {
			t.Errorf("no record %q in %q", want, rec.recs)
		}
	}
	long := 0
	for _, r := range rec.recs {
		if strings.Contains(r, "xxxxxxxx") {
			long++
		}
	}
	if long != 2 {
		t.Errorf("an over-long line made %d records, want 2", long)
	}
}

// NewPluginLogger writes what the host's parser reads back.
func TestPluginLoggerRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	NewPluginLogger(&buf, slog.LevelDebug).Debug("hello", "n", 16777216)
	lv, msg, attrs, ok := parseHCLogLine(bytes.TrimSpace(buf.Bytes()))
	if !ok || lv != slog.LevelDebug || msg != "hello" || len(attrs) != 1 || attrs[0].(slog.Attr).Value.String() != "16777216" {
		t.Fatalf("parsed %v %q %v %v from %s", lv, msg, attrs, ok, buf.String())
	}
}
