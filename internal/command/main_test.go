package command

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv makes the test binary, re-executed as a tool, run helperMain
// instead of the tests: the tool is os.Args[1], its arguments the rest.
const helperEnv = "EOS_COMMAND_HELPER=1"

func TestMain(m *testing.M) {
	if os.Getenv("EOS_COMMAND_HELPER") == "1" {
		os.Exit(helperMain(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

// helper returns a Cmd that runs the test binary as a tool in mode.
func helper(t testing.TB, mode string, args ...string) Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Cmd{Tool: exe, Args: append([]string{mode}, args...), Env: []string{helperEnv}}
}

func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no mode")
		return 100
	}
	mode, args := args[0], args[1:]
	switch mode {
	case "echo": // echo STDOUT STDERR CODE
		fmt.Fprintln(os.Stdout, args[0])
		fmt.Fprintln(os.Stderr, args[1])
		code, _ := strconv.Atoi(args[2])
		return code
	case "env":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
		return 0
	case "stdin":
		io.Copy(os.Stdout, os.Stdin)
		return 0
	case "spawn", "spawn-exit", "escape":
		// A grandchild `sleep 60` in the tool's process group (spawn,
		// spawn-exit) or in a session of its own holding our stdout
		// (escape). spawn then waits to be killed; the others exit.
		gc := exec.Command("sleep", "60")
		gc.Stdout = os.Stdout
		if mode == "escape" {
			gc.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		}
		if err := gc.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 101
		}
		fmt.Printf("grandchild %d\n", gc.Process.Pid)
		if mode == "spawn" {
			time.Sleep(60 * time.Second)
		}
		return 0
	case "progress": // progress STREAM GOFILE: waits for GOFILE after the first line
		var w io.Writer = os.Stdout
		switch args[0] {
		case "stderr":
			w = os.Stderr
		case "fd3":
			w = os.NewFile(3, "fd3")
		}
		fmt.Fprint(w, "10%\r")
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(args[1]); err == nil {
				break
			}
			if time.Now().After(deadline) {
				fmt.Fprintln(os.Stderr, "helper: the first line was never reported")
				return 102
			}
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprint(w, "20%\r30%\r\ndone\nno newline")
		return 0
	case "big": // big N: N bytes of pattern on stdout
		n, _ := strconv.Atoi(args[0])
		os.Stdout.Write(pattern(n))
		fmt.Fprintln(os.Stderr, "tail")
		return 0
	case "flood": // 200 KiB of stderr, then the reason, exit 1
		line := bytes.Repeat([]byte("x"), 1023)
		for i := 0; i < 200; i++ {
			os.Stderr.Write(append(line, '\n'))
		}
		fmt.Fprintln(os.Stderr, "flood: the first reason")
		fmt.Fprintln(os.Stderr, "flood: the real reason")
		return 1
	case "binary": // bytes that are not UTF-8, with progress on stdout, exit 2
		os.Stdout.Write([]byte{0xff, 0xfe, 0, 'a', '\r', 'b', '\n', 0x80})
		os.Stderr.Write([]byte("warn: <&>\r\n"))
		return 2
	case "counter": // counter FILE: print and bump a number kept in FILE
		b, _ := os.ReadFile(args[0])
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		n++
		os.WriteFile(args[0], []byte(strconv.Itoa(n)), 0o644)
		fmt.Printf("call %d\n", n)
		return 0
	case "term": // dies by SIGTERM
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		time.Sleep(10 * time.Second)
		return 103
	}
	fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
	return 100
}

// pattern is n deterministic bytes that are not all one value.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>13)
	}
	return b
}
