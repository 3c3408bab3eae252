package latency

import "fmt"

// Op is the kind of a block request, grouped as diskstats groups them.
type Op uint8

const (
	Read    Op = iota + 1 // REQ_OP_READ
	Write                 // REQ_OP_WRITE, WRITE_ZEROES, ZONE_APPEND
	Discard               // REQ_OP_DISCARD, SECURE_ERASE
	Flush                 // REQ_OP_FLUSH (the block layer's flush request)
	Other                 // zone management, driver-private (passthrough) requests
)

// Ops lists every Op in order.
var Ops = []Op{Read, Write, Discard, Flush, Other}

func (o Op) String() string {
	switch o {
	case Read:
		return "read"
	case Write:
		return "write"
	case Discard:
		return "discard"
	case Flush:
		return "flush"
	case Other:
		return "other"
	}
	return fmt.Sprintf("op(%d)", int(o))
}

// Stage is the part of a request's life a histogram measures.
type Stage uint8

const (
	// Device is issue to completion: from the block layer handing the
	// request to the driver (block_rq_issue) to its completion
	// (block_rq_complete). This is what biolatency reports.
	Device Stage = iota + 1
	// Queue is allocation to issue: from the request's creation, when the
	// block layer gave it a tag, to its issue (plugging, I/O scheduler,
	// requeues). Known only where the kernel stamps requests at creation.
	Queue
	// Total is allocation to completion, Queue + Device of each request:
	// the time diskstats' await averages.
	Total
)

// Stages lists every Stage in order.
var Stages = []Stage{Device, Queue, Total}

func (s Stage) String() string {
	switch s {
	case Device:
		return "device"
	case Queue:
		return "queue"
	case Total:
		return "total"
	}
	return fmt.Sprintf("stage(%d)", int(s))
}

// Series is the histogram of one stage of one operation on one device.
type Series struct {
	Device       string // the kernel's name (sda, nvme0n1, loop3)
	Major, Minor uint32
	Op           Op
	Stage        Stage
	Hist         *Histogram
	// Errors counts the requests of this device and op that completed
	// with an error (the same number in each stage's series).
	Errors uint64
}

// Source is anything that keeps cumulative latency histograms: counts only
// grow until the source restarts a device's histograms (a device that
// vanished, or another device behind the same number).
type Source interface {
	// LatencySeries returns the histograms as of the source's latest
	// reading. The caller must not modify them; they are replaced, not
	// changed, by the next reading.
	LatencySeries() []Series
}
