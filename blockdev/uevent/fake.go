package uevent

import (
	"context"
	"sync"
)

// FakeSource is a Source fed by the test: Send queues one raw message,
// SendEvent one Event in the kernel format. Safe for concurrent use.
type FakeSource struct {
	ch     chan []byte
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	closed bool
}

// NewFakeSource returns a source that holds up to 1024 unread messages.
func NewFakeSource() *FakeSource {
	return &FakeSource{ch: make(chan []byte, 1024), done: make(chan struct{})}
}

// Send queues msg; it reports false when the source is closed or full.
func (f *FakeSource) Send(msg []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	select {
	case f.ch <- append([]byte(nil), msg...):
		return true
	default:
		return false
	}
}

// SendEvent queues e encoded by Marshal.
func (f *FakeSource) SendEvent(e Event) bool { return f.Send(Marshal(e)) }

// Receive implements Source.
func (f *FakeSource) Receive(ctx context.Context, buf []byte) (int, error) {
	select {
	case <-f.done:
		return 0, ErrClosed
	default:
	}
	select {
	case m := <-f.ch:
		return copy(buf, m), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-f.done:
		return 0, ErrClosed
	}
}

// Close implements Source.
func (f *FakeSource) Close() error {
	f.once.Do(func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		close(f.done)
	})
	return nil
}
