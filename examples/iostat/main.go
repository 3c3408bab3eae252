package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "iostat: %v\n%s", err, usage)
		return 1
	}
	if err := report(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "iostat: %v\n", err)
		return 1
	}
	return 0
}

const usage = "Usage: iostat [ -c ] [ -d ] [ -k | -m ] [ -x ] [ -y ] [ -z ] [ -o JSON ] [ -p [ <device> [,...] | ALL ] ] [ --root DIR ] [ --latency ] [ <device> [...] ] [ <interval> [ <count> ] ]\n"
