package command

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// recordEnv re-records testdata/example from real runs of e2fsprogs:
//
//	EOS_COMMAND_RECORD=1 go test -run TestRecordExample ./internal/command/
const recordEnv = "EOS_COMMAND_RECORD"

// exampleCmds are the runs Example replays. Paths are relative to a scratch
// directory (Cmd.Dir), so the fixtures name no temporary path.
var exampleCmds = []Cmd{
	{Tool: "mkfs.ext4", Args: []string{"-q", "-F", "-b", "4096", "-L", "data", "-U", "6b1c7d4e-2f0a-4c1e-9d3b-5a7e8f901234", "disk.img", "8M"}},
	{Tool: "e2fsck", Args: []string{"-n", "-f", "disk.img"}},
	{Tool: "e2fsck", Args: []string{"-n", "-f", "notext4.img"}},
}

func TestRecordExample(t *testing.T) {
	if os.Getenv(recordEnv) != "1" {
		t.Skipf("set %s=1 to re-record testdata/example", recordEnv)
	}
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck")
	out := filepath.Join("testdata", "example")
	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	if err := os.WriteFile(filepath.Join(scratch, "notext4.img"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	x := newExec(t, WithRecorder(out))
	for _, c := range exampleCmds {
		c.Dir = scratch
		_, err := x.Run(context.Background(), c)
		var xe *ExitError
		if err != nil && !errors.As(err, &xe) {
			t.Fatal(err)
		}
		t.Logf("%s: %v", c, err)
	}
}
