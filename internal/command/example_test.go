package command_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// formatAndCheck is code under test: it takes a Runner, so production gives
// it a *command.Exec and its tests a *command.Replayer.
func formatAndCheck(ctx context.Context, r command.Runner, image string) (string, error) {
	if _, err := r.Run(ctx, command.Cmd{Tool: "mkfs.ext4", Args: []string{"-q", "-F", "-b", "4096", "-L", "data",
		"-U", "6b1c7d4e-2f0a-4c1e-9d3b-5a7e8f901234", image, "8M"}}); err != nil {
		return "", err
	}
	return check(ctx, r, image)
}

// check runs e2fsck read-only and returns its summary line.
func check(ctx context.Context, r command.Runner, image string) (string, error) {
	res, err := r.Run(ctx, command.Cmd{Tool: "e2fsck", Args: []string{"-n", "-f", image}})
	if err != nil {
		return "", err
	}
	out := strings.TrimSpace(string(res.Stdout))
	return out[strings.LastIndexByte(out, '\n')+1:], nil
}

// Replaying fixtures recorded from real runs of e2fsprogs (testdata/example;
// TestRecordExample re-records them). A failing tool comes back as the same
// *ExitError a real run gives, and Verify says whether every recorded
// command was run.
func Example() {
	rep, err := command.ReplayDir("testdata/example")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	summary, err := formatAndCheck(ctx, rep, "disk.img")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(summary)

	_, err = check(ctx, rep, "notext4.img")
	var xe *command.ExitError
	if errors.As(err, &xe) {
		fmt.Println("e2fsck exit status", xe.Code)
		fmt.Println(err)
	}

	_, err = check(ctx, rep, "other.img")
	fmt.Println(errors.Is(err, command.ErrUnexpectedCommand))

	fmt.Println("all fixtures used:", rep.Verify() == nil)
	// Output:
	// data: 11/2048 files (9.1% non-contiguous), 1162/2048 blocks
	// e2fsck exit status 8
	// e2fsck -n -f notext4.img: exit status 8: e2fsck 1.47.0 (5-Feb-2023); e2fsck: Bad magic number in super-block while trying to open notext4.img
	// true
	// all fixtures used: true
}
