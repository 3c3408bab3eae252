package external

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hcLogger is go-plugin's logger interface (hclog) over a *slog.Logger, so
// that go-plugin's own messages land in the caller's logger.
//
// GetLevel always answers Off. go-plugin parses a plugin's stderr only for
// a logger that is not Off, and its parser (v1.8.0) panics on a line such
// as {"@message": 5}; a plugin that lies must not crash the host, so the
// host parses stderr itself (stderrLog) and go-plugin only copies it.
type hcLogger struct {
	l    *slog.Logger
	name string
	args []any
}

var _ hclog.Logger = (*hcLogger)(nil)

func newHCLogger(l *slog.Logger, name string) *hcLogger { return &hcLogger{l: l, name: name} }

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (h *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	lv := slogLevel(level)
	if !h.l.Enabled(context.Background(), lv) {
		return
	}
	attrs := make([]any, 0, 2+len(h.args)+len(args))
	attrs = append(attrs, "logger", h.name)
	attrs = append(attrs, pairs(h.args)...)
	attrs = append(attrs, pairs(args)...)
	h.l.Log(context.Background(), lv, msg, attrs...)
}

// pairs turns hclog's alternating key, value arguments into slog
// attributes; a key that is not a string, or a value without a key, is
// kept under a made-up key rather than dropped.
func pairs(args []any) []any {
	out := make([]any, 0, len(args)/2+1)
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			out = append(out, slog.Any("EXTRA_VALUE_AT_END", args[i]))
			break
		}
		k, ok := args[i].(string)
		if !ok {
			k = "BAD_KEY"
		}
		out = append(out, slog.Any(k, args[i+1]))
	}
	return out
}

func (h *hcLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hcLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hcLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hcLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hcLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hcLogger) enabled(l hclog.Level) bool {
	return h.l.Enabled(context.Background(), slogLevel(l))
}

func (h *hcLogger) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *hcLogger) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *hcLogger) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *hcLogger) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *hcLogger) IsError() bool { return h.enabled(hclog.Error) }

func (h *hcLogger) ImpliedArgs() []any { return h.args }

func (h *hcLogger) With(args ...any) hclog.Logger {
	return &hcLogger{l: h.l, name: h.name, args: append(append([]any(nil), h.args...), args...)}
}

func (h *hcLogger) Name() string { return h.name }

func (h *hcLogger) Named(name string) hclog.Logger {
	n := name
	if h.name != "" {
		n = h.name + "." + name
	}
	return &hcLogger{l: h.l, name: n, args: h.args}
}

func (h *hcLogger) ResetNamed(name string) hclog.Logger {
	return &hcLogger{l: h.l, name: name, args: h.args}
}

// SetLevel is ignored: the slog handler decides.
func (h *hcLogger) SetLevel(hclog.Level) {}

func (h *hcLogger) GetLevel() hclog.Level { return hclog.Off }

func (h *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hcLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineWriter{emit: func(line []byte) { h.Info(string(line)) }}
}

// NewPluginLogger is the logger a plugin process should use: it writes
// hclog's JSON lines (@level, @message, @timestamp and the attributes) to
// w, normally the process's stderr, which the host reads and turns back
// into records of its own logger.
func NewPluginLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				return slog.String("@level", hclogLevelName(a.Value.Any()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}

func hclogLevelName(v any) string {
	l, ok := v.(slog.Level)
	if !ok {
		return "info"
	}
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// maxLogLine bounds one line of plugin stderr kept in memory.
const maxLogLine = 64 << 10

// lineWriter calls emit for every complete line written to it (and for
// every maxLogLine bytes of a longer one).
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func([]byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		end := i
		if end < 0 {
			end = len(p)
		}
		if room := maxLogLine - len(w.buf); end > room {
			// Too long: emit what fits, go on with the rest.
			w.buf = append(w.buf, p[:room]...)
			w.emit(w.buf)
			w.buf, p = w.buf[:0], p[room:]
			continue
		}
		w.buf = append(w.buf, p[:end]...)
		if i < 0 {
			break
		}
		p = p[i+1:]
		if len(w.buf) > 0 {
			w.emit(w.buf)
		}
		w.buf = w.buf[:0]
	}
	return n, nil
}

// stderrLog returns the writer the host gives go-plugin for a plugin's
// stderr: each line becomes one record of l (which names the plugin), with the plugin's level and
// attributes when the line is an hclog JSON object, and at debug level
// (warn for a Go panic) when it is anything else. A malformed line is
// logged as text, never trusted.
func stderrLog(l *slog.Logger) io.Writer {
	inPanic := false
	return &lineWriter{emit: func(line []byte) {
		ctx := context.Background()
		if lv, msg, attrs, ok := parseHCLogLine(line); ok {
			l.Log(ctx, lv, msg, attrs...)
			return
		}
		s := string(bytes.TrimRight(line, "\r"))
		lv := slog.LevelDebug
		if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") {
			inPanic = true
		}
		if inPanic {
			lv = slog.LevelWarn
		}
		l.Log(ctx, lv, s, "stream", "stderr")
	}}
}

func parseHCLogLine(line []byte) (slog.Level, string, []any, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return 0, "", nil, false
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber() // 16777216, not 1.6777216e+07
	if dec.Decode(&raw) != nil || dec.More() {
		return 0, "", nil, false
	}
	msg, ok := raw["@message"].(string)
	if !ok {
		return 0, "", nil, false
	}
	lvName, _ := raw["@level"].(string)
	lv := slogLevel(hclog.LevelFromString(lvName))
	delete(raw, "@message")
	delete(raw, "@level")
	delete(raw, "@timestamp")
	delete(raw, "@module")
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]any, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, raw[k]))
	}
	return lv, msg, attrs, true
}
