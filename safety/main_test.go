package safety

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	if os.Getenv(recoverChildEnv) != "" {
		os.Exit(recoverChild())
	}
	if os.Getenv(holdChildEnv) != "" {
		os.Exit(holdChild())
	}
	goleak.VerifyTestMain(m)
}
