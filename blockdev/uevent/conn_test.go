package uevent

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConnFakeFilters(t *testing.T) {
	src := NewFakeSource()
	c, err := NewConn(src, WithSubsystem("block"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src.Send([]byte("garbage"))
	src.SendEvent(Event{Action: ActionAdd, DevPath: "/devices/net/eth0", Env: map[string]string{"SUBSYSTEM": "net"}})
	src.Send(udevMsg("ACTION=add\x00DEVPATH=/devices/virtual/block/loop9\x00SUBSYSTEM=block\x00"))
	src.SendEvent(Event{Action: ActionAdd, DevPath: "/devices/virtual/block/loop1", Env: map[string]string{"SUBSYSTEM": "block", "MAJOR": "7", "MINOR": "1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := c.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e.DevPath != "/devices/virtual/block/loop1" || e.MajMin() != "7:1" {
		t.Errorf("got %+v; the net event, garbage and udev message should be skipped", e)
	}
}

func TestConnFakeUdevKept(t *testing.T) {
	src := NewFakeSource()
	c, err := NewConn(src, WithUdevMessages())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src.Send(udevMsg("ACTION=add\x00DEVPATH=/devices/virtual/block/loop9\x00SUBSYSTEM=block\x00"))
	e, err := c.Next(context.Background())
	if err != nil || !e.FromUdev {
		t.Errorf("got %+v %v", e, err)
	}
}

func TestConnFakeCancelAndClose(t *testing.T) {
	src := NewFakeSource()
	c, err := NewConn(src)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if _, err := c.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: %v", err)
	}
	done := make(chan error)
	go func() { _, err := c.Next(context.Background()); done <- err }()
	time.Sleep(10 * time.Millisecond)
	c.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("close: %v", err)
	}
	if src.Send([]byte("x")) {
		t.Error("Send after Close succeeded")
	}
}

func TestOptions(t *testing.T) {
	src := NewFakeSource()
	defer src.Close()
	for _, o := range []Option{WithSubsystem(), WithSubsystem(""), WithReceiveBuffer(10)} {
		if _, err := NewConn(src, o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("option accepted: %v", err)
		}
	}
	if _, err := NewConn(nil); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("nil source: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Listen(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Listen with done ctx: %v", err)
	}
}
