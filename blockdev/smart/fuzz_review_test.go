package smart

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sgio"
)

func FuzzParseNVMeNamespace(f *testing.F) {
	p := make([]byte, 4096)
	binary.LittleEndian.PutUint64(p, 2097152)
	p[26] = 0
	p[128+2] = 9
	f.Add(p[:200], uint8(0))
	f.Add(p[:200], uint8(0x6f)) // format index 63 through the NVMe 2.0 upper bits
	f.Fuzz(func(t *testing.T, b []byte, flbas uint8) {
		page := make([]byte, 4096)
		copy(page, b)
		page[26] = flbas
		ns, err := ParseNVMeNamespace(1, page)
		if err == nil && (ns.BlockSize < 512 || ns.BlockSize&(ns.BlockSize-1) != 0) {
			t.Fatalf("block size %d", ns.BlockSize)
		}
		_, _ = ParseNVMeNamespace(1, b)
	})
}

// Whatever the kernel writes back, interpret never panics, never calls a
// command whose registers carry ATA ERR a success, never passes a short
// data-in transfer, and every failure matches one of the sentinels.
func FuzzInterpret(f *testing.F) {
	f.Add(uint8(2), uint16(0), uint16(8), int32(0), []byte{0x72, 0x01, 0x00, 0x1d, 0, 0, 0, 14,
		0x09, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0x4f, 0, 0xc2, 0, 0x50}, false)
	f.Add(uint8(2), uint16(0), uint16(8), int32(0), []byte{0xf0, 0, 0x0b, 0x04, 0x51, 0x40, 0x00, 10, 0, 0, 0x4f, 0xc2, 0x00, 0x00, 0, 0, 0, 0}, true)
	f.Add(uint8(0), uint16(3), uint16(0), int32(0), []byte(nil), true)
	f.Add(uint8(0), uint16(0), uint16(0), int32(12), []byte(nil), true)
	f.Fuzz(func(t *testing.T, status uint8, host, driver uint16, resid int32, sense []byte, dataIn bool) {
		res := sgio.Result{Status: status, HostStatus: host, DriverStatus: driver, Resid: resid, Sense: sense}
		if status != 0 || host != 0 || driver != 0 {
			res.Info = 1
		}
		regs, err := interpret(res, dataIn)
		if err != nil {
			if regs != nil {
				t.Fatal("registers returned with an error")
			}
			matched := false
			for _, s := range []error{ErrNotSupported, ErrTimeout, ErrDevice} {
				matched = matched || errors.Is(err, s)
			}
			if !matched {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if regs != nil && regs.Status&0x01 != 0 {
			t.Fatalf("success with ATA ERR set: %+v", regs)
		}
		if dataIn && resid > 0 {
			t.Fatalf("short transfer of %d bytes passed", resid)
		}
		if host != 0 || (driver&0xf != 0 && driver&0xf != 0x08) {
			t.Fatalf("host status 0x%x driver status 0x%x passed", host, driver)
		}
	})
}
