package uevent_test

import (
	"context"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/uevent"
)

func ExampleParse() {
	msg := []byte("add@/devices/virtual/block/loop0/loop0p1\x00ACTION=add\x00DEVPATH=/devices/virtual/block/loop0/loop0p1\x00" +
		"SUBSYSTEM=block\x00MAJOR=259\x00MINOR=0\x00DEVNAME=loop0p1\x00DEVTYPE=partition\x00PARTN=1\x00SEQNUM=1305\x00")
	e, err := uevent.Parse(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Action, e.DevName, e.DevType, e.MajMin(), e.Env["PARTN"])
	// Output: add loop0p1 partition 259:0 1
}

// A Conn over a FakeSource, as a consumer's unit test would build it.
func ExampleNewConn() {
	src := uevent.NewFakeSource()
	c, _ := uevent.NewConn(src, uevent.WithSubsystem("block"))
	defer c.Close()
	src.SendEvent(uevent.Event{Action: uevent.ActionAdd, DevPath: "/devices/virtual/net/lo", Env: map[string]string{"SUBSYSTEM": "net"}})
	src.SendEvent(uevent.Event{Action: uevent.ActionChange, DevPath: "/devices/virtual/block/loop3",
		Env: map[string]string{"SUBSYSTEM": "block", "DEVNAME": "loop3", "MAJOR": "7", "MINOR": "3"}})
	e, err := c.Next(context.Background())
	fmt.Println(e.Action, e.DevName, e.MajMin(), err)
	// Output: change loop3 7:3 <nil>
}
