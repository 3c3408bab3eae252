package perf

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Subscribers that come and go while the Monitor samples, and a Stop that
// races them: no send on a closed channel, no callback after its cancel
// returned and Stop returned, and (TestMain's goleak) no goroutine left.
func TestMonitorSubscribersChurnWhileSampling(t *testing.T) {
	m, err := NewMonitor(WithInterval(MinInterval), WithCollectors(constCollector{}),
		WithSinks(SinkFunc(func(context.Context, *Snapshot) error { return nil })))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var afterStop atomic.Bool
	var lateCalls atomic.Int32
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				ch, cancel := m.Subscribe(1 + i%3)
				stopCB := m.OnSnapshot(func(*Snapshot) {
					if afterStop.Load() {
						lateCalls.Add(1)
					}
				})
				select {
				case <-ch:
				case <-time.After(20 * time.Millisecond):
				}
				cancel()
				cancel() // twice is harmless
				stopCB()
				for range ch { // closed by cancel
				}
			}
		}()
	}
	// Stop while the churn is still going on.
	time.Sleep(250 * time.Millisecond)
	m.Stop()
	afterStop.Store(true)
	wg.Wait()
	// Subscribing after Stop gives a closed channel, never a hang.
	ch, cancel := m.Subscribe(1)
	if _, ok := <-ch; ok {
		t.Fatal("snapshot after stop")
	}
	cancel()
	m.OnSnapshot(func(*Snapshot) { lateCalls.Add(1) })()
	time.Sleep(50 * time.Millisecond)
	if n := lateCalls.Load(); n != 0 {
		t.Fatalf("%d callbacks ran after Stop returned", n)
	}
}

// Start and Stop raced from several goroutines: exactly one Start wins, the
// others get ErrRunning or ErrClosed; every Stop returns only once the
// Monitor is done; nothing is left running.
func TestMonitorStartStopRace(t *testing.T) {
	for round := 0; round < 5; round++ {
		m, err := NewMonitor(WithInterval(MinInterval), WithCollectors(constCollector{}))
		if err != nil {
			t.Fatal(err)
		}
		ch, _ := m.Subscribe(1)
		var started atomic.Int32
		var wg sync.WaitGroup
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if g%2 == 0 {
					switch err := m.Start(context.Background()); {
					case err == nil:
						started.Add(1)
					case errors.Is(err, ErrRunning), errors.Is(err, ErrClosed):
					default:
						t.Errorf("start: %v", err)
					}
					return
				}
				m.Stop()
				// After Stop returns the channel is closed (possibly after
				// snapshots still buffered).
				select {
				case <-time.After(5 * time.Second):
					t.Error("Stop returned before the subscriber channel was closed")
				case _, ok := <-ch:
					for ok {
						_, ok = <-ch
					}
				}
			}()
		}
		wg.Wait()
		if n := started.Load(); n > 1 {
			t.Fatalf("%d Starts succeeded", n)
		}
		m.Stop()
	}
}
