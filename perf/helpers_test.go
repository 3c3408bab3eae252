package perf

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// genDiskstats builds an n-device /proc/diskstats page in the 20-field
// format, with realistic column widths.
func genDiskstats(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%4d %7d sd%s %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d\n",
			8+i/16*57, i%16*16, devSuffix(i),
			123456+i, 2345+i, 98765432+i, 45678+i, 234567+i, 34567+i, 87654321+i, 567890+i,
			i%3, 345678+i, 1234567+i, 4567+i, 56+i, 7654321+i, 890+i, 12345+i, 678+i)
	}
	return []byte(b.String())
}

func devSuffix(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i = i/26 - 1
		if i < 0 {
			return s
		}
	}
}

func runStdin(stdin io.Reader, name string, args ...string) ([]byte, error) {
	p, err := testenv.LookTool(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(p, args...)
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}
