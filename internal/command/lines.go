package command

// maxLine bounds a progress line: a stream that never prints '\n' or '\r'
// is handed to Progress in pieces of this size rather than held forever.
const maxLine = 64 << 10

// lineSplitter hands each '\n'- or '\r'-terminated line of a stream to fn as
// the bytes arrive. It is used by one goroutine at a time.
type lineSplitter struct {
	fn  func(string)
	buf []byte
}

func (l *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := indexLineEnd(p)
		seg := p
		if i >= 0 {
			seg = p[:i]
		}
		for len(l.buf)+len(seg) >= maxLine {
			k := maxLine - len(l.buf)
			l.buf = append(l.buf, seg[:k]...)
			l.emit()
			seg = seg[k:]
		}
		l.buf = append(l.buf, seg...)
		if i < 0 {
			break
		}
		l.emit()
		p = p[i+1:]
	}
	return n, nil
}

func indexLineEnd(p []byte) int {
	for i, c := range p {
		if c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

func (l *lineSplitter) emit() {
	if len(l.buf) > 0 {
		l.fn(string(l.buf))
	}
	l.buf = l.buf[:0]
}

// Flush reports a last line that had no terminator.
func (l *lineSplitter) Flush() { l.emit() }

// splitLines feeds b through a lineSplitter: what a replay does with a
// recorded stream.
func splitLines(b []byte, fn func(string)) {
	l := lineSplitter{fn: fn}
	l.Write(b)
	l.Flush()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max       int
	buf       []byte
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.truncated = t.truncated || len(t.buf) > 0 || len(p) > t.max
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max { // amortise: shift only once the slack is used up
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
		t.truncated = true
	}
	return n, nil
}

// Bytes returns a copy of the kept tail.
func (t *tailBuffer) Bytes() ([]byte, bool) {
	b := t.buf
	trunc := t.truncated
	if len(b) > t.max {
		b = b[len(b)-t.max:]
		trunc = true
	}
	if len(b) == 0 {
		return nil, trunc
	}
	return append([]byte(nil), b...), trunc
}

// limitBuffer collects standard output up to max bytes (0: no limit); past
// it, over is called once and writes fail, which stops os/exec's copy.
type limitBuffer struct {
	max  int64
	buf  []byte
	over func()
	hit  bool
}

func (l *limitBuffer) Write(p []byte) (int, error) {
	if l.hit {
		return 0, ErrOutputLimit
	}
	if l.max > 0 && int64(len(l.buf))+int64(len(p)) > l.max {
		l.hit = true
		l.over()
		return 0, ErrOutputLimit
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// tee writes to the capture, then to the progress splitter.
type tee struct {
	capture interface{ Write([]byte) (int, error) }
	lines   *lineSplitter
}

func (t tee) Write(p []byte) (int, error) {
	n, err := t.capture.Write(p)
	if err != nil {
		return n, err
	}
	if t.lines != nil {
		t.lines.Write(p)
	}
	return n, nil
}
