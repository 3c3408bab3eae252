package perf

import (
	"context"
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
