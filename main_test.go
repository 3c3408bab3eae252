package storage

import (
	"testing"

	"go.uber.org/goleak"
)

// Inventory and Apply start goroutines (the readers, SMART per drive, the
// scheduler's workers): none may outlive a test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
