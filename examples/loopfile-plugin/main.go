// Command loopfile-plugin serves the loopfile backend (volumes as sparse
// files under a directory, attached as loop devices) as an external
// backend: a host loads it with external.Open, or examples/volumes with
//
//	volumes --plugin /path/to/loopfile-plugin --plugin-arg --dir=/srv/vols list
//
// It is an example of an out-of-tree backend's whole main: construct the
// backend, hand it to external.Serve. Run by hand it says it is a plugin
// and exits 1. Attaching loop devices needs root.
//
//	loopfile-plugin [--dir DIR] [--pool NAME] [--debug]
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/external"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin/loopfile"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("loopfile-plugin", flag.ContinueOnError)
	dir := fs.String("dir", "/var/lib/eos-storage/loopfile", "directory holding the volume files")
	pool := fs.String("pool", "default", "the pool's name")
	debug := fs.Bool("debug", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	// stderr is read by the host: these records land in its logger.
	log := external.NewPluginLogger(os.Stderr, level)
	b, err := loopfile.New(*dir, loopfile.WithPoolName(*pool), loopfile.WithLogger(log))
	if err != nil {
		log.Error("loopfile backend", "dir", *dir, "error", err)
		return 1
	}
	if err := external.Serve(b, external.ServeLogger(log)); err != nil {
		fmt.Fprintln(os.Stderr, "loopfile-plugin:", err)
		return 1
	}
	return 0
}
