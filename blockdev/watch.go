package blockdev

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"sync"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/uevent"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// Event is one change to the block devices of the system, with the graph as
// it is after the change.
type Event struct {
	// Action is the kernel's: add, remove, change (a loop device attached or
	// detached, media inserted, a resize), move, online, offline.
	Action uevent.Action
	MajMin MajMin
	KName  string
	// Device is the device after the event; nil after a remove, and nil
	// after a change that leaves the device out of the graph under the
	// options given (emptied, with WithEmpty(false); a loop device
	// detached, with WithDetachedLoops(false)). Action stays the kernel's.
	Device *Device
	// Graph is a snapshot with the event applied. Snapshots are never
	// modified afterwards; each event brings a new one.
	Graph *Graph
	// Resync is true when the kernel dropped events (socket overrun) and
	// Graph is a fresh discovery rather than an incremental update.
	Resync bool
	// Raw is the kernel's event.
	Raw uevent.Event
}

// Watcher delivers block device events and keeps a Graph up to date.
type Watcher struct {
	events chan Event
	cancel context.CancelFunc
	conn   *uevent.Conn
	done   chan struct{}

	mu    sync.Mutex
	graph *Graph
	err   error
}

// WithEventSource makes Watch read events from src instead of the kernel's
// uevent socket: a uevent.FakeSource in tests.
func WithEventSource(src uevent.Source) Option {
	return func(c *config) error {
		if src == nil {
			return fmt.Errorf("%w: nil event source", ErrInvalidOption)
		}
		c.eventSrc = src
		return nil
	}
}

