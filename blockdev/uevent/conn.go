package uevent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

var (
	// ErrClosed is returned by Next after Close.
	ErrClosed = errors.New("uevent: connection closed")
	// ErrOverrun says the kernel dropped events because the socket buffer
	// was full. The connection stays usable; the caller's view may be stale
	// and should be rebuilt (for example by a fresh discovery).
	ErrOverrun = errors.New("uevent: events lost (receive buffer overrun)")
	// ErrInvalidOption marks an option value rejected before any I/O.
	ErrInvalidOption = errors.New("uevent: invalid option")
)

// Source yields raw uevent datagrams. The netlink socket is one; FakeSource
// is another, for tests. Receive blocks until a message arrives, ctx is
// done or the source is closed (then it returns ErrClosed).
type Source interface {
	Receive(ctx context.Context, buf []byte) (int, error)
	Close() error
}

// Option configures a Conn; options are validated once, in Listen/NewConn.
type Option func(*config) error

type config struct {
	log        *slog.Logger
	subsystems map[string]bool
	rcvbuf     int
	keepUdev   bool
}

// WithSubsystem keeps only events of the named subsystems (e.g. "block").
// Without it every event is returned.
func WithSubsystem(names ...string) Option {
	return func(c *config) error {
		if len(names) == 0 {
			return fmt.Errorf("%w: WithSubsystem needs a name", ErrInvalidOption)
		}
		if c.subsystems == nil {
			c.subsystems = map[string]bool{}
		}
		for _, n := range names {
			if n == "" {
				return fmt.Errorf("%w: empty subsystem", ErrInvalidOption)
			}
			c.subsystems[n] = true
		}
		return nil
	}
}

// WithLogger sets the logger for dropped malformed messages; nil discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.log = l
		return nil
	}
}

// WithReceiveBuffer sets the socket receive buffer in bytes (default 4 MiB),
// the room the kernel has for bursts before it drops events (ErrOverrun).
func WithReceiveBuffer(n int) Option {
	return func(c *config) error {
		if n < 64<<10 || n > 1<<30 {
			return fmt.Errorf("%w: receive buffer %d", ErrInvalidOption, n)
		}
		c.rcvbuf = n
		return nil
	}
}

// WithUdevMessages keeps messages in udevd's libudev format, which a
// source other than the kernel group may deliver. By default only kernel
// messages are returned.
func WithUdevMessages() Option {
	return func(c *config) error {
		c.keepUdev = true
		return nil
	}
}

func newConfig(opts []Option) (*config, error) {
	c := &config{rcvbuf: 4 << 20}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Conn reads typed events from a Source. Next may be called from one
// goroutine at a time; Close may be called from any goroutine and unblocks
// a pending Next.
type Conn struct {
	src Source
	cfg *config
	mu  sync.Mutex // serialises Next
	buf []byte
}

// Listen opens the kernel's uevent netlink socket (NETLINK_KOBJECT_UEVENT,
// multicast group 1: the kernel's own messages, not udevd's). It needs no
// privilege. ctx bounds only the setup; each Next takes its own.
func Listen(ctx context.Context, opts ...Option) (*Conn, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	src, err := openNetlink(cfg.rcvbuf)
	if err != nil {
		return nil, err
	}
	return &Conn{src: src, cfg: cfg, buf: make([]byte, maxMessage)}, nil
}

// NewConn reads events from src (a FakeSource in tests). Closing the Conn
// closes src.
func NewConn(src Source, opts ...Option) (*Conn, error) {
	if src == nil {
		return nil, fmt.Errorf("%w: nil source", ErrInvalidOption)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Conn{src: src, cfg: cfg, buf: make([]byte, maxMessage)}, nil
}

// Next returns the next event that passes the filters. Malformed messages
// are logged and skipped. It returns ctx's error when ctx is done,
// ErrClosed after Close, and ErrOverrun (once per overrun) when the kernel
// dropped events.
func (c *Conn) Next(ctx context.Context) (Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		n, err := c.src.Receive(ctx, c.buf)
		if err != nil {
			return Event{}, err
		}
		e, err := Parse(c.buf[:n])
		if err != nil {
			c.cfg.log.Debug("uevent: dropping message", "err", err)
			continue
		}
		if e.FromUdev && !c.cfg.keepUdev {
			continue
		}
		if c.cfg.subsystems != nil && !c.cfg.subsystems[e.Subsystem] {
			continue
		}
		return e, nil
	}
}

// Close releases the source and unblocks a pending Next.
func (c *Conn) Close() error { return c.src.Close() }

// netlinkSource is the kernel uevent socket, non-blocking, polled together
// with an eventfd so Close and context cancellation wake a blocked
// Receive at once instead of after a poll timeout.
type netlinkSource struct {
	fd, wake int
	closed   atomic.Bool
	inUse    sync.RWMutex // Receive holds it shared; Close exclusively before closing the fds
	once     sync.Once
}

func openNetlink(rcvbuf int) (*netlinkSource, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// SO_RCVBUFFORCE lifts the rmem_max cap for root; others get what
	// SO_RCVBUF allows.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	return &netlinkSource{fd: fd, wake: wake}, nil
}

// signal wakes a blocked Receive. It runs from context.AfterFunc, possibly
// after Close: the shared lock and the closed flag keep it from writing to a
// closed (and perhaps reused) descriptor number.
func (s *netlinkSource) signal() {
	s.inUse.RLock()
	defer s.inUse.RUnlock()
	if !s.closed.Load() {
		s.poke()
	}
}

func (s *netlinkSource) poke() {
	one := [8]byte{1}
	_, _ = unix.Write(s.wake, one[:])
}

func (s *netlinkSource) drain() {
	var b [8]byte
	_, _ = unix.Read(s.wake, b[:])
}

func (s *netlinkSource) Receive(ctx context.Context, buf []byte) (int, error) {
	s.inUse.RLock()
	defer s.inUse.RUnlock()
	if s.closed.Load() {
		return 0, ErrClosed
	}
	stop := context.AfterFunc(ctx, s.signal)
	defer stop()
	for {
		if s.closed.Load() {
			return 0, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			s.drain() // the wake-up was ours; leave the eventfd clear for the next call
			return 0, err
		}
		n, from, err := unix.Recvfrom(s.fd, buf, 0)
		switch {
		case err == nil:
			// Only the kernel (port id 0) may speak on this group; anything
			// else is a forgery.
			if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
				continue
			}
			return n, nil
		case err == unix.ENOBUFS:
			return 0, ErrOverrun
		case err == unix.EINTR:
			continue
		case err != unix.EAGAIN:
			return 0, os.NewSyscallError("recvfrom", err)
		}
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}, {Fd: int32(s.wake), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return 0, os.NewSyscallError("poll", err)
		}
		if fds[1].Revents&unix.POLLIN != 0 && !s.closed.Load() && ctx.Err() == nil {
			s.drain() // a stale wake-up from an earlier, cancelled call
		}
	}
}

func (s *netlinkSource) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		s.poke()
		s.inUse.Lock() // wait for a Receive in progress to notice
		defer s.inUse.Unlock()
		err = errors.Join(unix.Close(s.fd), unix.Close(s.wake))
	})
	return err
}
