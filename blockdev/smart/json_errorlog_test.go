package smart

import (
	"encoding/json"
	"testing"
)

// nvme_error_information_log.read is how many entries were read; Read
// fetches at most maxErrorLogEntries of a log that may hold 256, so a
// "read" equal to the size claimed entries nobody looked at.
func TestJSONNVMeErrorLogReadCount(t *testing.T) {
	for _, c := range []struct{ size, read int }{{4, 4}, {64, 64}, {256, maxErrorLogEntries}} {
		r := &Report{NVMe: &NVMeData{Identity: &NVMeIdentity{ErrorLogEntries: c.size}, ErrorLog: []NVMeErrorEntry{}}}
		b, err := MarshalSmartctlJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Log struct{ Size, Read int } `json:"nvme_error_information_log"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Log.Size != c.size || m.Log.Read != c.read {
			t.Errorf("ELPE+1 = %d: size %d read %d, want %d %d", c.size, m.Log.Size, m.Log.Read, c.size, c.read)
		}
	}
}