// Watch discovers the devices, then follows the kernel's block uevents:
// each add, change or remove re-reads only the disk it concerns (and its
// partitions) into a new Graph snapshot and delivers an Event. When the
// kernel drops events the whole graph is discovered again (Event.Resync).
//
// The socket is opened before the first discovery, so no change between the
// two is lost. Events stop, and the channel closes, when ctx is done or
// Close is called. A slow reader holds the watcher back; the kernel then
// drops events and the next Event is a resync.
func Watch(ctx context.Context, opts ...Option) (*Watcher, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	var conn *uevent.Conn
	if cfg.eventSrc != nil {
		conn, err = uevent.NewConn(cfg.eventSrc, uevent.WithSubsystem("block"), uevent.WithLogger(cfg.log))
	} else {
		conn, err = uevent.Listen(ctx, uevent.WithSubsystem("block"), uevent.WithLogger(cfg.log))
	}
	if err != nil {
		return nil, fmt.Errorf("blockdev: watch: %w", err)
	}
	g, err := Discover(ctx, opts...)
	if err != nil {
		conn.Close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	w := &Watcher{events: make(chan Event, 16), cancel: cancel, conn: conn, done: make(chan struct{}), graph: g}
	go w.run(wctx, cfg, opts)
	return w, nil
}

// Events delivers the events; it is closed when the watcher stops.
func (w *Watcher) Events() <-chan Event { return w.events }

// Graph returns the latest snapshot.
func (w *Watcher) Graph() *Graph {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.graph
}

// Close stops the watcher, waits for its goroutine to end and returns the
// error that stopped it, if any other than Close or the context.
func (w *Watcher) Close() error {
	w.cancel()
	w.conn.Close()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Watcher) run(ctx context.Context, cfg *config, opts []Option) {
	defer close(w.done)
	defer close(w.events)
	for {
		raw, err := w.conn.Next(ctx)
		var ev Event
		switch {
		case errors.Is(err, uevent.ErrOverrun):
			g, derr := Discover(ctx, opts...)
			if derr != nil {
				w.stop(ctx, derr)
				return
			}
			ev = Event{Graph: g, Resync: true}
		case err != nil:
			w.stop(ctx, err)
			return
		default:
			ev = w.apply(ctx, cfg, raw)
		}
		w.mu.Lock()
		w.graph = ev.Graph
		w.mu.Unlock()
		select {
		case w.events <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// stop records why the watcher ended, unless it was asked to.
func (w *Watcher) stop(ctx context.Context, err error) {
	if ctx.Err() != nil || errors.Is(err, uevent.ErrClosed) {
		return
	}
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

// apply turns one uevent into a new snapshot.
func (w *Watcher) apply(ctx context.Context, cfg *config, raw uevent.Event) Event {
	old := w.Graph()
	g := old.clone()
	ev := Event{Action: raw.Action, KName: raw.DevName, Raw: raw, Graph: g}
	if ev.KName == "" {
		ev.KName = path.Base(raw.DevPath)
	}
	if raw.HasDevNum {
		ev.MajMin = MajMin{raw.Major, raw.Minor}
	} else if d, ok := old.ByName(ev.KName); ok {
		ev.MajMin = d.MajMin
	}
	if raw.Action == uevent.ActionRemove {
		g.remove(ev.MajMin)
		g.reorder()
		return ev
	}
	// Re-read the whole disk the event concerns: a partition's disk, or the
	// disk itself, with all its partitions.
	disk := path.Base(raw.DevPath)
	if raw.DevType == "partition" {
		disk = path.Base(path.Dir(raw.DevPath))
	}
	block, err := sysfs.OpenDir(cfg.root.Sys("block"))
	if err != nil {
		// Nothing could be re-read: keep the disk as it was rather than
		// drop it, which would report a remove the kernel never sent.
		g.addErr(ErrNoDevices, fmt.Errorf("%w: %w", ErrNoDevices, err))
		ev.Device, _ = g.Device(ev.MajMin)
		return ev
	}
	defer block.Close()
	if d, ok := old.ByName(disk); ok {
		g.remove(d.MajMin)
		for _, c := range old.Children(d) {
			if c.Type == TypePart {
				g.remove(c.MajMin)
			}
		}
	}
	x := &discovery{cfg: cfg, root: cfg.root, g: g, fresh: map[MajMin]bool{},
		parts: map[MajMin][]MajMin{}, holders: map[MajMin][]string{}, slaves: map[MajMin][]string{}}
	x.disk(ctx, block, disk)
	x.stack()
	x.nodeNames()
	x.mounts()
	x.swaps()
	if cfg.udev {
		x.udev()
	}
	if cfg.root.IsLive() {
		x.usage()
	}
	if cfg.probing() {
		_ = x.probeAll(ctx) // a cancelled probe leaves ProbeErr on the device
	}
	x.tables()
	ev.Device, _ = g.Device(ev.MajMin)
	return ev
}

// clone copies the graph's indexes; devices are shared, and never modified
// once published.
func (g *Graph) clone() *Graph {
	c := &Graph{
		devs:     maps.Clone(g.devs),
		byName:   maps.Clone(g.byName),
		byPath:   maps.Clone(g.byPath),
		order:    slices.Clone(g.order),
		children: make(map[MajMin][]MajMin, len(g.children)),
		parents:  make(map[MajMin][]MajMin, len(g.parents)),
		// Devices read under a failed table keep what they were read
		// with, so the failure stays with every later snapshot (until a
		// resync discovers everything again).
		errs: slices.Clone(g.errs),
	}
	for k, v := range g.children {
		c.children[k] = slices.Clone(v)
	}
	for k, v := range g.parents {
		c.parents[k] = slices.Clone(v)
	}
	return c
}

// remove deletes a device and every edge to it.
func (g *Graph) remove(m MajMin) {
	d, ok := g.devs[m]
	if !ok {
		return
	}
	delete(g.devs, m)
	for _, n := range []string{d.KName, d.Name} {
		if g.byName[n] == d {
			delete(g.byName, n)
		}
	}
	if g.byPath[d.Path] == d {
		delete(g.byPath, d.Path)
	}
	for _, p := range g.parents[m] {
		g.children[p] = slices.DeleteFunc(g.children[p], func(x MajMin) bool { return x == m })
	}
	for _, c := range g.children[m] {
		g.parents[c] = slices.DeleteFunc(g.parents[c], func(x MajMin) bool { return x == m })
	}
	delete(g.parents, m)
	delete(g.children, m)
}
